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
