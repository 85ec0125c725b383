"""Reads for residents and their health codes."""

import datetime as dt
import operator
from collections import defaultdict
from functools import reduce

from django.db.models import Q
from django.utils import timezone

from healthcode import engine, tokens
from healthcode.models import HealthCode, ItineraryStay, Resident, RiskArea, RiskFlag
from nucleic.models import Sample, TestPolicy


def resident_from_token(*, token: str, now: dt.datetime) -> Resident:
    """The resident a QR token names, with the health code loaded (one query).

    Raises ``tokens.TokenInvalid`` with the precise problem: malformed, bad signature,
    expired, or unknown (well signed, but nobody has that public id).
    """
    public_id = tokens.read(token, now=now)
    resident = (
        Resident.objects.select_related("health_code", "user").filter(public_id=public_id).first()
    )
    if resident is None:
        raise tokens.TokenInvalid(tokens.TokenProblem.UNKNOWN)
    return resident


def health_code_for_user(*, user) -> HealthCode | None:
    """The signed-in user's own health code, or None for an account with no resident."""
    return (
        HealthCode.objects.select_related("resident", "resident__user")
        .filter(resident__user=user)
        .first()
    )


def health_code_current(*, user, now: dt.datetime | None = None) -> HealthCode | None:
    """The user's own code, recomputed inline first if its review time has passed, so no
    read ever shows a stale status. None for an account with no resident."""
    code = health_code_for_user(user=user)
    if code is not None:
        code = ensure_current(code, now=now)
    return code


def ensure_current(code: HealthCode, *, now: dt.datetime | None = None) -> HealthCode:
    """``code`` itself if still current, else the freshly recomputed code."""
    from healthcode.services import healthcode_recompute_many  # services read selectors

    now = now or timezone.now()
    if code.review_at is None or code.review_at > now:
        return code
    healthcode_recompute_many(resident_ids=[code.resident_id], now=now, cause="read past review")
    code.refresh_from_db(
        fields=["colour", "reasons", "test", "rules_version", "computed_at", "review_at"]
    )
    return code


def codes_due(*, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[int]:
    """Resident ids whose stored status has reached its review time and that were not put on
    the queue within ``lease`` (queued and not yet run, or run: either way not again yet)."""
    return list(
        HealthCode.objects.filter(review_at__lte=now)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=now - lease))
        .order_by("review_at")
        .values_list("resident_id", flat=True)[:limit]
    )


# --- Facts for the engine ------------------------------------------------------------------
def facts_for_residents(residents: list[Resident]) -> dict[int, engine.Facts]:
    """Every fact the engine needs for these residents, in a fixed number of queries.

    Results and flags are keyed by identity document and apply only where the name agrees,
    so a record that arrived before its person registered applies from registration on.
    """
    samples = _facts_by_person(
        residents,
        Sample,
        ("sampled_at", "reported_at", "result"),
        lambda pk, sampled, reported, result: engine.Sample(
            f"sample:{pk}", sampled, reported, result
        ),
    )
    flags = _facts_by_person(
        residents,
        RiskFlag,
        ("kind", "starts_at", "ends_at"),
        lambda pk, kind, starts, ends: engine.Flag(f"flag:{pk}", kind, starts, ends),
    )
    policies: dict[str, list] = defaultdict(list)
    for policy in TestPolicy.objects.all():
        policies[policy.group].append(
            engine.Policy(
                f"policy:{policy.pk}",
                policy.window_hours,
                policy.counts_from,
                policy.pending_counts,
                policy.effective_from,
            )
        )
    stays: dict[int, list] = defaultdict(list)
    for stay in ItineraryStay.objects.filter(resident__in=residents):
        stays[stay.resident_id].append(
            engine.Stay(f"stay:{stay.pk}", stay.region_code, stay.arrived_at, stay.left_at)
        )
    areas = _areas_for(stays) if stays else []
    return {
        r.pk: engine.Facts(
            samples=tuple(samples[r.pk]),
            flags=tuple(flags[r.pk]),
            policies=tuple(policies[r.population_group]),
            stays=tuple(stays[r.pk]),
            areas=tuple(areas) if stays[r.pk] else (),
        )
        for r in residents
    }


def _facts_by_person(residents, model, columns, make) -> dict[int, list]:
    """Identity-keyed rows (results, flags) of these residents, by resident id, in one
    query: the row's document must match and its name agree. ``make`` turns (pk, *columns)
    into an engine fact."""
    by_identity = {(r.id_type, r.id_number): r for r in residents}
    found: dict[int, list] = defaultdict(list)
    rows = model.objects.filter(id_number__in=[r.id_number for r in residents]).values_list(
        "pk", "id_type", "id_number", "name", *columns
    )
    for pk, id_type, number, name, *values in rows:
        person = by_identity.get((id_type, number))
        if person is not None and person.name == name:
            found[person.pk].append(make(pk, *values))
    return found


def _areas_for(stays: dict[int, list]) -> list[engine.Area]:
    provinces = {s.region_code[:2] for group in stays.values() for s in group}
    return [
        engine.Area(f"area:{a.pk}", a.region_code, a.level, a.starts_at, a.ends_at)
        for a in RiskArea.objects.filter(
            reduce(operator.or_, (Q(region_code__startswith=p) for p in provinces))
        )
    ]
