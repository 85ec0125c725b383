"""Writes for check-ins and their alerts."""

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from audit.services import audit_lookup
from checkins.models import (
    FEVER_CELSIUS,
    MAX_STAY,
    Alert,
    CheckIn,
    GridWorker,
    Method,
    StayEnd,
    TemperatureBand,
)
from checkins.selectors import token_used_elsewhere, token_used_elsewhere_sql
from healthcode import engine, rawrows, regions, tokens
from healthcode.errors import DomainError
from healthcode.models import HealthCode, Resident
from healthcode.selectors import status_as_of
from vaccination.selectors import VACCINATION_FIELDS, Vaccination, vaccination_columns_sql
from venues.models import EntryRule, Venue

# Which stopped check-ins raise which alert. A person stopped for lack of vaccination
# (not_vaccinated) raises none: it is the venue's own rule, not an epidemic risk to follow up.
ALERT_KINDS = {
    "red": Alert.Kind.RED,
    "yellow": Alert.Kind.YELLOW,
    "fever": Alert.Kind.FEVER,
    "test_overdue": Alert.Kind.TEST_OVERDUE,
    "no_test": Alert.Kind.TEST_OVERDUE,
}


def door_decision(
    *, code, venue: Venue, vaccination: Vaccination, now: dt.datetime, fever: bool = False
):
    """The engine's decision for this (current) health code, and the person's doses
    (``vaccination.selectors.vaccination_of``), at this venue's door."""
    return engine.entry_decision(
        colour=code.colour,
        test=code.test,
        required_hours=venue.required_test_hours,
        test_required=venue.entry_rule != EntryRule.NONE,
        now=now,
        fever=fever,
        vaccination_required=venue.requires_vaccination,
        doses=vaccination.doses,
    )


def temperature_band_for(*, band: str = "", celsius: Decimal | None = None) -> str:
    """The band from a measured temperature (≥37.3 ℃ is fever) or as the inspector picked."""
    if celsius is not None:
        return (
            TemperatureBand.FEVER
            if celsius >= Decimal(str(FEVER_CELSIUS))
            else (TemperatureBand.NORMAL)
        )
    if band and band not in TemperatureBand.values:
        raise DomainError(_("请选择体温：正常或发热。"), field="temperature_band")
    return band


def checkin_record(
    *,
    resident: Resident,
    venue: Venue,
    method: str,
    scanned_by=None,
    helper=None,
    temperature_band: str = "",
    temperature: Decimal | None = None,
    token: str = "",
    now: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    lookup: dict | None = None,
) -> tuple[CheckIn, bool]:
    """Record that ``resident`` arrived at ``venue`` with the decision at the door; return
    the check-in and whether it is new. Red, yellow, fever and overdue tests raise alerts.

    A second scan of the same venue within ``CHECKIN_REPEAT_SECONDS`` returns the first
    check-in and writes nothing — unless it brings something new: another way of scanning
    (an inspector's temperature after a self-scan), another temperature band, or a colour
    that changed since; then it is recorded, with its alerts. The resident's health-code row
    is locked for the check (and read in the same query), so two scans arriving at the same
    instant still leave one row.

    ``helper``: the user who checked the person in on their behalf (帮扫); another helper
    within the window is something new, so each helper's check-in is theirs to show.

    ``token``: the health-code token scanned, if one was. A token that has checked its holder
    in at another venue is refused (409) for the rest of its life — a forwarded screenshot
    works once; the same venue again is the repeat above.

    ``client_id``: the id the inspector's browser gave this confirmation (a door that was
    offline sends its queue until it hears back, so one may arrive twice). The second arrival
    returns the first check-in, not new (``checkin_once_per_client_id``); ``now`` is then
    when the door confirmed, not when the confirmation arrived.

    ``lookup``: ``audit_lookup``'s arguments, written in the check-in's own commit
    (``checkin_record_looked_up``).
    """
    try:
        return _checkin_record(
            resident=resident,
            venue=venue,
            method=method,
            scanned_by=scanned_by,
            helper=helper,
            band=temperature_band_for(band=temperature_band, celsius=temperature),
            temperature=temperature,
            token=token,
            now=now or timezone.now(),
            client_id=client_id,
            lookup=lookup,
        )
    except IntegrityError:
        # A second arrival queues on the person's code-row lock and usually finds the first
        # as its repeat (nothing written); if something changed between the two (the
        # colour), its insert meets the constraint instead, and the first is the answer.
        sent = CheckIn.objects.filter(scanned_by=scanned_by, client_id=client_id).first()
        if client_id is None or sent is None:
            raise
        if lookup is not None:
            audit_lookup(**lookup)  # rolled back with the insert; the resent scan is a lookup
        return sent, False


def checkin_record_looked_up(*, lookup: dict, **record) -> tuple[CheckIn, bool]:
    """``checkin_record`` for a scan that read another person (a device's, an inspector's):
    the lookup (``audit_lookup(**lookup)``) is written in the check-in's own commit — one
    flush of the write-ahead log a scan, not two, and no savepoint (the lookup is written in the
    check-in's transaction, not around it). A scan that fails (a token used elsewhere: 409;
    anything else) is still a lookup of the person and is recorded after the rollback."""
    try:
        return checkin_record(lookup=lookup, **record)
    except Exception:
        audit_lookup(**lookup)
        raise


def _checkin_record(
    *,
    resident: Resident,
    venue: Venue,
    method: str,
    scanned_by,
    helper,
    band: str,
    temperature: Decimal | None,
    token: str,
    now: dt.datetime,
    client_id: uuid.UUID | None,
    lookup: dict | None,
) -> tuple[CheckIn, bool]:
    with transaction.atomic():
        if lookup is not None:
            audit_lookup(**lookup)
        # The person's code, locked, carrying their doses (one round trip). The token check
        # and the latest stay are NOT carried here: a subquery of the locking statement reads
        # the snapshot from before it waited for the lock, so it would miss the check-in a
        # concurrent scan committed meanwhile (the same token at another venue; the same
        # person at this door); asked after, in one statement, they see it.
        code, vaccination = _code_locked(resident)
        latest, used_elsewhere = _latest_stay(resident=resident, now=now, token=token, venue=venue)
        if used_elsewhere:
            raise token_used_elsewhere_error()
        repeat = _repeat_of(latest, venue=venue, now=now)
        # At ``now``: for a confirmation made offline and sent later, the status of then.
        code = status_as_of(code, resident=resident, at=now)
        if repeat is not None and (
            repeat.method,
            repeat.temperature_band,
            repeat.colour,
            repeat.helper_id,
        ) == (method, band, code.colour, helper.pk if helper else None):
            return repeat, False
        decision = door_decision(
            code=code,
            venue=venue,
            vaccination=vaccination,
            now=now,
            fever=band == TemperatureBand.FEVER,
        )
        if latest is not None and latest.venue_id != venue.pk and latest.left_at > now:
            _end_open_stays_elsewhere(resident=resident, venue=venue, now=now)
        left_at = assumed_end(venue=venue, arrived=now)
        if latest is not None and latest.checked_in_at > now:  # a scan that lost the lock race
            left_at = min(left_at, _next_elsewhere(resident=resident, venue=venue, after=now))
        checkin = CheckIn.objects.create(
            resident=resident,
            venue=venue,
            checked_in_at=now,
            left_at=left_at,
            method=method,
            colour=code.colour,
            reasons=code.reasons,
            test=code.test,
            vaccination=vaccination.stored(),
            decision=CheckIn.Decision.PASS if decision.passed else CheckIn.Decision.STOP,
            decision_code=decision.code,
            decision_text=decision.text,
            scanned_by=scanned_by,
            helper=helper,
            temperature_band=band,
            temperature=temperature,
            token_digest=tokens.digest(token) if token else "",
            client_id=client_id,
        )
        _raise_alerts(checkin, region_code=resident.region_code, now=now)
    return checkin, True


# --- Stays ----------------------------------------------------------------------------------
def assumed_end(*, venue: Venue, arrived: dt.datetime) -> dt.datetime:
    """When a stay ends if nobody says otherwise: the venue's default stay, at most 24 h."""
    return arrived + min(dt.timedelta(minutes=venue.default_stay_minutes), MAX_STAY)


def _next_elsewhere(*, resident: Resident, venue: Venue, after: dt.datetime) -> dt.datetime:
    """When the person was next checked in at another venue after ``after`` (a stay written
    late ends there), or the end of any stay if never."""
    found = (
        CheckIn.objects.filter(resident=resident, checked_in_at__gt=after)
        .exclude(venue=venue)
        .order_by("checked_in_at")
        .values_list("checked_in_at", flat=True)
        .first()
    )
    return found or after + MAX_STAY


def _end_open_stays_elsewhere(*, resident: Resident, venue: Venue, now: dt.datetime) -> None:
    """A check-in at another venue ends the person's stays still open at ``now`` (one
    statement, under the caller's lock on the person's code row; asked only when the latest
    stay is elsewhere and open, so a first scan costs no extra query). A stay at the same venue
    is left alone: scanning again at the door one is in does not end the visit."""
    CheckIn.objects.filter(
        resident=resident, checked_in_at__lte=now, left_at__gt=now, left_how=StayEnd.ASSUMED
    ).exclude(venue=venue).update(left_at=now, left_how=StayEnd.NEXT_CHECKIN)


def checkin_checkout(*, checkin: CheckIn, now: dt.datetime | None = None) -> CheckIn:
    """离开: the visit ends now, explicitly — earlier than assumed, or later (at most 24 h
    after arriving, and never past the person's next check-in at another venue: they were
    there by then). Every open row of the visit ends with it (a self-scan and the inspector's
    scan at one door are two rows of one visit: the rows here still open when this one began,
    or begun since); an earlier visit here that had ended by itself keeps its end. A stay
    already checked out keeps its first check-out; a stay a check-in elsewhere ended keeps
    that end. Under the person's code-row lock, as check-ins are, so a check-in elsewhere
    cannot interleave."""
    now = now or timezone.now()
    with transaction.atomic():
        HealthCode.objects.select_for_update().filter(resident_id=checkin.resident_id).first()
        checkin.refresh_from_db(fields=["left_at", "left_how"])
        if checkin.left_how != StayEnd.ASSUMED:
            return checkin
        left_at = min(max(now, checkin.checked_in_at), checkin.checked_in_at + MAX_STAY)
        next_elsewhere = (
            CheckIn.objects.filter(
                resident_id=checkin.resident_id,
                checked_in_at__gt=checkin.checked_in_at,
                checked_in_at__lt=left_at,
            )
            .exclude(venue_id=checkin.venue_id)
            .order_by("checked_in_at")
            .values_list("checked_in_at", flat=True)
            .first()
        )
        left_at = min(left_at, next_elsewhere or left_at)
        CheckIn.objects.filter(
            resident_id=checkin.resident_id,
            venue_id=checkin.venue_id,
            left_how=StayEnd.ASSUMED,
            checked_in_at__gte=left_at - MAX_STAY,
            checked_in_at__lte=left_at,
            left_at__gt=checkin.checked_in_at,  # still open when this row began
        ).update(left_at=left_at, left_how=StayEnd.CHECKOUT)
    checkin.refresh_from_db(fields=["left_at", "left_how"])
    return checkin


def checkout_at_venue(*, resident: Resident, venue: Venue, now: dt.datetime | None = None):
    """An exit scan (the inspector's or a device's): the person's latest visit at this venue,
    checked out; None (nothing is written) if they have none in the last 24 h or it already
    ended by a check-out or a check-in elsewhere. An earlier visit here is not the one they
    are leaving: it keeps its end."""
    now = now or timezone.now()
    stay = (
        CheckIn.objects.filter(
            resident=resident,
            venue=venue,
            checked_in_at__gt=now - MAX_STAY,
            checked_in_at__lte=now,
        )
        .order_by("-checked_in_at", "-id")
        .first()
    )
    if stay is None or stay.left_how != StayEnd.ASSUMED:
        return None
    return checkin_checkout(checkin=stay, now=now)


TOKEN_USED_ELSEWHERE = _lazy("已在其他场所使用，请本人刷新健康码。")


def token_used_elsewhere_error() -> DomainError:
    """The 409 of a token that already checked its holder in at another venue within its
    life: the check-in above asks it under the holder's lock, the inspector's preview and the
    exit scan before it."""
    return DomainError(TOKEN_USED_ELSEWHERE, code="token_used_elsewhere", status=409)


def token_refuse_if_used_elsewhere(*, resident: Resident, token: str, venue: Venue, now) -> None:
    if token_used_elsewhere(resident=resident, token=token, venue=venue, now=now):
        raise token_used_elsewhere_error()


# The two reads of every recorded scan, written once (healthcode.rawrows): compiling them
# with the ORM cost more than running them (docs/benchmarks.md, issue 13).
_CODE = rawrows.Rows(HealthCode, extra=VACCINATION_FIELDS)
_STAY = rawrows.Rows(CheckIn, extra=(BooleanField(),))
# The latest stay (if any) beside whether the scanned token was used elsewhere (FALSE, or
# checkins.selectors' EXISTS): a LEFT JOIN of one row, so the answer is one row either way.
_LATEST_STAY = (
    f"SELECT {_STAY.columns('s')}, {{used}} FROM (SELECT 1 AS one) o LEFT JOIN "
    f'(SELECT {_STAY.columns("l")} FROM "{CheckIn._meta.db_table}" l '
    "WHERE l.resident_id = %s AND l.checked_in_at > %s "
    "ORDER BY l.checked_in_at DESC, l.id DESC LIMIT 1) s ON 1 = 1"
)


def _code_locked(resident: Resident) -> tuple[HealthCode, Vaccination]:
    """The person's code, its row locked until the transaction ends, and their doses."""
    doses, params = vaccination_columns_sql(resident=resident)
    sql = (
        f'SELECT {_CODE.columns("c")}, {doses} FROM "{HealthCode._meta.db_table}" c '
        f"WHERE c.resident_id = %s{rawrows.for_update()}"
    )
    found = _CODE.one(sql, [*params, resident.pk])
    if found is None:
        raise HealthCode.DoesNotExist(f"resident {resident.pk} has no health code")
    code, doses, last_date = found
    code.resident = resident
    return code, Vaccination(doses or 0, last_date)


def _latest_stay(
    *, resident: Resident, now: dt.datetime, token: str, venue: Venue
) -> tuple[CheckIn | None, bool]:
    """The person's latest check-in anywhere within a stay's longest life: what a new scan
    repeats (same venue, within the window) or ends (another venue, still open). No upper
    bound: a scan that took the lock first may carry a later ``now`` than ours. With a
    ``token`` (or "" for none), also whether it checked its holder in at a venue other than
    ``venue`` within its life (``checkins.selectors.token_used_elsewhere``'s rule), in the
    same statement."""
    used, params = token_used_elsewhere_sql(resident=resident, token=token, venue=venue, now=now)
    since = rawrows.param(CheckIn, "checked_in_at", now - MAX_STAY)
    latest, used_elsewhere = _STAY.one(
        _LATEST_STAY.format(used=used), [*params, resident.pk, since]
    )
    return latest, bool(used_elsewhere)


def _repeat_of(latest: CheckIn | None, *, venue: Venue, now: dt.datetime) -> CheckIn | None:
    """``latest`` if it is at this venue within the repeat window: the same visit scanned
    again. A scan here after one elsewhere is a new visit, even within the window."""
    window = dt.timedelta(seconds=settings.CHECKIN_REPEAT_SECONDS)
    if latest is not None and latest.venue_id == venue.pk and latest.checked_in_at > now - window:
        return latest
    return None


def _raise_alerts(checkin: CheckIn, *, region_code: str, now: dt.datetime) -> None:
    kinds = set()
    if checkin.decision_code in ALERT_KINDS:
        kinds.add(ALERT_KINDS[checkin.decision_code])
    if checkin.temperature_band == TemperatureBand.FEVER:
        kinds.add(Alert.Kind.FEVER)  # a red code with fever is both
    Alert.objects.bulk_create(
        Alert(
            checkin=checkin,
            venue=checkin.venue,
            resident=checkin.resident,
            kind=kind,
            region_code=region_code,
            created_at=now,
        )
        for kind in sorted(kinds)
    )


def checkin_manual(
    *,
    venue: Venue,
    scanned_by,
    name: str,
    id_type: str,
    id_number: str,
    phone: str = "",
    temperature_band: str = "",
    method: str = Method.MANUAL,
    machine: str = "",
    now: dt.datetime | None = None,
) -> CheckIn:
    """手工登记: an inspector registers a person who has no phone and no code. A registered
    person (same document and name) is checked in with their status; anyone else is
    recorded as 未注册 and stopped for the staff to verify by hand. Scan devices reading an
    ID card come the same way (``method=device``, ``machine`` naming the device).

    Either way it is a lookup of that person by whoever typed or read the card, and is
    recorded: of the resident, or of a masked subject when the name and number match nobody.
    """
    resident = Resident.objects.filter(id_type=id_type, id_number=id_number, name=name).first()
    lookup = {
        "actor": scanned_by,
        "machine": machine,
        "action": _LOOKUP_CHANNELS[method],
        "venue_name": venue.full_name,
    }
    if resident is not None:
        checkin, _new = checkin_record(
            resident=resident,
            venue=venue,
            method=method,
            scanned_by=scanned_by,
            temperature_band=temperature_band,
            now=now,
        )
        audit_lookup(subject=resident, **lookup)
        return checkin
    audit_lookup(id_number=id_number, **lookup)
    now = now or timezone.now()
    band = temperature_band_for(band=temperature_band)
    with transaction.atomic():
        checkin = CheckIn.objects.create(
            venue=venue,
            checked_in_at=now,
            left_at=assumed_end(venue=venue, arrived=now),
            method=method,
            scanned_by=scanned_by,
            decision=CheckIn.Decision.STOP,
            decision_code="unregistered",
            decision_text=_("未注册健康码，请人工核验身份与健康状况"),
            temperature_band=band,
            manual_name=name,
            manual_id_number=id_number,
            manual_phone=phone,
        )
        _raise_alerts(checkin, region_code="", now=now)
    return checkin


_LOOKUP_CHANNELS = {Method.MANUAL: "inspector_manual", Method.DEVICE: "device"}


def alert_acknowledge(*, alert: Alert, user) -> Alert:
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert


def alerts_acknowledge_person(*, grid_worker: GridWorker, alert: Alert, user) -> int:
    """A grid worker marks every unacknowledged alert of ``alert``'s person handled at once —
    only those in the regions this grid worker looks after. Returns how many were marked."""
    same_person = Q(resident_id=alert.resident_id) if alert.resident_id else Q(pk=alert.pk)
    return Alert.objects.filter(
        same_person,
        regions.covered_q("region_code", grid_worker.region_codes),
        acknowledged_at=None,
    ).update(acknowledged_at=timezone.now(), acknowledged_by=user)
