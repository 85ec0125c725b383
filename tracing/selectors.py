"""Reads for tracing: the preview of a trace, its contacts grouped by venue and window, the
workbench's lists."""

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from checkins.models import Alert, CheckIn
from healthcode import regions
from healthcode.models import Colour, HealthCode
from tracing.models import (
    Application,
    Case,
    ColourCount,
    Degree,
    Trace,
    TraceAction,
    TraceContact,
)


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
    venue_id: int
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
            groups[key] = Group(
                row.venue_id, row.venue.full_name, row.degree, row.get_degree_display(), []
            )
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


# --- Plots ------------------------------------------------------------------------------------
PLOT_DAYS = 14


def checkins_per_hour(
    *, now: dt.datetime, venue_id: int | None = None, region_codes: list[str] | None = None
) -> tuple[dt.datetime, list[int]]:
    """Check-ins per local hour over the last 14 days (336 counts, oldest first) at one venue
    or at the venues of these regions; with the first hour."""
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=PLOT_DAYS) + dt.timedelta(hours=1)
    checkins = CheckIn.objects.filter(checked_in_at__gte=start)
    if venue_id is not None:
        checkins = checkins.filter(venue_id=venue_id)
    elif region_codes is not None:
        checkins = checkins.filter(regions.covered_q("venue__region_code", region_codes))
    rows = (
        checkins.annotate(hour=TruncHour("checked_in_at"))
        .values_list("hour")
        .annotate(n=Count("id"))
    )
    counts = [0] * (PLOT_DAYS * 24)
    for hour, n in rows:
        index = int((timezone.localtime(hour) - start).total_seconds() // 3600)
        if 0 <= index < len(counts):
            counts[index] = n
    return start, counts


def colour_counts_over_days(
    *, now: dt.datetime, region_codes: list[str]
) -> tuple[list[str], dict[str, list[int | None]]]:
    """Residents by colour in these regions for each of the last 14 days (the daily
    snapshots; today read live): day labels and a list per colour, None where no snapshot."""
    from healthcode.selectors import colour_counts_by_district

    today = timezone.localdate(now)
    days = [today - dt.timedelta(days=n) for n in range(PLOT_DAYS - 1, -1, -1)]
    series: dict[str, list[int | None]] = {c: [None] * len(days) for c in Colour.values}
    index = {day: i for i, day in enumerate(days)}
    rows = ColourCount.objects.filter(
        regions.covered_q("region_code", region_codes), day__gte=days[0], day__lt=today
    ).values_list("day", "colour", "count")
    for day, colour, n in rows:
        if colour in series:
            series[colour][index[day]] = (series[colour][index[day]] or 0) + n
    for i in range(len(days) - 1):  # a day with a snapshot has 0 for a colour nobody had
        if any(values[i] is not None for values in series.values()):
            for values in series.values():
                values[i] = values[i] or 0
    live = colour_counts_by_district(region_codes=region_codes)
    for colour in series:
        series[colour][-1] = sum(n for (_r, c), n in live.items() if c == colour)
    return [f"{day:%m-%d}" for day in days], series


def contacts_per_day(*, now: dt.datetime) -> tuple[list[str], list[int]]:
    """People found by traces, per local day the trace ran, over the last 14 days."""
    today = timezone.localdate(now)
    days = [today - dt.timedelta(days=n) for n in range(PLOT_DAYS - 1, -1, -1)]
    rows = (
        TraceContact.objects.filter(trace__created_at__date__gte=days[0])
        .annotate(day=TruncDate("trace__created_at"))
        .values_list("day")
        .annotate(n=Count("resident_id", distinct=True))
    )
    counts = dict(rows)
    return [f"{day:%m-%d}" for day in days], [counts.get(day, 0) for day in days]


def officer_venue(*, officer, venue_id: str):
    """A venue in the officer's regions by its id (the workbench's ?venue=), else None."""
    from venues.models import Venue

    if not re.fullmatch(r"[0-9]{1,18}", venue_id):
        return None
    venue = Venue.objects.filter(pk=int(venue_id)).first()
    if venue is None or not regions.covers(officer.region_codes, venue.region_code):
        return None
    return venue
