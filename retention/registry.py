"""What personal data is kept how long: one ``DataClass`` per kind, in ``REGISTRY``.

Each class says which rows are past their period (``expired``: a queryset, re-applied by the
DELETE itself so a row that changed meanwhile is not taken) and, where the engine or a door
rule may still read an old row, which of those must stay (``deciding``: pks). The rules that
decide are asked, not restated: the engine's rule table and evaluation (healthcode.engine),
the policies' and venues' test windows, the token lifetime, the log-in cool-off.

Adding a kind of data is one entry here, one setting in config/settings.py and one row in the
README's retention table.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from appeals.models import Appeal, AppealStatus
from appeals.photos import photo_remove
from audit.models import AUDIT_DELETE_FLOOR_DAYS, AuditEvent
from checkins.models import CheckIn, Method
from healthcode import engine, lockout, tokens
from healthcode.models import HealthCodeChange, ItineraryStay, RiskArea, RiskFlag
from nucleic.models import ResultBatch, Sample, SampleChange, TestPolicy
from proxy_scan.models import ELDER_LOOKUP_RESULT_LIFETIME, ElderLookupResult
from vaccination.models import Dose, DoseBatch, DoseChange
from venues.models import EntryRule


@dataclass(frozen=True)
class DataClass:
    key: str  # in logs, the task's result and the README's table
    label: str  # 中文, for people
    setting: str  # the setting that holds the period in days ("" when a rule fixes it)
    expired: Callable[[dt.datetime, dt.timedelta], QuerySet]  # (now, period) -> rows past it
    # pks among ``rows`` (expired ones, one chunk) that still decide a colour or a door
    deciding: Callable[[QuerySet, dt.datetime], set[int]] | None = None
    fixed_period: Callable[[], dt.timedelta] | None = None  # instead of the setting
    # Files that belong to the rows (an appeal's photo): (fields to read before the delete,
    # what to do with each row's values once the delete has committed).
    files: tuple[list[str], Callable[[dict], None]] | None = None

    def period(self) -> dt.timedelta:
        """Read at each run (a changed setting applies at the next)."""
        if self.fixed_period is not None:
            return self.fixed_period()
        return dt.timedelta(days=getattr(settings, self.setting))


# --- Check-ins and stays ------------------------------------------------------------------
PROXY_METHODS = [
    Method.PROXY_ID_CARD,
    Method.PROXY_CITIZEN_CARD,
    Method.PROXY_PAPER_CODE,
    Method.PROXY_FAMILY,
]


def _checkins_ended_before(now, period) -> QuerySet:
    """Stays that ended more than ``period`` ago, except those a door still reads: a token
    that checked its holder in is refused at other venues for its whole life
    (checkins.selectors.token_used_elsewhere). No engine rule reads a check-in; a trace turns
    them into risk flags, which are kept as flags."""
    return CheckIn.objects.filter(left_at__lt=now - period).exclude(
        checked_in_at__gt=now - tokens.lifetime()
    )


def _checkins_expired(now, period) -> QuerySet:
    return _checkins_ended_before(now, period).exclude(method__in=PROXY_METHODS)


def _proxy_checkins_expired(now, period) -> QuerySet:
    return _checkins_ended_before(now, period).filter(method__in=PROXY_METHODS)


def _not_appealed(rows: QuerySet, field: str) -> QuerySet:
    """A fact a resident appealed is kept as long as the appeal is (the appeal is the record
    of what was contested and decided; its own period is below)."""
    return rows.exclude(Exists(Appeal.objects.filter(**{field: OuterRef("pk")})))


def _itinerary_expired(now, period) -> QuerySet:
    # A stay not yet left has not ended: it is current, whatever its start.
    return _not_appealed(ItineraryStay.objects.filter(left_at__lt=now - period), "stay")


def _itinerary_deciding(rows: QuerySet, now) -> set[int]:
    """Stays the engine still turns into a reason (4 h in an area while it was at risk, for
    14 days after): evaluated with the areas that may cover them."""
    stays = [engine.Stay(f"stay:{s.pk}", s.region_code, s.arrived_at, s.left_at) for s in rows]
    if not stays:
        return set()
    provinces = Q()
    for province in {s.region_code[:2] for s in stays}:
        provinces |= Q(region_code__startswith=province)
    areas = tuple(
        engine.Area(f"area:{a.pk}", a.region_code, a.level, a.starts_at, a.ends_at)
        for a in RiskArea.objects.filter(provinces)
    )
    status = engine.evaluate(engine.Facts(stays=tuple(stays), areas=areas), now)
    return {
        int(reason.fact.split("/")[0].removeprefix("stay:"))
        for reason in status.reasons
        if reason.fact.startswith("stay:")
    }


# --- Nucleic-acid results and the lab batches that brought them ----------------------------
def longest_test_window() -> dt.timedelta:
    """The longest window any result may still count in: every policy that ever applied
    (any group, counted from sampling or from the result) and every venue's own rule."""
    hours = [int(value) for value in EntryRule.values if value.isdigit()]
    policy_max = TestPolicy.objects.aggregate(h=Max("window_hours"))["h"]
    return dt.timedelta(hours=max([*hours, policy_max or 0]))


def _samples_expired(now, period) -> QuerySet:
    """Results whose time (the report, else the sampling) is past the period, except those
    that may still decide: any result inside the longest test window (counted from either
    end, so from the later), a positive inside its red period (the engine's rule)."""
    red = engine.RULES["positive_result"].default_duration
    at = Coalesce(F("reported_at"), F("sampled_at"))
    return _not_appealed(
        Sample.objects.alias(at=at)
        .filter(at__lt=now - period)
        .exclude(at__gt=now - longest_test_window())
        .exclude(result=engine.Result.POSITIVE, reported_at__gt=now - red),
        "sample",
    )


def _batches_expired(now, period) -> QuerySet:
    """A lab's upload past its period, once no result and no recorded change still points at
    it: a result that still decides keeps the batch it came in (Sample.batch protects it)."""
    return ResultBatch.objects.filter(received_at__lt=now - period).exclude(
        Exists(Sample.objects.filter(batch=OuterRef("pk")))
        | Exists(SampleChange.objects.filter(batch=OuterRef("pk")))
    )


def _dose_batches_expired(now, period) -> QuerySet:
    """A vaccination site's upload past its period, once no dose and no recorded change points
    at it. Doses themselves are not deleted: a venue's vaccination rule reads every dose a
    person ever had (they decide a door for as long as the person lives)."""
    return DoseBatch.objects.filter(received_at__lt=now - period).exclude(
        Exists(Dose.objects.filter(batch=OuterRef("pk")))
        | Exists(DoseChange.objects.filter(batch=OuterRef("pk")))
    )


# --- Risk flags -----------------------------------------------------------------------------
def _flags_expired(now, period) -> QuerySet:
    """Flags that ended more than ``period`` ago. The engine reads a flag only while
    ``starts_at <= now < ends_at``; a flag with no end lasts until lifted and is never taken."""
    return _not_appealed(RiskFlag.objects.filter(ends_at__lt=now - period), "flag")


# --- Appeals (申诉) -------------------------------------------------------------------------
def _appeals_expired(now, period) -> QuerySet:
    """Appeals decided more than ``period`` ago; an open appeal is never taken."""
    return Appeal.objects.exclude(status=AppealStatus.OPEN).filter(decided_at__lt=now - period)


# --- 老幼助查, log-in failures, the audit trail --------------------------------------------
def _elder_results_expired(now, period) -> QuerySet:
    # Unreadable from created_at + lifetime on (ElderLookupResult.readable_at).
    return ElderLookupResult.objects.filter(created_at__lte=now - period)


def _login_failures_expired(now, period) -> QuerySet:
    """Failed log-ins (phone as typed, IP) past the period, except those still counting
    towards a lock (healthcode.lockout: a failure counts for the cool-off)."""
    cool_off = lockout.cool_off(None)
    return AccessAttempt.objects.filter(attempt_time__lt=now - period).exclude(
        attempt_time__gt=now - cool_off
    )


def _audit_period() -> dt.timedelta:
    # On PostgreSQL the table's trigger refuses to delete rows younger than the floor; the
    # setting's minimum keeps it from being shorter, and so does this (a run asking for less
    # would fail on the trigger and leave the rest of the trail untouched).
    return dt.timedelta(days=max(settings.AUDIT_RETENTION_DAYS, AUDIT_DELETE_FLOOR_DAYS))


def _audit_expired(now, period) -> QuerySet:
    return AuditEvent.objects.filter(at__lt=now - period)


def _colour_history_expired(now, period) -> QuerySet:
    """A code's colour history (我的记录's changes) is its own audit: kept as long as the trail
    (each change is also a ``status_change`` event there); the code keeps its current colour."""
    return HealthCodeChange.objects.filter(changed_at__lt=now - period)


# Order matters where one class holds another: results before the batches they point at.
REGISTRY: tuple[DataClass, ...] = (
    DataClass(
        "checkins",
        _("扫码登记与停留"),
        "RETENTION_DAYS_CHECKINS",
        _checkins_expired,
    ),
    DataClass(
        "proxy_checkins",
        _("帮扫与家庭成员代扫登记"),
        "RETENTION_DAYS_PROXY_CHECKINS",
        _proxy_checkins_expired,
    ),
    # Before the facts they name: an appeal keeps its flag, result or stay while it is kept.
    DataClass(
        "appeals",
        _("申诉及其照片（已处理）"),
        "RETENTION_DAYS_APPEALS",
        _appeals_expired,
        files=(["photo"], lambda row: photo_remove(row["photo"])),
    ),
    DataClass(
        "itinerary_stays",
        _("申报行程"),
        "RETENTION_DAYS_ITINERARY",
        _itinerary_expired,
        _itinerary_deciding,
    ),
    DataClass(
        "lab_results",
        _("核酸检测结果"),
        "RETENTION_DAYS_LAB_RESULTS",
        _samples_expired,
    ),
    DataClass(
        "lab_batches",
        _("检测机构原始上传批次"),
        "RETENTION_DAYS_LAB_BATCHES",
        _batches_expired,
    ),
    DataClass(
        "vaccination_batches",
        _("接种点原始上传批次"),
        "RETENTION_DAYS_VACCINATION_BATCHES",
        _dose_batches_expired,
    ),
    DataClass(
        "risk_flags",
        _("风险人员标记（已结束）"),
        "RETENTION_DAYS_RISK_FLAGS",
        _flags_expired,
    ),
    DataClass(
        "elder_lookup_results",
        _("老幼助查结果"),
        "",  # seed 001: the page closes after 10 s; the server's copy lives as long
        _elder_results_expired,
        fixed_period=lambda: ELDER_LOOKUP_RESULT_LIFETIME,
    ),
    DataClass(
        "login_failures",
        _("登录失败记录"),
        "RETENTION_DAYS_LOGIN_FAILURES",
        _login_failures_expired,
    ),
    DataClass(
        "colour_history",
        _("健康码颜色变更记录"),
        "AUDIT_RETENTION_DAYS",
        _colour_history_expired,
        fixed_period=_audit_period,
    ),
    DataClass(
        "audit",
        _("审计记录"),
        "AUDIT_RETENTION_DAYS",
        _audit_expired,
        fixed_period=_audit_period,
    ),
)
