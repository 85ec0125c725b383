"""The one way into the audit trail. Every app records its sensitive reads and status
changes here; nothing else writes ``AuditEvent``, and nothing changes one once written.

Reads of a person (a scan at a door, a device's verify, 老幼助查, 帮扫, an officer's page)
are ``audit_lookup``; bulk paths (a trace's contacts, a recompute's chunk) build events with
``audit_event`` and write them with ``audit_many``, one INSERT. ``detail`` holds primary keys
and codes; an ID number is only ever kept masked (``subject_masked_id``)."""

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone

from audit.models import ActorRole, AuditEvent, AuditKind
from healthcode import masking
from healthcode.models import Resident

# Reads whose action names the role the actor looked in. The door's paths are among them, so
# their event costs no query to find the role: the door's query counts are pinned, and the
# audit INSERT replaces what was the lookup INSERT one for one.
ACTION_ROLES = {
    "inspector_scan": ActorRole.INSPECTOR,
    "inspector_confirm": ActorRole.INSPECTOR,
    "inspector_manual": ActorRole.INSPECTOR,
    "device": ActorRole.MACHINE,
    "proxy_scan": ActorRole.RESIDENT,  # the helper: a relative, venue staff or a passer-by
    "family": ActorRole.RESIDENT,  # the holder of a 代办 binding
    "api_verify": ActorRole.STAFF,  # the verify API is the admin staff's (IsAdminUser)
    "officer_trace": ActorRole.OFFICER,
    "officer_case_view": ActorRole.OFFICER,
    "officer_trace_view": ActorRole.OFFICER,
    "officer_export": ActorRole.OFFICER,
    "venue_export": ActorRole.VENUE_ADMIN,
    "venue_checkins_view": ActorRole.VENUE_ADMIN,
    "grid_alerts_view": ActorRole.GRID_WORKER,
}


def role_of(user) -> str:
    """The role a user acted in, from what the account is (most powerful first); one query
    for anyone but a superuser."""
    if user is None:
        return ActorRole.SYSTEM
    if getattr(user, "is_superuser", False):
        return ActorRole.STAFF
    holds = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .aggregate(
            officer=Count("health_officer", distinct=True),
            venue=Count("administered_venue", distinct=True),
            inspects=Count("inspected_venues", distinct=True),
            grid=Count("grid_worker", distinct=True),
        )
    )
    if holds["officer"]:
        return ActorRole.OFFICER
    if getattr(user, "is_staff", False):
        return ActorRole.STAFF
    if holds["venue"]:
        return ActorRole.VENUE_ADMIN
    if holds["inspects"]:
        return ActorRole.INSPECTOR
    if holds["grid"]:
        return ActorRole.GRID_WORKER
    return ActorRole.RESIDENT


def audit_event(
    *,
    kind: str,
    action: str,
    subject=None,
    subject_id: int | None = None,
    actor=None,
    actor_id: int | None = None,
    machine: str = "",
    role: str = "",
    venue_name: str = "",
    reason: str = "",
    detail: dict | None = None,
    subject_masked_id: str = "",
    at=None,
) -> AuditEvent:
    """An unsaved event, for ``audit_many``. ``subject_id`` / ``actor_id`` stand for the
    objects on bulk paths that hold only keys; without ``role``: a machine's, the action's
    (``ACTION_ROLES``), or what the actor's account is (``role_of``)."""
    if not role and machine and actor is None and actor_id is None:
        role = ActorRole.MACHINE
    role = role or ACTION_ROLES.get(action) or role_of(actor)
    fields = dict(
        kind=kind,
        action=action,
        machine=machine[:100],
        role=role,
        subject_masked_id=subject_masked_id,
        venue_name=venue_name[:100],
        reason=str(reason)[:500],
        detail=detail or {},
    )
    fields.update({"subject": subject} if subject is not None else {"subject_id": subject_id})
    fields.update({"actor": actor} if actor is not None else {"actor_id": actor_id})
    if at is not None:
        fields["at"] = at
    return AuditEvent(**fields)


def audit_many(events: Iterable[AuditEvent]) -> None:
    """Write many events built with ``audit_event`` in one INSERT (bulk paths: a trace
    applied to hundreds, a recompute of a chunk). No events, no query."""
    AuditEvent.objects.bulk_create(list(events), batch_size=2000)


def audit_read(*, action: str, **fields) -> AuditEvent:
    """Record that someone (``actor`` or ``machine``) read a person's code or identity, or a
    list of people (an export: no subject, ``detail`` says what and how many rows)."""
    event = audit_event(kind=AuditKind.READ, action=action, **fields)
    event.save(force_insert=True)
    return event


def audit_change(*, action: str, **fields) -> AuditEvent:
    """Record a change of status or of a fact behind one (an engine run that changed a colour,
    a flag, a trace applied, an appeal decided, a withdrawal)."""
    event = audit_event(kind=AuditKind.CHANGE, action=action, **fields)
    event.save(force_insert=True)
    return event


def audit_lookup(
    *,
    action: str,
    subject=None,
    id_number: str = "",
    actor=None,
    machine: str = "",
    venue_name: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Someone (``actor``, or a ``machine``) looked up a person, at ``venue_name`` if at a
    venue's door: ``subject``, or, when the name and number typed match nobody (手工登记, an
    ID card a device read, a search), the ``id_number`` kept masked, never in full. Every
    lookup of another person is kept and shown to them as a kind of viewer
    (``AuditEvent.viewer_kind``); ``action`` is the channel (``VIEWER_KINDS``)."""
    if subject is None and not id_number:
        raise ValueError("a lookup names a resident or the ID number looked up")
    return audit_read(
        action=action,
        subject=subject,
        subject_masked_id="" if subject is not None else masking.mask_id_number(id_number),
        actor=actor,
        machine=machine,
        venue_name=venue_name,
        detail=detail,
    )


def audit_lookup_by_identity(*, id_type: str, id_number: str, action: str, actor) -> AuditEvent:
    """A staff member opened a record naming this document (a flag, a sample, a manual
    check-in): a lookup of the resident holding it, or of a masked subject if nobody does."""
    subject = Resident.objects.filter(id_type=id_type, id_number=id_number).first()
    return audit_lookup(action=action, subject=subject, id_number=id_number, actor=actor)


# Pages that list people and reload (a trace while it runs, a grid worker's alerts, a venue's
# check-ins): within this window one viewer's reads of the same person on the same page are
# recorded once — a resident's record lists readers, not refreshes.
READ_ONCE_WINDOW = dt.timedelta(hours=1)


def audit_reads_once(
    *, action: str, actor, subject_ids: Iterable[int], detail: dict, now: dt.datetime | None = None
) -> None:
    """``actor`` was shown these people (masked) on a page named by ``action`` and ``detail``:
    a read of each not already read so within ``READ_ONCE_WINDOW``; one SELECT and one INSERT,
    none for a page that shows nobody."""
    from audit.selectors import read_recently

    wanted = {pk for pk in subject_ids if pk is not None}
    if not wanted:
        return
    now = now or timezone.now()
    already = read_recently(action=action, actor=actor, detail=detail, since=now - READ_ONCE_WINDOW)
    audit_many(
        audit_event(
            kind=AuditKind.READ, action=action, actor=actor, subject_id=pk, detail=detail, at=now
        )
        for pk in sorted(wanted - already)
    )
