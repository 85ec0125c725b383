"""Cases, traces (时空关联) and the applications that turn contacts' codes red or yellow.

Nothing here changes a colour by itself: applying a trace creates risk flags through
healthcode's import (source ``trace``), which recompute the codes through the engine; a
withdrawal ends them the same way. Every apply and withdrawal is a ``TraceAction`` row.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Look-back default (seed 002): from 4 days before onset to the time of isolation.
DEFAULT_LOOKBACK = dt.timedelta(days=4)
DEFAULT_THRESHOLD_MINUTES = 15


class Case(models.Model):
    """A confirmed or suspected case (病例) an officer registered, and the look-back window
    whose stays are traced."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey(
        "healthcode.Resident",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("病例"),
    )
    onset_at = models.DateTimeField(_("发病或首次阳性采样时间"))
    lookback_from = models.DateTimeField(_("追溯起点"))
    lookback_to = models.DateTimeField(_("追溯终点（隔离时间）"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("病例")
        verbose_name_plural = _("病例")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lookback_to__gt=models.F("lookback_from")),
                name="case_lookback_forward",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident.masked_name} {self.onset_at:%Y-%m-%d}"


class Trace(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("计算中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="traces")
    threshold_minutes = models.PositiveIntegerField(
        _("重叠阈值（分钟）"), default=DEFAULT_THRESHOLD_MINUTES
    )
    second_round = models.BooleanField(_("追踪次密接"), default=False)
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("时空关联")
        verbose_name_plural = _("时空关联")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(threshold_minutes__gte=1), name="trace_threshold_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} ≥{self.threshold_minutes}min"

    @property
    def threshold(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.threshold_minutes)


class Degree(models.TextChoices):
    CLOSE = "close", _("密接")
    SECONDARY = "secondary", _("次密接")


class TraceContact(models.Model):
    """One overlap found: ``resident`` was at ``venue`` with the case (or, for a secondary
    contact, with the close contact ``via``) for ``overlap`` in the window given."""

    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="contacts")
    resident = models.ForeignKey("healthcode.Resident", on_delete=models.PROTECT, related_name="+")
    degree = models.CharField(_("类别"), max_length=16, choices=Degree.choices)
    via = models.ForeignKey(
        "healthcode.Resident", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    window_from = models.DateTimeField(_("重叠开始"))
    window_to = models.DateTimeField(_("重叠结束"))
    end_explicit = models.BooleanField(_("离开时间明确"))

    class Meta:
        verbose_name = _("关联人员")
        verbose_name_plural = _("关联人员")
        ordering = ["venue_id", "window_from", "id"]
        indexes = [models.Index(fields=["trace", "degree"], name="tracecontact_degree")]

    def __str__(self) -> str:
        return f"{self.get_degree_display()} {self.window_from:%Y-%m-%d %H:%M}"

    @property
    def overlap_minutes(self) -> int:
        return int((self.window_to - self.window_from).total_seconds() // 60)


class Application(models.Model):
    """A request to apply a trace: red flags for close contacts, yellow for secondary ones.
    Above ``TRACE_APPROVAL_THRESHOLD`` people it waits for a second officer's approval;
    until then nothing changes. Withdrawn: the flags are ended and the colours come back."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPLIED = "applied", _("已赋码")
        WITHDRAWN = "withdrawn", _("已撤销")

    trace = models.ForeignKey(Trace, on_delete=models.PROTECT, related_name="applications")
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices)
    people = models.PositiveIntegerField(_("涉及人数"))
    reason = models.CharField(_("理由"), max_length=300)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("赋码申请")
        verbose_name_plural = _("赋码申请")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(approved_by=models.F("requested_by")),
                name="application_not_self_approved",
            ),
            models.UniqueConstraint(
                fields=["trace"],
                condition=models.Q(status__in=["pending", "applied"]),
                name="application_one_live_per_trace",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trace} {self.get_status_display()} ({self.people})"


class TraceAction(models.Model):
    """The record of every apply and withdrawal: who, why, the approval, how many people.
    Never edited or deleted."""

    class Kind(models.TextChoices):
        APPLY = "apply", _("赋码")
        WITHDRAW = "withdraw", _("撤销")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(_("操作"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reason = models.CharField(_("理由"), max_length=300)
    people = models.PositiveIntegerField(_("涉及人数"))
    # One flag withdrawn on its own: its source id; blank for the whole application.
    flag_external_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("赋码操作记录")
        verbose_name_plural = _("赋码操作记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.people} @ {self.at:%Y-%m-%d %H:%M}"


class ColourCount(models.Model):
    """How many residents of a district had each colour at the end of a day: the workbench's
    "residents by colour over time". Written by a beat task every hour for today (so today is
    current and each past day keeps its last count); today is also read live."""

    day = models.DateField(_("日期"))
    region_code = models.CharField(_("区县代码"), max_length=6)
    colour = models.CharField(_("颜色"), max_length=8)
    count = models.PositiveIntegerField(_("人数"))

    class Meta:
        verbose_name = _("每日赋码统计")
        verbose_name_plural = _("每日赋码统计")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "region_code", "colour"], name="colourcount_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code} {self.colour} {self.count}"
