"""Reads of the audit trail."""

from audit.models import AuditEvent, AuditKind
from healthcode.selectors import RECORD_ROWS


def lookups_of(*, resident) -> list[AuditEvent]:
    """Every recorded read of the resident, newest first: when, the action (a kind of viewer,
    ``AuditEvent.viewer_kind``) and the venue. Changes are not among them (the record's colour
    history is ``HealthCodeChange``'s), and the actor's account is not loaded: it is never
    shown to them (the ``(subject, kind, -at)`` index serves it)."""
    return list(
        AuditEvent.objects.filter(subject=resident, kind=AuditKind.READ)
        .only("action", "venue_name", "at")
        .order_by("-at", "-id")[:RECORD_ROWS]
    )


def read_recently(*, action: str, actor, detail: dict, since) -> set[int]:
    """Whom ``actor`` read under ``action`` (with this detail, e.g. one trace) since
    ``since``: a page that reloads itself (a trace while it runs) records a person once a
    window, not once a reload — a resident's record lists readers, not refreshes."""
    return set(
        AuditEvent.objects.filter(
            kind=AuditKind.READ,
            action=action,
            actor=actor,
            at__gte=since,
            **{f"detail__{key}": value for key, value in detail.items()},
        ).values_list("subject_id", flat=True)
    )
