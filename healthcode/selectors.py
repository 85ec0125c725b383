"""Reads for residents and their health codes."""

import copy
import datetime as dt
import operator
from collections import defaultdict
from functools import reduce

from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from healthcode import engine, rawrows, tokens
from healthcode.models import (
    HealthCode,
    HealthCodeChange,
    ItineraryStay,
    Resident,
    RiskArea,
    RiskFlag,
    User,
)
from nucleic.models import Sample, TestPolicy


def resident_from_token(*, token: str, now: dt.datetime) -> Resident:
    """The resident a QR token names, with the health code loaded (one query).

    Raises ``tokens.TokenInvalid`` with the precise problem: malformed, bad signature,
    expired, or unknown (well signed, but nobody has that public id).
    """
    public_id = tokens.read(token, now=now)
    found = _BY_PUBLIC_ID.one(
        _RESIDENT_BY_PUBLIC_ID, [rawrows.param(Resident, "public_id", public_id)]
    )
    if found is None:
        raise tokens.TokenInvalid(tokens.TokenProblem.UNKNOWN)
    resident, code, user = found
    resident.user = user
    if code is not None:
        resident.health_code = code
    return resident


# Every scanned code reads its holder this way: written once (healthcode.rawrows).
_BY_PUBLIC_ID = rawrows.Rows(Resident, HealthCode, User)
_RESIDENT_BY_PUBLIC_ID = (
    f'SELECT {_BY_PUBLIC_ID.columns("r", "c", "u")} FROM "{Resident._meta.db_table}" r '
    f'LEFT JOIN "{HealthCode._meta.db_table}" c ON c.resident_id = r.id '
    f'LEFT JOIN "{User._meta.db_table}" u ON u.id = r.user_id WHERE r.public_id = %s'
)


_CODE_AND_RESIDENT = rawrows.Rows(HealthCode, Resident)
# Written once rather than compiled by the ORM on every code refresh (healthcode.rawrows).
_CODE_FOR_USER = (
    f"SELECT {_CODE_AND_RESIDENT.columns('c', 'r')} "
    f'FROM "{HealthCode._meta.db_table}" c JOIN "{Resident._meta.db_table}" r '
    "ON r.id = c.resident_id WHERE r.user_id = %s"
)


_RESIDENT = rawrows.Rows(Resident)
_RESIDENT_OF_USER = (
    f'SELECT {_RESIDENT.columns("r")} FROM "{Resident._meta.db_table}" r WHERE r.user_id = %s'
)


def resident_for_user(user) -> Resident | None:
    """The resident this account registered, or None (a staff account). One statement,
    written once (healthcode.rawrows): the self-scan reads it on every check-in."""
    found = _RESIDENT.one(_RESIDENT_OF_USER, [user.pk])
    if found is None:
        return None
    resident = found[0]
    resident.user = user
    return resident


def health_code_for_user(*, user) -> HealthCode | None:
    """The signed-in user's own health code with its resident (the account is ``user``
    itself), or None for an account with no resident. One statement."""
    found = _CODE_AND_RESIDENT.one(_CODE_FOR_USER, [user.pk])
    if found is None:
        return None
    code, resident = found
    resident.user = user
    code.resident = resident
    return code


def health_code_current(*, user, now: dt.datetime | None = None) -> HealthCode | None:
    """The user's own code, recomputed inline first if its review time has passed, so no
    read ever shows a stale status. None for an account with no resident."""
    code = health_code_for_user(user=user)
    if code is not None:
        code = ensure_current(code, now=now)
    return code


def health_code_of(*, resident: Resident, now: dt.datetime | None = None) -> HealthCode:
    """The resident's code read afresh from the database (not a copy cached on the object),
    recomputed first if its review time has passed."""
    return ensure_current(HealthCode.objects.get(resident_id=resident.pk), now=now)


def ensure_current(code: HealthCode, *, now: dt.datetime | None = None) -> HealthCode:
    """``code`` itself if still current, else the freshly recomputed code."""
    from healthcode.services import healthcode_recompute_many  # services read selectors

    now = now or timezone.now()
    code.evaluated_at = now  # what the test line counts from (HealthCode.evaluated_at)
    if code.review_at is None or code.review_at > now:
        return code
    healthcode_recompute_many(resident_ids=[code.resident_id], now=now, cause="read past review")
    code.refresh_from_db(
        fields=["colour", "reasons", "test", "rules_version", "computed_at", "review_at"]
    )
    return code


def status_as_of(code: HealthCode, *, resident: Resident, at: dt.datetime) -> HealthCode:
    """The code as it stood at ``at``. For an instant before the code was last computed (a
    confirmation made at a door without network and sent later), the stored status is a later
    one — a window may have closed, a flag begun since — so the engine is asked again, at that
    instant, on an unsaved copy (nothing is stored: the code stays today's). Otherwise the
    stored code, kept current (``ensure_current``)."""
    if code.computed_at is None or at >= code.computed_at:
        return ensure_current(code, now=at)
    status = engine.evaluate(facts_for_residents([resident])[resident.pk], at)
    then = copy.copy(code)
    then.colour = status.colour
    then.reasons = [reason.as_dict() for reason in status.reasons]
    then.test = status.test.as_dict()
    then.review_at = status.review_at
    then.evaluated_at = at
    return then


def codes_due(
    *,
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta,
    after: tuple[dt.datetime, int] | None = None,
) -> list[tuple[dt.datetime, int]]:
    """``(review_at, resident_id)`` of codes whose stored status has reached its review time,
    in that order, after the key ``after`` (a sweep's place: the next page starts after the
    last key of this one). Left out: codes a change of facts put on the queue within
    ``lease`` (their own task is coming). A queueing covers only what was due when it
    happened: a code whose review time is later than its last queueing (a policy taking
    effect after a batch queued its people) is due at that time, lease or not."""
    due = HealthCode.objects.filter(review_at__lte=now).filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=F("review_at")) | Q(queued_at__lte=now - lease)
    )
    if after is not None:
        # A row comparison, which the (review_at, resident_id) index starts its scan at; the
        # equivalent OR of two conditions would scan every code of a tie (a policy switch
        # makes a city due at one instant) on every page.
        at, resident_id = after
        due = due.filter(
            RawSQL(
                "(review_at, resident_id) > (%s, %s)",
                [rawrows.param(HealthCode, "review_at", at), resident_id],
                output_field=BooleanField(),
            )
        )
    keys = due.order_by("review_at", "resident_id").values_list("review_at", "resident_id")
    return list(keys[:limit])


# --- The person's own record --------------------------------------------------------------
RECORD_ROWS = 200  # newest first; older ones stay stored until retention removes them


def code_changes_of(*, resident: Resident) -> list[HealthCodeChange]:
    """Every colour or reason change of the resident's code, newest first."""
    return list(
        HealthCodeChange.objects.filter(health_code__resident=resident).order_by(
            "-changed_at", "-id"
        )[:RECORD_ROWS]
    )


def fact_details(*, resident: Resident, refs) -> dict[str, str]:
    """What each engine fact reference (``sample:12``, ``flag:7``, ``stay:3/area:2``) was, in
    words the resident can check: the lab and the sampling time of a result, the source of a
    risk flag, the place and time of a stay. Only the resident's own facts are read (one query
    per kind); a reference to anything else, or to a fact since removed, gets no words."""
    ids: dict[str, set[int]] = defaultdict(set)
    for ref in refs:
        for part in ref.split("/"):
            kind, _sep, pk = part.partition(":")
            if pk.isdigit():
                ids[kind].add(int(pk))
    words: dict[str, str] = {}
    if ids["sample"]:
        samples = Sample.objects.select_related("lab").filter(
            pk__in=ids["sample"], id_type=resident.id_type, id_number=resident.id_number
        )
        for sample in samples:
            words[f"sample:{sample.pk}"] = _("%(lab)s，%(t)s 采样，%(result)s") % {
                "lab": sample.lab.name,
                "t": _local_minute(sample.sampled_at),
                "result": sample.get_result_display(),
            }
    if ids["flag"]:
        flags = RiskFlag.objects.filter(
            pk__in=ids["flag"], id_type=resident.id_type, id_number=resident.id_number
        )
        for flag in flags:
            words[f"flag:{flag.pk}"] = _("来源：%(source)s，%(t)s 起") % {
                "source": flag.source,
                "t": _local_minute(flag.starts_at),
            }
    stays = {
        stay.pk: stay
        for stay in ItineraryStay.objects.filter(pk__in=ids["stay"], resident=resident)
    }
    areas = {area.pk: area for area in RiskArea.objects.filter(pk__in=ids["area"])}
    for ref in refs:
        stay_ref, _sep, area_ref = ref.partition("/")
        if not stay_ref.startswith("stay:"):
            continue
        stay = stays.get(_ref_pk(stay_ref))
        area = areas.get(_ref_pk(area_ref))
        if stay is None or area is None:
            continue
        words[ref] = _("%(t)s 到达 %(place)s（%(level)s地区）") % {
            "t": _local_minute(stay.arrived_at),
            "place": area.name or area.region_code,
            "level": area.get_level_display(),
        }
    return words


def _ref_pk(ref: str) -> int | None:
    pk = ref.partition(":")[2]
    return int(pk) if pk.isdigit() else None


def _local_minute(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


def colour_counts_by_district(*, region_codes: list[str] | None = None) -> dict:
    """Residents by (district code, colour) now, in one grouped query; only the districts
    these codes cover if given (a city or province code covers its districts)."""
    from django.db.models import Count

    from healthcode import regions

    codes = HealthCode.objects.all()
    if region_codes is not None:
        codes = codes.filter(regions.covered_q("resident__region_code", region_codes))
    rows = codes.values_list("resident__region_code", "colour").annotate(n=Count("id"))
    return {(region, colour): n for region, colour, n in rows}


# --- Facts for the engine ------------------------------------------------------------------
def facts_for_residents(residents) -> dict[int, engine.Facts]:
    """Every fact the engine needs for these residents, in a fixed number of queries.
    ``residents``: Resident rows, or anything with their ``pk``, ``id_type``, ``id_number``,
    ``name`` and ``population_group`` (a recompute reads only those).

    Results and flags are keyed by identity document and apply only where the name agrees,
    so a record that arrived before its person registered applies from registration on.
    A result disputed, a flag withdrawn and a stay set aside by an upheld appeal
    (``appeals``) are not facts any more: the engine is not given them.
    """
    samples = _facts_by_person(
        residents,
        Sample.objects.filter(disputed_at=None),
        ("sampled_at", "reported_at", "result"),
        lambda pk, sampled, reported, result: engine.Sample(
            f"sample:{pk}", sampled, reported, result
        ),
    )
    flags = _facts_by_person(
        residents,
        RiskFlag.objects.filter(withdrawn_at=None),
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
    for stay in ItineraryStay.objects.filter(
        resident_id__any=[r.pk for r in residents], set_aside_at=None
    ):
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


def _facts_by_person(residents, rows, columns, make) -> dict[int, list]:
    """Identity-keyed rows (results, flags; ``rows`` a queryset of them) of these residents,
    by resident id, in one query: the row's document must match and its name agree. ``make``
    turns (pk, *columns) into an engine fact."""
    by_identity = {(r.id_type, r.id_number): r for r in residents}
    found: dict[int, list] = defaultdict(list)
    rows = rows.filter(id_number__any=[r.id_number for r in residents]).values_list(
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
