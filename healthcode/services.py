"""Writes for residents and their health codes."""

import datetime as dt
import json
import logging
import operator
from collections.abc import Callable
from functools import reduce
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, Q, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2.extras import execute_values

from audit.models import ActorRole, AuditKind
from audit.services import audit_event, audit_many, role_of
from healthcode import engine, masking
from healthcode.errors import DomainError
from healthcode.ingest import (
    Outcome,
    choice,
    clean_fields,
    clean_identity,
    clean_records,
    parse_time,
    upsert,
)
from healthcode.models import (
    HealthCode,
    HealthCodeChange,
    ItineraryStay,
    Resident,
    RiskArea,
    RiskFlag,
    RiskKind,
    User,
)
from healthcode.selectors import facts_for_residents

logger = logging.getLogger(__name__)


def resident_register(
    *,
    name: str,
    id_type: str,
    id_number: str,
    phone: str,
    password: str,
    nationality: str,
    region_code: str,
    address: str,
    contact_confirmed_case: bool = False,
    contact_risk_area: bool = False,
    contact_abroad: bool = False,
    contact_note: str = "",
    committed: bool,
    now: dt.datetime | None = None,
) -> Resident:
    """Register a resident with a log-in account and a green health code, all or nothing.

    Inputs are already cleaned (``healthcode.idnumbers``). A duplicate ID or phone raises
    ``DomainError`` on that field without saying whose it is.
    """
    if not committed:
        raise DomainError(_("请阅读并勾选承诺。"), field="commitment")
    now = now or timezone.now()
    unclaimed = Resident.objects.filter(id_type=id_type, id_number=id_number, user=None).first()
    if unclaimed is None and Resident.objects.filter(id_type=id_type, id_number=id_number).exists():
        raise _duplicate_id()
    if unclaimed is not None and unclaimed.name != name:
        raise _duplicate_id()  # the same answer as for a taken number: nothing about whose
    if User.objects.filter(phone=phone).exists():
        raise _duplicate_phone()
    fields = {
        "name": name,
        "id_type": id_type,
        "id_number": id_number,
        "nationality": nationality,
        "region_code": region_code,
        "address": address,
        "contact_confirmed_case": contact_confirmed_case,
        "contact_risk_area": contact_risk_area,
        "contact_abroad": contact_abroad,
        "contact_note": contact_note,
    }
    try:
        with transaction.atomic():
            user = User.objects.create_user(phone=phone, password=password)
            if unclaimed is not None:
                resident = _resident_claim(unclaimed, user=user, fields=fields, now=now)
            else:
                resident = _resident_create(user=user, fields=fields, now=now)
    except IntegrityError:
        # Two registrations raced past the checks above; the constraints decided.
        taken = Resident.objects.filter(id_type=id_type, id_number=id_number)
        if taken.exclude(user=None).exists():
            raise _duplicate_id() from None
        raise _duplicate_phone() from None
    logger.info("resident registered pk=%s", resident.pk)
    return resident


def resident_create_without_login(
    *,
    name: str,
    id_type: str,
    id_number: str,
    region_code: str,
    address: str,
    nationality: str = "中国",
    now: dt.datetime | None = None,
) -> Resident:
    """A resident without a log-in (an elder, a child) with their health code, computed by
    the same engine as at registration; results and flags that arrived earlier for the
    document apply at once. Inputs are already cleaned.

    Only ``proxy_scan.services.family_member_bind`` calls this, inside the transaction that
    binds the new resident to a holder: a resident without a user always has one (a check
    constraint cannot look at the bindings table; tests/proxy_scan/test_family.py checks
    both the rule and that nothing else calls this). A taken document: IntegrityError.
    """
    now = now or timezone.now()
    fields = {
        "name": name,
        "id_type": id_type,
        "id_number": id_number,
        "nationality": nationality,
        "region_code": region_code,
        "address": address,
    }
    with transaction.atomic():
        resident = _resident_create(user=None, fields=fields, now=now)
    logger.info("resident without log-in created pk=%s", resident.pk)
    return resident


def _resident_create(*, user: User | None, fields: dict, now: dt.datetime) -> Resident:
    """Create the resident and its code (the caller holds a transaction)."""
    resident = Resident.objects.create(user=user, committed_at=now, created_at=now, **fields)
    # Results and flags that arrived before registration apply at once.
    status = engine.evaluate(facts_for_residents([resident])[resident.pk], now)
    code = HealthCode(resident=resident, colour="", reasons=[], computed_at=now)
    change = _apply(code, status, now=now, cause="registration")
    code.save()
    change.health_code = code
    change.save()
    audit_many([_status_event(change, resident.pk)])
    return resident


def _resident_claim(resident: Resident, *, user: User, fields: dict, now) -> Resident:
    """A person bound as a family member registers themselves: the record they already have
    (code, history, holders' bindings) becomes theirs, with what they entered now."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk, user=None)
    for field, value in fields.items():
        setattr(resident, field, value)
    resident.user, resident.committed_at = user, now
    resident.save()
    return resident


def _duplicate_id() -> DomainError:
    return DomainError(
        _("该证件号码已注册。如非本人注册，请通过“反馈与投诉”申诉。"),
        field="id_number",
        code="duplicate",
    )


def _duplicate_phone() -> DomainError:
    return DomainError(_("该手机号码已注册，请直接登录。"), field="phone", code="duplicate")


def healthcode_recompute_many(
    *, resident_ids: list[int], cause: str, now: dt.datetime | None = None
) -> int:
    """Recompute and store the status of these residents; return how many changed.

    Idempotent: the same facts at the same time store the same status and add no history.
    Locks the code rows (in id order, so concurrent chunks cannot deadlock) for the
    read-modify-write.
    """
    now = now or timezone.now()
    with transaction.atomic():
        codes, holders = [], []
        for pk, resident_id, *status, id_type, id_number, name, group in (
            HealthCode.objects.select_for_update(of=("self",))
            .filter(resident_id__any=list(resident_ids))
            .order_by("resident_id")
            .values_list("pk", "resident_id", *_STATUS_FIELDS, *_HOLDER_FIELDS)
        ):
            codes.append(_StoredStatus(pk, resident_id, *status))
            holders.append(_Holder(resident_id, id_type, id_number, name, group))
        facts = facts_for_residents(holders)
        changed, history = [], []
        for code in codes:
            status = engine.evaluate(facts[code.resident_id], now)
            change = _apply(code, status, now=now, cause=cause)
            if change is not None:
                changed.append(code)
                if change is not True:
                    history.append((change, code.resident_id))
        _save_statuses(changed)
        HealthCodeChange.objects.bulk_create(change for change, _resident in history)
        # One audit event per changed colour or reason, in the same transaction and INSERT.
        audit_many(_status_event(change, resident_id) for change, resident_id in history)
    return len(changed)


_STATUS_FIELDS = ["colour", "reasons", "test", "rules_version", "computed_at", "review_at"]


class _StoredStatus:
    """A code's stored status, locked for its recompute: what the engine's answer is compared
    with and what the write needs. Plain values, not a model instance: building a code and
    its resident as models (and compiling their select_related) was a sixth of a chunk's
    time (docs/benchmarks.md, issue 14)."""

    __slots__ = ("pk", "resident_id", *_STATUS_FIELDS)

    def __init__(
        self, pk, resident_id, colour, reasons, test, rules_version, computed_at, review_at
    ):
        self.pk, self.resident_id = pk, resident_id
        self.colour, self.reasons, self.test = colour, reasons, test
        self.rules_version, self.computed_at, self.review_at = rules_version, computed_at, review_at


class _Holder(NamedTuple):
    """The code holder's fields ``facts_for_residents`` reads."""

    pk: int
    id_type: str
    id_number: str
    name: str
    population_group: str


_HOLDER_FIELDS = [f"resident__{field}" for field in _Holder._fields[1:]]


def _status_event(change: HealthCodeChange, resident_id: int):
    """The audit trail's line for a colour change: the engine did it (role system, whatever
    set it off: ``cause``), the rules that decided it as the reason, and the facts' keys."""
    return audit_event(
        kind=AuditKind.CHANGE,
        action="status_change",
        role=ActorRole.SYSTEM,
        subject_id=resident_id,
        reason="；".join(reason["text"] for reason in change.reasons),
        detail={
            "health_code": change.health_code_id,
            "old": change.old_colour,
            "new": change.new_colour,
            "rules": [reason["code"] for reason in change.reasons],
            "facts": [reason["fact"] for reason in change.reasons if reason.get("fact")],
            "cause": change.cause,
        },
        at=change.changed_at,
    )


def _save_statuses(codes: list[_StoredStatus]) -> None:
    """Write the status fields of these codes. On PostgreSQL one ``UPDATE … FROM (VALUES …)``:
    Django's bulk_update builds a CASE per field and row, and spent 90 % of a recompute."""
    if connection.vendor != "postgresql":
        HealthCode.objects.bulk_update(
            [
                HealthCode(pk=c.pk, **{field: getattr(c, field) for field in _STATUS_FIELDS})
                for c in codes
            ],
            _STATUS_FIELDS,
        )
        return
    rows = [
        (
            c.pk,
            c.colour,
            json.dumps(c.reasons),
            json.dumps(c.test),
            c.rules_version,
            c.computed_at,
            c.review_at,
        )
        for c in codes
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"UPDATE {HealthCode._meta.db_table} AS h SET colour = v.colour, "
            "reasons = v.reasons::jsonb, test = v.test::jsonb, rules_version = v.rules_version, "
            "computed_at = v.computed_at, review_at = v.review_at "
            "FROM (VALUES %s) AS v(id, colour, reasons, test, rules_version, computed_at, "
            "review_at) WHERE h.id = v.id",
            rows,
            template="(%s, %s, %s, %s, %s, %s::timestamptz, %s::timestamptz)",
            page_size=1000,
        )


def _apply(code: HealthCode | _StoredStatus, status: engine.Status, *, now, cause):
    """Copy ``status`` onto ``code``. None: nothing changed; True: changed without a new
    colour or reason; a HealthCodeChange: the colour or the reasons changed."""
    reasons = [reason.as_dict() for reason in status.reasons]
    test = status.test.as_dict()
    if (code.colour, code.reasons, code.test, code.rules_version, code.review_at) == (
        status.colour,
        reasons,
        test,
        status.rules_version,
        status.review_at,
    ):
        return None
    change: HealthCodeChange | bool = True
    if code.colour != status.colour or code.reasons != reasons:
        change = HealthCodeChange(
            health_code_id=code.pk,
            old_colour=code.colour,
            new_colour=status.colour,
            reasons=reasons,
            cause=cause[:200],
            changed_at=now,
        )
    code.colour, code.reasons, code.test = status.colour, reasons, test
    code.rules_version, code.review_at, code.computed_at = (
        status.rules_version,
        status.review_at,
        now,
    )
    return change


RECOMPUTE_CHUNK = 500


def recompute_later(*, resident_ids, cause: str, now: dt.datetime | None = None) -> None:
    """Mark these residents' statuses due, in the caller's transaction, and recompute them in
    Celery tasks of ``RECOMPUTE_CHUNK`` ids enqueued after it commits (a worker never reads
    uncommitted facts).

    The mark, not the queue, is what guarantees the recompute: the transaction that changes a
    person's facts also sets their ``review_at`` to now, and only a recompute moves it on. A
    task lost with a killed worker, or never published because the broker was down, leaves
    the code due; the minute sweep (``tasks.recompute_due``) and every read (``ensure_current``)
    recompute it."""
    ids = sorted(set(resident_ids))
    if not ids:
        return
    codes_mark_due(resident_ids=ids, at=now or timezone.now(), queued=True)
    enqueue_after_commit(ids, cause)


def codes_mark_due(
    *,
    at: dt.datetime,
    resident_ids: list[int] | None = None,
    group: str | None = None,
    queued: bool = False,
) -> None:
    """Make these residents' codes (by id, or a whole population group) due no later than
    ``at``: ``review_at = LEAST(COALESCE(review_at, at), at)``; ``queued``: their recompute is
    being put on the queue now (``queued_at = at``), so the sweep leaves them to it a while.

    Every row is written, already-due ones too, so that the write waits for a recompute that
    holds the row's lock and may have read the facts before this change: a skipped row would
    let that recompute store a status without the new fact and move ``review_at`` on. On
    PostgreSQL the rows are locked in resident order, the order a recompute locks them in, so
    a change and a recompute (or two changes) cannot deadlock."""
    if connection.vendor != "postgresql":
        codes = HealthCode.objects.all()
        if resident_ids is not None:
            codes = codes.filter(resident_id__in=resident_ids)
        if group is not None:
            codes = codes.filter(resident__population_group=group)
        when = Value(at, output_field=DateTimeField())
        codes.update(
            review_at=Least(Coalesce("review_at", when), when),
            **({"queued_at": at} if queued else {}),
        )
        return
    conditions, params = [], []
    if resident_ids is not None:
        conditions.append("h.resident_id = ANY(%s)")
        params.append(list(resident_ids))
    if group is not None:
        conditions.append("r.population_group = %s")
        params.append(group)
    table, residents = HealthCode._meta.db_table, Resident._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET review_at = LEAST(COALESCE(review_at, %s), %s)"
            f"{', queued_at = %s' if queued else ''} "
            f"WHERE id IN (SELECT h.id FROM {table} h JOIN {residents} r ON r.id = h.resident_id "
            f"WHERE {' AND '.join(conditions) or 'TRUE'} ORDER BY h.resident_id FOR UPDATE OF h)",
            [at, at, *([at] if queued else []), *params],
        )


def enqueue_after_commit(resident_ids: list[int], cause: str) -> None:
    from healthcode.tasks import enqueue_recompute  # tasks call services

    publish_after_commit(
        lambda: enqueue_recompute(resident_ids, cause),
        what=f"recompute of {len(resident_ids)} residents",
    )


def publish_after_commit(publish: Callable[[], object], *, what: str) -> None:
    """Run ``publish`` (an enqueue) after the transaction commits. A broker that cannot be
    reached is logged, not raised: the request that changed the facts has committed and must
    still succeed, and the codes it marked due are recomputed by the sweep or on read."""
    from kombu.exceptions import OperationalError as BrokerError

    def run():
        try:
            publish()
        except (BrokerError, OSError) as exc:
            logger.warning("%s not enqueued (%s): left due for the sweep", what, type(exc).__name__)

    transaction.on_commit(run)


def residents_with_identities(identities) -> list[int]:
    """Ids of registered residents holding any of these (id_type, id_number) pairs."""
    return list(residents_by_identity(identities).values())


def residents_by_identity(identities) -> dict[tuple[str, str], int]:
    """The id of the resident holding each of these (id_type, id_number) pairs that one
    holds (one query)."""
    identities = set(identities)
    if not identities:
        return {}
    numbers = {number for _, number in identities}
    return {
        (id_type, number): pk
        for pk, id_type, number in Resident.objects.filter(id_number__any=numbers).values_list(
            "pk", "id_type", "id_number"
        )
        if (id_type, number) in identities
    }


def care_mode_set(*, user: User, enabled: bool) -> None:
    """Switch the account's 关怀版 (large text) on or off; it applies to every code the account
    shows, its own and its bound members'."""
    user.care_mode = enabled
    user.save(update_fields=["care_mode"])


FLAG_FIELDS = ["id_type", "id_number", "name", "kind", "starts_at", "ends_at", "reason"]


def clean_flag_record(raw: dict, *, now: dt.datetime) -> dict:
    def kind(value, _clean):
        if value not in RiskKind.values:
            raise ValidationError(
                _("类别应为以下之一：%(c)s。") % {"c": "、".join(RiskKind.values)}
            )
        return value

    def ends_at(value, clean):
        ends = parse_time(value, now=now, required=False, future_ok=True)
        starts = clean.get("starts_at")
        if ends is None and starts and clean.get("kind"):
            # Yellow kinds end by themselves (14 days); red kinds last until lifted.
            duration = engine.RULES[clean["kind"]].default_duration
            ends = starts + duration if duration else None
        if ends is not None and starts and ends <= starts:
            raise ValidationError(_("结束时间应晚于开始时间。"))
        return ends

    def text(limit, required):
        def clean(value, _clean):
            value = str(value or "").strip()
            if required and not value:
                raise ValidationError(_("必填。"))
            if len(value) > limit:
                raise ValidationError(_("最多 %(n)s 个字符。") % {"n": limit})
            return value

        return clean

    return clean_fields(
        raw,
        {
            "source": text(64, True),
            "external_id": text(64, True),
            **clean_identity(raw, timezone.localdate(now)),
            "kind": lambda v, c: choice(v, RiskKind),
            "starts_at": lambda v, c: parse_time(v, now=now),
            "ends_at": ends_at,
            "reason": text(500, False),
        },
    )


def risk_flags_import(
    *, records: list[dict], entered_by: User, now: dt.datetime | None = None
) -> Outcome:
    """Upsert risk flags by (source, external id): a re-sent record changes nothing, a later
    one (an end date, a correction) updates the flag. Affected residents are recomputed."""
    now = now or timezone.now()
    outcome = Outcome()

    def key(record):
        return f"{record['source']}\x00{record['external_id']}"

    good = clean_records(
        records,
        clean=lambda raw: clean_flag_record(raw, now=now),
        key=key,
        key_field="external_id",
        outcome=outcome,
    )
    with transaction.atomic():
        existing = {}
        for source in {r["source"] for r in good}:
            ids = [r["external_id"] for r in good if r["source"] == source]
            for flag in RiskFlag.objects.select_for_update().filter(
                source=source, external_id__in=ids
            ):
                existing[f"{flag.source}\x00{flag.external_id}"] = flag
        upsert(
            existing,
            good,
            key=key,
            fields=FLAG_FIELDS,
            new=lambda r: RiskFlag(
                source=r["source"],
                external_id=r["external_id"],
                entered_by=entered_by,
                created_at=now,
                updated_at=now,
                **{f: r[f] for f in FLAG_FIELDS},
            ),
            outcome=outcome,
        )
        try:
            RiskFlag.objects.bulk_create(outcome.created, batch_size=2000)
        except IntegrityError:
            raise DomainError(
                _("同一标记正被同时导入，请稍后重试。"), code="conflict", status=409
            ) from None
        for flag, _before, _after in outcome.updated:
            flag.entered_by, flag.updated_at = entered_by, now
        RiskFlag.objects.bulk_update(
            [f for f, _b, _a in outcome.updated], [*FLAG_FIELDS, "entered_by", "updated_at"]
        )
        touched = {(f.id_type, f.id_number) for f in outcome.created}
        touched |= {(f.id_type, f.id_number) for f, _b, _a in outcome.updated}
        # A correction may move a record to another person: recompute the earlier one too.
        touched |= {(b["id_type"], b["id_number"]) for _o, b, _a in outcome.updated}
        people = residents_by_identity(touched)
        risk_flags_audit(
            [(flag, []) for flag in outcome.created]
            + [
                (flag, sorted(k for k in after if after[k] != before[k]))
                for flag, before, after in outcome.updated
            ],
            by=entered_by,
            people=people,
            now=now,
        )
        recompute_later(resident_ids=list(people.values()), cause="risk flags", now=now)
    return outcome


def risk_flags_audit(
    flags: list[tuple[RiskFlag, list[str]]], *, by: User, people: dict, now: dt.datetime
) -> None:
    """One audit event per flag created (no changed fields), ended (its end moved to now or
    before) or corrected, by ``by``, of the resident holding its document (``people``, from
    ``residents_by_identity``) or of the masked number. The detail names the changed fields,
    never their values (a name or an ID number may be among them)."""
    if not flags:
        return
    role = role_of(by)

    def action(flag, changed):
        if not changed:
            return "flag_create"
        ended = "ends_at" in changed and flag.ends_at is not None and flag.ends_at <= now
        return "flag_end" if ended else "flag_correct"

    audit_many(
        audit_event(
            kind=AuditKind.CHANGE,
            action=action(flag, changed),
            actor=by,
            role=role,
            subject_id=people.get((flag.id_type, flag.id_number)),
            subject_masked_id=""
            if (flag.id_type, flag.id_number) in people
            else masking.mask_id_number(flag.id_number),
            reason=flag.reason,
            detail={"flag": flag.pk, "kind": flag.kind, "source": flag.source, "fields": changed},
            at=now,
        )
        for flag, changed in flags
    )


def stay_declare(
    *,
    resident: Resident,
    region_code: str,
    arrived_at: dt.datetime,
    left_at: dt.datetime | None = None,
) -> ItineraryStay:
    """A resident declares a place of their 14-day itinerary; their status is recomputed at
    once (a stay of 4 h or more in a risk area changes the colour)."""
    if left_at is not None and left_at <= arrived_at:
        raise DomainError(_("离开时间应晚于到达时间。"), field="left_at")
    with transaction.atomic():
        stay = ItineraryStay.objects.create(
            resident=resident, region_code=region_code, arrived_at=arrived_at, left_at=left_at
        )
        healthcode_recompute_many(resident_ids=[resident.pk], cause="itinerary declared")
    return stay


def risk_area_saved(*, area: RiskArea, previous_region_code: str | None = None) -> None:
    """After a risk area is added or changed, recompute everyone whose itinerary it covers,
    or covered before an edit of its region."""
    prefixes = {engine.area_prefix(area.region_code)}
    if previous_region_code:
        prefixes.add(engine.area_prefix(previous_region_code))
    ids = ItineraryStay.objects.filter(
        reduce(operator.or_, (Q(region_code__startswith=p) for p in prefixes))
    ).values_list("resident_id", flat=True)
    recompute_later(resident_ids=list(ids), cause=f"risk area {area.pk}")
