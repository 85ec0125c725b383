"""The resident's own record: why their colour changed, who looked, where they checked in, and
who holds their code. Read only; composed from each app's own selectors (healthcode for the
history, audit for the lookups, checkins for the visits, proxy_scan for the holders), so no
app has to import another for it.

What a person is told about others is deliberately little: a lookup is a kind of viewer and a
venue, never a staff member's name or account; a 帮扫 helper and a holder are named masked.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.selectors import lookups_of
from checkins.models import CheckIn
from checkins.selectors import checkins_of
from healthcode import masking
from healthcode.models import Colour, HealthCodeChange, Resident, explain_reasons
from healthcode.selectors import code_changes_of, fact_details, health_code_of
from proxy_scan.models import FamilyBinding
from proxy_scan.selectors import family_holders_of

CHECKIN_DAYS = 28  # check-ins are kept 28 days (the peers' retention); the record shows them all


@dataclass(frozen=True)
class ColourChange:
    changed_at: dt.datetime
    old_colour: str
    old_label: str
    new_colour: str
    new_label: str
    cause: str
    reasons: list[dict]  # explained reasons, each with ``detail``: the fact in words


@dataclass(frozen=True)
class Lookup:
    looked_up_at: dt.datetime
    viewer_kind: str
    venue_name: str


@dataclass(frozen=True)
class Visit:
    checked_in_at: dt.datetime
    venue_name: str
    method: str
    method_label: str
    colour: str
    colour_label: str
    passed: bool
    decision_label: str
    helper: str  # the 帮扫 helper, masked; "" for the person's own or the door's scan
    left_at: dt.datetime
    left_how: str
    left_how_label: str


@dataclass(frozen=True)
class Holder:
    name: str  # masked
    relationship: str
    relationship_label: str
    bound_at: dt.datetime
    unbound_at: dt.datetime | None


@dataclass(frozen=True)
class Record:
    resident: Resident
    changes: list[ColourChange]
    lookups: list[Lookup]
    visits: list[Visit]
    holders: list[Holder]
    since: dt.datetime  # the visits shown start here


def record_of(*, resident: Resident, now: dt.datetime) -> Record:
    """The record as of ``now``: a code past its review time is recomputed first, so the
    change that time made (a window lapsed, a flag ended) is already in it."""
    health_code_of(resident=resident, now=now)
    since = now - dt.timedelta(days=CHECKIN_DAYS)
    return Record(
        resident=resident,
        changes=_changes(resident),
        lookups=[_lookup(row) for row in lookups_of(resident=resident)],
        visits=[_visit(row) for row in checkins_of(resident=resident, since=since)],
        holders=[_holder(row) for row in family_holders_of(member=resident)],
        since=since,
    )


def _changes(resident: Resident) -> list[ColourChange]:
    rows = code_changes_of(resident=resident)
    refs = {reason.get("fact", "") for row in rows for reason in row.reasons}
    details = fact_details(resident=resident, refs=refs - {""})
    return [_change(row, details) for row in rows]


def _change(row: HealthCodeChange, details: dict[str, str]) -> ColourChange:
    return ColourChange(
        changed_at=row.changed_at,
        old_colour=row.old_colour,
        old_label=str(Colour(row.old_colour).label) if row.old_colour else _("无"),
        new_colour=row.new_colour,
        new_label=row.get_new_colour_display(),
        cause=row.cause_label,
        reasons=[
            {**reason, "detail": details.get(reason.get("fact", ""), "")}
            for reason in explain_reasons(row.reasons)
        ],
    )


def _lookup(row: AuditEvent) -> Lookup:
    return Lookup(row.at, row.viewer_kind, row.venue_name)


def _visit(row: CheckIn) -> Visit:
    return Visit(
        checked_in_at=row.checked_in_at,
        venue_name=row.venue.full_name,
        method=row.method,
        method_label=row.get_method_display(),
        colour=row.colour,
        colour_label=row.get_colour_display(),
        passed=row.passed,
        decision_label=row.get_decision_display(),
        helper=_masked_user(row.helper) if row.helper_id else "",
        left_at=row.left_at,
        left_how=row.left_how,
        left_how_label=row.get_left_how_display(),
    )


def _masked_user(user) -> str:
    resident = getattr(user, "resident", None)
    return resident.masked_name if resident is not None else masking.mask_phone(user.phone)


def _holder(row: FamilyBinding) -> Holder:
    return Holder(
        name=row.holder.masked_name,
        relationship=row.relationship,
        relationship_label=row.get_relationship_display(),
        bound_at=row.bound_at,
        unbound_at=row.unbound_at,
    )
