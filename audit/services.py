"""The one way into the audit trail. Every app records its sensitive reads and status
changes here; nothing else writes ``AuditEvent``, and nothing changes one once written."""

from collections.abc import Iterable

from audit.models import ActorRole, AuditEvent, AuditKind


def role_of(user) -> str:
    """The role a user acted in, from what the account is (most powerful first)."""
    if user is None:
        return ActorRole.SYSTEM
    if getattr(user, "is_superuser", False):
        return ActorRole.STAFF
    if hasattr(user, "health_officer"):
        return ActorRole.OFFICER
    if getattr(user, "is_staff", False):
        return ActorRole.STAFF
    return ActorRole.RESIDENT


def _event(
    *,
    kind,
    action,
    actor,
    machine,
    role,
    subject,
    subject_masked_id,
    venue_name,
    reason,
    detail,
    at,
) -> AuditEvent:
    if not role:
        role = ActorRole.MACHINE if (machine and actor is None) else role_of(actor)
    fields = dict(
        kind=kind,
        action=action,
        actor=actor,
        machine=machine,
        role=role,
        subject=subject,
        subject_masked_id=subject_masked_id,
        venue_name=venue_name,
        reason=reason[:500],
        detail=detail or {},
    )
    if at is not None:
        fields["at"] = at
    return AuditEvent(**fields)


def audit_read(
    *,
    action: str,
    subject=None,
    actor=None,
    machine: str = "",
    role: str = "",
    subject_masked_id: str = "",
    venue_name: str = "",
    reason: str = "",
    detail: dict | None = None,
    at=None,
) -> AuditEvent:
    """Record that someone (``actor`` or ``machine``) read a person's code or identity."""
    event = _event(
        kind=AuditKind.READ,
        action=action,
        actor=actor,
        machine=machine,
        role=role,
        subject=subject,
        subject_masked_id=subject_masked_id,
        venue_name=venue_name,
        reason=reason,
        detail=detail,
        at=at,
    )
    event.save(force_insert=True)
    return event


def audit_change(
    *,
    action: str,
    subject=None,
    actor=None,
    machine: str = "",
    role: str = "",
    venue_name: str = "",
    reason: str = "",
    detail: dict | None = None,
    at=None,
) -> AuditEvent:
    """Record a change of status or of a fact behind one (an engine run that changed a colour,
    a flag, a trace applied, an appeal decided, a withdrawal)."""
    event = _event(
        kind=AuditKind.CHANGE,
        action=action,
        actor=actor,
        machine=machine,
        role=role,
        subject=subject,
        subject_masked_id="",
        venue_name=venue_name,
        reason=reason,
        detail=detail,
        at=at,
    )
    event.save(force_insert=True)
    return event


def audit_many(events: Iterable[AuditEvent]) -> None:
    """Write many events built with ``audit_event`` in one INSERT (bulk paths: a trace
    applied to hundreds, a recompute of a chunk)."""
    AuditEvent.objects.bulk_create(list(events), batch_size=2000)


def audit_event(
    *,
    kind: str,
    action: str,
    subject=None,
    actor=None,
    machine: str = "",
    role: str = "",
    venue_name: str = "",
    reason: str = "",
    detail=None,
    subject_masked_id: str = "",
    at=None,
) -> AuditEvent:
    """An unsaved event, for ``audit_many``."""
    return _event(
        kind=kind,
        action=action,
        actor=actor,
        machine=machine,
        role=role,
        subject=subject,
        subject_masked_id=subject_masked_id,
        venue_name=venue_name,
        reason=reason,
        detail=detail,
        at=at,
    )
