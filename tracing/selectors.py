"""Reads for tracing: the preview of a trace, its contacts grouped by venue and window, the
workbench's lists."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet

from checkins.models import Alert
from healthcode import regions
from healthcode.models import Colour, HealthCode
from tracing.models import Application, Case, Degree, Trace, TraceAction, TraceContact


@dataclass(frozen=True)
class Preview:
    red: int  # close contacts: would turn red
    yellow: int  # secondary contacts only: would turn yellow
    already_red: int  # of all of them, red now
    people: int


def trace_preview(*, trace: Trace) -> Preview:
    """What applying ``trace`` would do, before anything changes (three queries)."""
    degrees: dict[int, set[str]] = defaultdict(set)
    for resident_id, degree in trace.contacts.values_list("resident_id", "degree"):
        degrees[resident_id].add(degree)
    red = {pk for pk, found in degrees.items() if Degree.CLOSE in found}
    already = HealthCode.objects.filter(resident_id__in=list(degrees), colour=Colour.RED).count()
    return Preview(
        red=len(red), yellow=len(degrees) - len(red), already_red=already, people=len(degrees)
    )


@dataclass(frozen=True)
class Group:
    venue_name: str
    degree: str
    degree_label: str
    contacts: list[TraceContact]

    @property
    def people(self) -> int:
        return len({c.resident_id for c in self.contacts})


def trace_groups(*, trace: Trace) -> list[Group]:
    """The trace's contacts by venue and degree, each window with the person masked (one
    query: residents and venues joined)."""
    groups: dict[tuple[int, str], Group] = {}
    rows = (
        TraceContact.objects.filter(trace=trace)
        .select_related("resident", "venue")
        .order_by("degree", "venue_id", "window_from", "id")
    )
    for row in rows:
        key = (row.venue_id, row.degree)
        if key not in groups:
            groups[key] = Group(row.venue.full_name, row.degree, row.get_degree_display(), [])
        groups[key].contacts.append(row)
    return list(groups.values())


def trace_contacts_for_export(*, trace: Trace) -> QuerySet[TraceContact]:
    return (
        TraceContact.objects.filter(trace=trace)
        .select_related("resident", "venue")
        .order_by("degree", "venue_id", "window_from", "id")
    )


def trace_for(*, public_id) -> Trace | None:
    return (
        Trace.objects.select_related("case__resident", "created_by")
        .filter(public_id=public_id)
        .first()
    )


def case_for(*, public_id) -> Case | None:
    return Case.objects.select_related("resident").filter(public_id=public_id).first()


def open_cases() -> QuerySet[Case]:
    return Case.objects.select_related("resident").order_by("-created_at")[:50]


def recent_traces() -> QuerySet[Trace]:
    return Trace.objects.select_related("case__resident").order_by("-created_at")[:50]


def applications_awaiting(*, user) -> QuerySet[Application]:
    """Pending applications someone else requested: the ones this officer may approve."""
    return (
        Application.objects.filter(status=Application.Status.PENDING)
        .exclude(requested_by=user)
        .select_related("trace__case__resident")
        .order_by("requested_at")
    )


def live_application(*, trace: Trace) -> Application | None:
    return trace.applications.filter(status__in=["pending", "applied"]).first()


def trace_actions(*, trace: Trace) -> QuerySet[TraceAction]:
    return TraceAction.objects.filter(application__trace=trace).select_related(
        "actor", "approved_by"
    )


def unacknowledged_alerts_in(*, region_codes: list[str]) -> int:
    """Alerts about residents of these regions nobody has handled yet."""
    if not region_codes:
        return 0
    covered = regions.covered_q("region_code", region_codes)
    return Alert.objects.filter(covered, acknowledged_at=None).count()
