"""Reads for appeals: a resident's own, the officers' queue, and the facts behind one."""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import Appeal, AppealStatus, FactKind
from healthcode import masking, regions
from healthcode.models import HealthOfficer, Resident, explain_reasons
from healthcode.selectors import health_code_of
from tracing.models import Trace, TraceAction
from tracing.services import FLAG_SOURCE as TRACE_FLAG_SOURCE

# How long a decided appeal's answer stays on the code page once its reason is gone (it stays
# in 我的申诉 and the record for good).
ANSWER_ON_CODE_PAGE = dt.timedelta(days=14)
# An appeal waiting longer than this is marked red in the officers' queue.
QUEUE_OVERDUE = dt.timedelta(days=1)


# --- The resident's own ------------------------------------------------------------------------
def appeals_of(*, resident: Resident) -> list[Appeal]:
    """Every appeal of the resident, newest first."""
    return list(Appeal.objects.filter(resident=resident).order_by("-created_at", "-id"))


def appeal_of(*, resident: Resident, public_id) -> Appeal | None:
    """The resident's own appeal by its public id; None for anyone else's."""
    return Appeal.objects.filter(resident=resident, public_id=public_id).first()


def appealable_reasons(*, resident: Resident, now: dt.datetime | None = None) -> list[dict]:
    """The reasons on the resident's code now that name a fact (green's 未见异常 names none),
    explained as on the code page."""
    code = health_code_of(resident=resident, now=now)
    return [r for r in explain_reasons(code.reasons) if r.get("fact")]


def appealable_reason(*, resident: Resident, fact: str) -> dict | None:
    return next((r for r in appealable_reasons(resident=resident) if r["fact"] == fact), None)


@dataclass(frozen=True)
class AppealLines:
    """What the code page and the record say about appeals: the latest appeal per fact (a
    line under its reason) and the answers of recent appeals whose reason is gone."""

    by_fact: dict[str, Appeal] = field(default_factory=dict)
    answered: list[Appeal] = field(default_factory=list)


def appeal_lines(*, resident: Resident, reasons: list[dict], now: dt.datetime) -> AppealLines:
    """One query: the resident's appeals (few), newest first."""
    by_fact: dict[str, Appeal] = {}
    answered = []
    current = {r.get("fact") for r in reasons}
    for appeal in appeals_of(resident=resident):
        by_fact.setdefault(appeal.fact, appeal)
        if (
            appeal.fact not in current
            and not appeal.is_open
            and appeal.decided_at >= now - ANSWER_ON_CODE_PAGE
            and by_fact[appeal.fact] is appeal
        ):
            answered.append(appeal)
    return AppealLines(by_fact=by_fact, answered=answered)


# --- The officers' queue ---------------------------------------------------------------------
def appeals_queue(*, officer: HealthOfficer) -> QuerySet[Appeal]:
    """Open appeals of residents in the officer's regions, oldest first."""
    return (
        Appeal.objects.filter(status=AppealStatus.OPEN)
        .filter(regions.covered_q("resident__region_code", officer.region_codes))
        .select_related("resident")
        .order_by("created_at", "id")
    )


def appeals_decided_recently(*, officer: HealthOfficer, limit: int = 20) -> list[Appeal]:
    return list(
        Appeal.objects.exclude(status=AppealStatus.OPEN)
        .filter(regions.covered_q("resident__region_code", officer.region_codes))
        .select_related("resident")
        .order_by("-decided_at", "-id")[:limit]
    )


def appeal_for_officer(*, officer: HealthOfficer, public_id) -> Appeal | None:
    """An appeal of a resident in the officer's regions; None otherwise (as if it did not
    exist: an officer elsewhere learns nothing of it)."""
    appeal = (
        Appeal.objects.select_related(
            "resident", "resident__user", "flag", "sample", "sample__lab", "stay", "area"
        )
        .filter(public_id=public_id)
        .first()
    )
    if appeal is None or not officer.covers(appeal.resident.region_code):
        return None
    return appeal


def age_text(since: dt.datetime, now: dt.datetime) -> str:
    """How long an appeal has waited, for the queue: 3 天 / 5 小时 / 12 分钟."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes >= 24 * 60:
        return _("%(n)s 天") % {"n": minutes // (24 * 60)}
    if minutes >= 60:
        return _("%(n)s 小时") % {"n": minutes // 60}
    if minutes >= 1:
        return _("%(n)s 分钟") % {"n": minutes}
    return _("不到 1 分钟")


# --- The facts behind an appeal, for the officer (masked) ----------------------------------
@dataclass(frozen=True)
class Fact:
    label: str
    value: str


def appeal_facts(*, appeal: Appeal) -> list[Fact]:
    """What the officer needs to decide: who (masked), the reason, and the fact behind it in
    full — never the person's full name, ID number or phone."""
    resident = appeal.resident
    phone = resident.user.phone if resident.user_id else ""
    rows = [
        Fact(_("申诉人"), resident.masked_name),
        Fact(_("证件号码"), resident.masked_id_number),
        Fact(_("手机号码"), masking.mask_phone(phone) if phone else _("无")),
        Fact(_("居住地"), regions.region_name(resident.region_code) or resident.region_code),
        Fact(_("赋码原因"), appeal.reason_text),
        Fact(_("事实类别"), appeal.get_kind_display()),
    ]
    return rows + _fact_rows(appeal)


def _fact_rows(appeal: Appeal) -> list[Fact]:
    if appeal.kind == FactKind.FLAG:
        flag = appeal.flag
        rows = [
            Fact(_("来源"), flag.source),
            Fact(_("起止"), f"{_t(flag.starts_at)} — {_t(flag.ends_at) or _('未定')}"),
        ]
        if flag.reason:
            rows.append(Fact(_("依据"), flag.reason))
        if (ref := trace_of_flag(flag)) is not None:
            rows.append(Fact(_("流调"), _("来自时空关联 %(t)s（赋码申请 %(a)s）") % ref))
        return rows
    if appeal.kind == FactKind.SAMPLE:
        sample = appeal.sample
        return [
            Fact(_("检测机构"), sample.lab.name),
            Fact(_("样本条码"), sample.barcode),
            Fact(_("采样时间"), _t(sample.sampled_at)),
            Fact(_("报告时间"), _t(sample.reported_at) or "—"),
            Fact(_("结果"), sample.get_result_display()),
        ]
    stay, area = appeal.stay, appeal.area
    return [
        Fact(_("申报行程"), regions.region_name(stay.region_code) or stay.region_code),
        Fact(_("到达—离开"), f"{_t(stay.arrived_at)} — {_t(stay.left_at) or _('未离开')}"),
        Fact(
            _("风险地区"),
            f"{area.name or area.region_code} {area.get_level_display()}，"
            f"{_t(area.starts_at)} — {_t(area.ends_at) or _('未解除')}",
        ),
    ]


def _t(when: dt.datetime | None) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when else ""


# tracing.services._flag_id names a trace's flags T<trace>-A<application>-R<resident>.
_TRACE_FLAG_ID = re.compile(r"T(?P<t>\d+)-A(?P<a>\d+)-R\d+")


def trace_of_flag(flag) -> dict | None:
    """The trace and application a flag came from (``{"t": trace id, "a": application
    id}``), or None for a flag from any other source."""
    if flag.source != TRACE_FLAG_SOURCE:
        return None
    match = _TRACE_FLAG_ID.fullmatch(flag.external_id)
    return {"t": int(match["t"]), "a": int(match["a"])} if match else None


def trace_officers_of_flag(flag) -> set[int]:
    """The users who started or applied the trace a flag came from: the trace's creator and
    whoever applied it or approved the apply (``TraceAction``: an apply's actor is the
    application's requester, its approver the second officer). Empty for a flag from another
    source."""
    ref = trace_of_flag(flag)
    if ref is None:
        return set()
    people = set(Trace.objects.filter(pk=ref["t"]).values_list("created_by_id", flat=True))
    for actor, approved in TraceAction.objects.filter(
        kind=TraceAction.Kind.APPLY, application_id=ref["a"]
    ).values_list("actor_id", "approved_by_id"):
        people |= {actor, approved}
    return people - {None}
