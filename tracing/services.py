"""Writes for tracing: register a case, run a trace, apply it (with a second officer's
approval above the threshold), withdraw it or one person's flag.

The power to turn codes red is the one most open to misuse (Zhengzhou, 2022), so: nothing
changes until an apply; a large apply waits for a second officer; the requester cannot
approve their own; every apply and withdrawal is a ``TraceAction`` with who, why and the
approval; and colours change only through risk flags that the engine reads, so a withdrawal
brings the colour back the same way.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import ActorRole, AuditKind
from audit.services import (
    audit_change,
    audit_event,
    audit_lookup,
    audit_many,
    audit_read,
    audit_reads_once,
)
from checkins.models import MAX_STAY, CheckIn, StayEnd
from healthcode import regions
from healthcode.errors import DomainError
from healthcode.models import Resident, User
from healthcode.services import publish_after_commit, risk_flags_import
from tracing.models import (
    DEFAULT_LOOKBACK,
    Application,
    Case,
    Degree,
    Trace,
    TraceAction,
    TraceContact,
)
from venues.selectors import officer_for_user

logger = logging.getLogger(__name__)

FLAG_SOURCE = "流调时空关联"
FLAG_KINDS = {Degree.CLOSE: "close_contact", Degree.SECONDARY: "other_medium"}
LOOKUP_CHANNEL = "officer_trace"
ANCHORS_PER_QUERY = 200


def _officer(user: User, *, resident: Resident | None = None):
    """The user's HealthOfficer row; with ``resident``, only if the person lives in the
    officer's regions (a case, and the decisions on its trace, belong to its district)."""
    officer = officer_for_user(user=user)
    if officer is None:
        raise DomainError(_("仅卫生健康部门工作人员可以操作。"), code="not_officer", status=403)
    if resident is not None and not regions.covers(officer.region_codes, resident.region_code):
        raise DomainError(
            _("该人员不在您负责的区域，请由其居住地的卫生健康部门处理。"),
            code="not_my_region",
            status=403,
        )
    return officer


# --- Cases -----------------------------------------------------------------------------------
def case_register(
    *,
    by: User,
    id_type: str,
    id_number: str,
    onset_at: dt.datetime,
    lookback_from: dt.datetime | None = None,
    lookback_to: dt.datetime | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """A case: the person by their document (the lookup is recorded), the onset or first
    positive sampling time, and the look-back — by default from 4 days before onset to now
    (the time of isolation)."""
    _officer(by)
    now = now or timezone.now()
    resident = Resident.objects.filter(id_type=id_type, id_number=id_number).first()
    if resident is None:
        raise DomainError(_("未找到该证件号码的居民。"), field="id_number", code="not_found")
    _officer(by, resident=resident)
    if onset_at > now:
        raise DomainError(_("发病时间不能晚于当前时间。"), field="onset_at")
    lookback_from = lookback_from or onset_at - DEFAULT_LOOKBACK
    lookback_to = lookback_to or now
    if lookback_to <= lookback_from:
        raise DomainError(_("追溯终点应晚于追溯起点。"), field="lookback_to")
    audit_lookup(action=LOOKUP_CHANNEL, actor=by, subject=resident)
    return Case.objects.create(
        resident=resident,
        onset_at=onset_at,
        lookback_from=lookback_from,
        lookback_to=lookback_to,
        registered_by=by,
        created_at=now,
        note=note.strip()[:200],
    )


# --- Traces ----------------------------------------------------------------------------------
def trace_start(
    *, case: Case, by: User, threshold_minutes: int | None = None, second_round: bool = False
) -> Trace:
    """Queue a trace of ``case``; a Celery task runs it (``tasks.trace_run``) and the page
    shows its progress."""
    _officer(by, resident=case.resident)
    threshold = threshold_minutes or settings.TRACE_THRESHOLD_MINUTES
    if not 1 <= threshold <= 24 * 60:
        raise DomainError(_("重叠阈值应在 1 到 1440 分钟之间。"), field="threshold_minutes")
    with transaction.atomic():
        trace = Trace.objects.create(
            case=case, threshold_minutes=threshold, second_round=second_round, created_by=by
        )
        _enqueue_run(trace)
    return trace


def _enqueue_run(trace: Trace) -> None:
    from tracing.tasks import trace_run  # tasks call services

    publish_after_commit(lambda: trace_run.delay(trace.pk), what=f"trace {trace.pk}")


def trace_run(*, trace_id: int) -> Trace:
    """Find the contacts: every stay overlapping one of the case's stays in the look-back
    by at least the threshold (min(end) − max(start)) is a close contact; with a second
    round, every stay overlapping a close contact's stays from their contact on is a secondary
    contact. Idempotent: a rerun replaces the trace's contacts."""
    trace = Trace.objects.select_related("case").get(pk=trace_id)
    if trace.applications.filter(status__in=["pending", "applied"]).exists():
        # A redelivered task must not change the people an application was asked for.
        logger.warning("trace %s has a live application: not rerun", trace.pk)
        return trace
    case = trace.case
    Trace.objects.filter(pk=trace.pk).update(status=Trace.Status.RUNNING, progress=0)
    anchors = [
        (case.resident_id, stay.venue_id, start, end)
        for stay in CheckIn.objects.filter(
            resident_id=case.resident_id,
            checked_in_at__lt=case.lookback_to,
            left_at__gt=case.lookback_from,
        )
        for start, end in [
            (max(stay.checked_in_at, case.lookback_from), min(stay.left_at, case.lookback_to))
        ]
    ]
    rounds = 2 if trace.second_round else 1
    close = _overlapping(
        anchors, exclude={case.resident_id}, threshold=trace.threshold, trace=trace, share=rounds
    )
    found = [_contact(trace, Degree.CLOSE, match, via=False) for match in close]
    if trace.second_round:
        close_ids = {m.resident_id for m in close}
        first_contact: dict[int, dt.datetime] = {}
        for m in close:
            first_contact[m.resident_id] = min(first_contact.get(m.resident_id, m.start), m.start)
        secondary_anchors = [
            (stay.resident_id, stay.venue_id, start, end)
            for stay in CheckIn.objects.filter(
                resident_id__in=close_ids,
                checked_in_at__lt=case.lookback_to,
                left_at__gt=case.lookback_from,
            )
            for start, end in [
                (
                    max(stay.checked_in_at, first_contact[stay.resident_id]),
                    min(stay.left_at, case.lookback_to),
                )
            ]
            if end > start
        ]
        secondary = _overlapping(
            secondary_anchors,
            exclude={case.resident_id, *close_ids},
            threshold=trace.threshold,
            trace=trace,
            share=2,
            offset=50,
        )
        found += [_contact(trace, Degree.SECONDARY, match, via=True) for match in secondary]
    with transaction.atomic():
        TraceContact.objects.filter(trace=trace).delete()
        TraceContact.objects.bulk_create(found, batch_size=2000)
        person_ids = {c.resident_id for c in found}
        # Finding a person is a lookup of them by the officer who started the trace.
        audit_many(
            audit_event(
                kind=AuditKind.READ,
                action=LOOKUP_CHANNEL,
                actor_id=trace.created_by_id,
                subject_id=pk,
                detail={"trace": trace.pk},
            )
            for pk in sorted(person_ids)
        )
        Trace.objects.filter(pk=trace.pk).update(
            status=Trace.Status.DONE, progress=100, finished_at=timezone.now()
        )
    logger.info("trace %s done: %d overlaps, %d people", trace.pk, len(found), len(person_ids))
    trace.refresh_from_db()
    return trace


class _Match:
    __slots__ = ("anchor_resident_id", "resident_id", "venue_id", "start", "end", "explicit")

    def __init__(self, anchor_resident_id, resident_id, venue_id, start, end, explicit):
        self.anchor_resident_id = anchor_resident_id
        self.resident_id = resident_id
        self.venue_id = venue_id
        self.start, self.end, self.explicit = start, end, explicit


def _overlapping(anchors, *, exclude, threshold, trace, share, offset=0) -> list[_Match]:
    """Every other person's stay at an anchor's venue overlapping it by ≥ ``threshold``.
    One indexed query per ``ANCHORS_PER_QUERY`` anchors: stays at that venue that began
    before the anchor's end minus the threshold, and within a stay's longest life before its
    start (the (venue, checked_in_at) index bounds it), ending after its start plus it."""
    matches: list[_Match] = []
    chunks = [anchors[i : i + ANCHORS_PER_QUERY] for i in range(0, len(anchors), ANCHORS_PER_QUERY)]
    for n, chunk in enumerate(chunks, start=1):
        by_venue = defaultdict(list)
        query = Q()
        for anchor in chunk:
            _who, venue_id, start, end = anchor
            by_venue[venue_id].append(anchor)
            query |= Q(
                venue_id=venue_id,
                checked_in_at__gt=start - MAX_STAY,
                checked_in_at__lte=end - threshold,
                left_at__gte=start + threshold,
            )
        rows = (
            CheckIn.objects.filter(query)
            .exclude(resident_id__in=exclude)
            .exclude(resident_id=None)
            .values_list("resident_id", "venue_id", "checked_in_at", "left_at", "left_how")
        )
        for resident_id, venue_id, arrived, left, how in rows:
            for who, _v, start, end in by_venue[venue_id]:
                window_from, window_to = max(arrived, start), min(left, end)
                if window_to - window_from >= threshold:
                    matches.append(
                        _Match(
                            who,
                            resident_id,
                            venue_id,
                            window_from,
                            window_to,
                            how == StayEnd.CHECKOUT,
                        )
                    )
        progress = offset + (100 // share) * n // len(chunks)
        Trace.objects.filter(pk=trace.pk).update(progress=min(progress, 99))
    return matches


def _contact(trace, degree, match: _Match, *, via: bool) -> TraceContact:
    return TraceContact(
        trace=trace,
        resident_id=match.resident_id,
        degree=degree,
        via_id=match.anchor_resident_id if via else None,
        venue_id=match.venue_id,
        window_from=match.start,
        window_to=match.end,
        end_explicit=match.explicit,
    )


# --- Apply, approve, withdraw -------------------------------------------------------------------
def trace_apply(*, trace: Trace, by: User, reason: str, now: dt.datetime | None = None):
    """Ask to apply ``trace``: red for its close contacts, yellow for its secondary ones.
    Up to ``TRACE_APPROVAL_THRESHOLD`` people it applies at once; above, it waits for another
    officer (``application_approve``) and changes nothing until then."""
    _officer(by, resident=trace.case.resident)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写赋码理由。"), field="reason")
    now = now or timezone.now()
    with transaction.atomic():
        trace = Trace.objects.select_for_update().get(pk=trace.pk)
        if trace.status != Trace.Status.DONE:
            raise DomainError(_("时空关联尚未完成，不能赋码。"), code="not_done", status=409)
        if trace.applications.filter(status__in=["pending", "applied"]).exists():
            raise DomainError(_("该时空关联已有赋码申请。"), code="already", status=409)
        people = trace.contacts.values("resident_id").distinct().count()
        if people == 0:
            raise DomainError(_("没有需要赋码的人员。"), code="nobody", status=409)
        # The threshold counts what this officer applied alone in the last 24 hours too, so
        # splitting one large change into small ones does not avoid a second officer.
        alone = Application.objects.filter(
            requested_by=by,
            approved_by=None,
            status=Application.Status.APPLIED,
            requested_at__gt=now - dt.timedelta(hours=24),
        ).aggregate(n=Sum("people"))["n"]
        pending = (alone or 0) + people > settings.TRACE_APPROVAL_THRESHOLD
        application = Application.objects.create(
            trace=trace,
            status=Application.Status.PENDING if pending else Application.Status.APPLIED,
            people=people,
            reason=reason[:300],
            requested_by=by,
            requested_at=now,
        )
        if not pending:
            _apply(application, now=now)
    return application


def application_approve(*, application: Application, by: User, now: dt.datetime | None = None):
    """A second officer approves a pending application: the flags are created now."""
    _officer(by, resident=application.trace.case.resident)
    now = now or timezone.now()
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.requested_by_id == by.pk:
            raise DomainError(
                _("不能审批自己提交的申请，须由另一名工作人员审批。"), code="own", status=403
            )
        if application.status != Application.Status.PENDING:
            raise DomainError(_("该申请不在待审批状态。"), code="not_pending", status=409)
        application.status = Application.Status.APPLIED
        application.approved_by, application.approved_at = by, now
        application.save(update_fields=["status", "approved_by", "approved_at"])
        audit_change(
            action="application_approve",
            actor=by,
            role=ActorRole.OFFICER,
            reason=application.reason,
            detail={
                "trace": application.trace_id,
                "application": application.pk,
                "people": application.people,
                "requested_by": application.requested_by_id,
            },
            at=now,
        )
        _apply(application, now=now)
    return application


def _flag_id(application: Application, resident_id: int) -> str:
    return f"T{application.trace_id}-A{application.pk}-R{resident_id}"


def _apply(application: Application, *, now: dt.datetime) -> None:
    contacts = (
        TraceContact.objects.filter(trace_id=application.trace_id)
        .select_related("resident", "venue")
        .order_by("resident_id", "degree", "window_from")
    )
    first: dict[int, TraceContact] = {}
    for contact in contacts:  # close sorts before secondary: one flag per person, the worst
        first.setdefault(contact.resident_id, contact)
    records = [
        {
            "source": FLAG_SOURCE,
            "external_id": _flag_id(application, contact.resident_id),
            "id_type": contact.resident.id_type,
            "id_number": contact.resident.id_number,
            "name": contact.resident.name,
            "kind": FLAG_KINDS[contact.degree],
            "starts_at": now.isoformat(),
            # Red for the medical observation period, then green again unless renewed;
            # secondary contacts' yellow lasts the rule's default (14 days).
            "ends_at": (now + dt.timedelta(days=settings.TRACE_CLOSE_CONTACT_DAYS)).isoformat()
            if contact.degree == Degree.CLOSE
            else "",
            "reason": _flag_reason(contact),
        }
        for contact in first.values()
    ]
    outcome = risk_flags_import(records=records, entered_by=application.requested_by, now=now)
    if outcome.rejected:
        logger.warning(
            "trace %s apply refused by the flag import: %s",
            application.trace_id,
            [e.get("errors") for e in outcome.errors],
        )
        raise DomainError(_("部分人员信息无法赋码，未做任何更改。"), code="rejected", status=409)
    audit_many(
        audit_event(
            kind=AuditKind.CHANGE,
            action="trace_apply",
            actor=application.requested_by,
            role=ActorRole.OFFICER,
            subject_id=contact.resident_id,
            reason=application.reason,
            detail={
                "trace": application.trace_id,
                "application": application.pk,
                "degree": contact.degree,
                "kind": FLAG_KINDS[contact.degree],
                "approved_by": application.approved_by_id,
            },
            at=now,
        )
        for contact in first.values()
    )
    TraceAction.objects.create(
        application=application,
        kind=TraceAction.Kind.APPLY,
        actor=application.requested_by,
        approved_by=application.approved_by,
        reason=application.reason,
        people=len(records),
        at=now,
    )


def _flag_reason(contact: TraceContact) -> str:
    window = (
        f"{timezone.localtime(contact.window_from):%m-%d %H:%M}"
        f"–{timezone.localtime(contact.window_to):%H:%M}"
    )
    return _("与确诊病例时空交集（%(venue)s，%(window)s）") % {
        "venue": contact.venue.full_name,
        "window": window,
    }


def application_withdraw(
    *,
    application: Application,
    by: User,
    reason: str,
    resident: Resident | None = None,
    now: dt.datetime | None = None,
) -> TraceAction:
    """Withdraw an application (every flag it made ends now; a pending one is cancelled) or,
    with ``resident``, one person's flag. Colours come back through the engine; the action is
    recorded with who and why."""
    _officer(by, resident=application.trace.case.resident)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写撤销理由。"), field="reason")
    now = now or timezone.now()
    from healthcode.models import RiskFlag

    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        if application.status == Application.Status.WITHDRAWN:
            raise DomainError(_("该申请已撤销。"), code="withdrawn", status=409)
        flags = RiskFlag.objects.filter(
            Q(ends_at=None) | Q(ends_at__gt=now),  # secondary (yellow) flags have an end
            source=FLAG_SOURCE,
            external_id__startswith=f"T{application.trace_id}-A{application.pk}-R",
        )
        if resident is not None:
            flags = flags.filter(external_id=_flag_id(application, resident.pk))
            if application.status != Application.Status.APPLIED or not flags.exists():
                raise DomainError(_("该人员没有可撤销的赋码。"), code="no_flag", status=404)
        records = [
            {
                "source": flag.source,
                "external_id": flag.external_id,
                "id_type": flag.id_type,
                "id_number": flag.id_number,
                "name": flag.name,
                "kind": flag.kind,
                "starts_at": flag.starts_at.isoformat(),
                "ends_at": max(now, flag.starts_at + dt.timedelta(microseconds=1)).isoformat(),
                "reason": flag.reason,
            }
            for flag in flags
        ]
        if records:
            outcome = risk_flags_import(
                records=records, entered_by=by, now=now + dt.timedelta(seconds=1)
            )
            if outcome.rejected:  # nothing is withdrawn unless everything is
                raise DomainError(_("撤销未能完成，未做任何更改。"), code="rejected", status=409)
        if resident is None:
            application.status = Application.Status.WITHDRAWN
            application.save(update_fields=["status"])
        _audit_withdrawal(
            application, by=by, reason=reason, flags=records, whole=resident is None, now=now
        )
        return TraceAction.objects.create(
            application=application,
            kind=TraceAction.Kind.WITHDRAW,
            actor=by,
            reason=reason[:300],
            people=len(records),
            flag_external_id=records[0]["external_id"] if resident is not None else "",
            at=now,
        )


def _audit_withdrawal(application, *, by, reason, flags, whole: bool, now) -> None:
    """One event per person whose flag the withdrawal ended (the flag's id names them), or
    one of nobody when a pending application is cancelled before it changed anything."""
    detail = {"trace": application.trace_id, "application": application.pk, "whole": whole}
    people = sorted(int(flag["external_id"].rsplit("-R", 1)[1]) for flag in flags)
    audit_many(
        audit_event(
            kind=AuditKind.CHANGE,
            action="application_withdraw",
            actor=by,
            role=ActorRole.OFFICER,
            subject_id=pk,
            reason=reason,
            detail=detail,
            at=now,
        )
        for pk in people or [None]
    )


# --- What officers read of people ------------------------------------------------------------
def case_viewed(*, case: Case, by: User) -> None:
    """An officer opened a case's page: a read of the case's person (shown masked)."""
    audit_lookup(
        action="officer_case_view", actor=by, subject=case.resident, detail={"case": case.pk}
    )


def trace_viewed(*, trace: Trace, by: User, resident_ids, now: dt.datetime | None = None) -> None:
    """An officer opened a trace's page, which shows its case and its contacts (masked); the
    page reloads itself every 2 s while the trace runs, so each person is recorded once a
    window (``audit.services.audit_reads_once``)."""
    audit_reads_once(
        action="officer_trace_view",
        actor=by,
        subject_ids=[trace.case.resident_id, *resident_ids],
        detail={"trace": trace.pk},
        now=now,
    )


def trace_exported(*, trace: Trace, by: User, rows: int) -> None:
    """An officer downloaded a trace's contacts as CSV: a read of a list, not of one person."""
    audit_read(action="officer_export", actor=by, detail={"trace": trace.pk, "rows": rows})


# --- Workbench statistics ----------------------------------------------------------------------
def colour_counts_snapshot(*, now: dt.datetime | None = None) -> int:
    """Store today's residents by colour per district (replacing today's earlier snapshot);
    the hourly beat keeps it current, so each past day keeps its last count."""
    from healthcode.selectors import colour_counts_by_district
    from tracing.models import ColourCount

    day = timezone.localdate(now or timezone.now())
    counts = colour_counts_by_district()
    with transaction.atomic():
        ColourCount.objects.filter(day=day).delete()
        ColourCount.objects.bulk_create(
            ColourCount(day=day, region_code=region, colour=colour, count=n)
            for (region, colour), n in counts.items()
        )
    return len(counts)
