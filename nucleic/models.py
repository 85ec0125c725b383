from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import masking
from healthcode.apikeys import ApiKey
from healthcode.idnumbers import IdType
from healthcode.ingest import UploadBatch
from healthcode.models import PopulationGroup


class Lab(models.Model):
    name = models.CharField(_("检测机构名称"), max_length=100, unique=True)
    region_code = models.CharField(_("行政区划代码"), max_length=6)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("检测机构")
        verbose_name_plural = _("检测机构")

    def __str__(self) -> str:
        return self.name


class LabToken(ApiKey):
    """An API token of a lab (see ``healthcode.apikeys``)."""

    KEY_PREFIX = "lab_"

    lab = models.ForeignKey(
        Lab, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("检测机构")
    )

    class Meta:
        verbose_name = _("检测机构令牌")
        verbose_name_plural = _("检测机构令牌")

    def __str__(self) -> str:
        return f"{self.lab} {self.prefix}…"

    @classmethod
    def issue(cls, *, lab: Lab, name: str = "") -> tuple["LabToken", str]:
        return cls.create_with_key(lab=lab, name=name)


class Result(models.TextChoices):
    PENDING = "pending", _("待出结果")
    NEGATIVE = "negative", _("阴性")
    POSITIVE = "positive", _("阳性")
    INVALID = "invalid", _("无效（需复检）")


class ResultBatch(UploadBatch):
    """One upload by a lab, kept for audit: who, when, what came of it."""

    lab = models.ForeignKey(
        Lab, on_delete=models.PROTECT, related_name="batches", verbose_name=_("检测机构")
    )
    token = models.ForeignKey(LabToken, on_delete=models.PROTECT, related_name="batches")

    class Meta(UploadBatch.Meta):
        verbose_name = _("结果上传批次")
        verbose_name_plural = _("结果上传批次")

    def __str__(self) -> str:
        return f"{self.lab} {self.received_at:%Y-%m-%d %H:%M} ({self.total})"


class Sample(models.Model):
    """A sample (采样) and its result, keyed by the person's identity document.

    A sample whose person is not registered yet waits here and applies when they register.
    """

    lab = models.ForeignKey(
        Lab, on_delete=models.PROTECT, related_name="samples", verbose_name=_("检测机构")
    )
    barcode = models.CharField(_("样本条码"), max_length=64)
    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=32)
    name = models.CharField(_("姓名"), max_length=64)
    sampled_at = models.DateTimeField(_("采样时间"))
    reported_at = models.DateTimeField(_("报告时间"), null=True, blank=True)
    result = models.CharField(_("结果"), max_length=8, choices=Result.choices)
    batch = models.ForeignKey(
        ResultBatch, on_delete=models.PROTECT, related_name="samples", verbose_name=_("最近批次")
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    # Set when a health officer upholds an appeal against this result (appeals.services):
    # from then on the engine is not given it (healthcode.selectors.facts_for_residents). A
    # lab's later record for the barcode does not clear it: only the appeal decided it.
    disputed_at = models.DateTimeField(_("申诉成立（结果存疑）时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("核酸样本")
        verbose_name_plural = _("核酸样本")
        constraints = [
            models.UniqueConstraint(fields=["lab", "barcode"], name="sample_barcode_per_lab"),
            models.CheckConstraint(
                condition=models.Q(result="pending") | models.Q(reported_at__isnull=False),
                name="sample_result_has_report_time",
            ),
        ]
        indexes = [models.Index(fields=["id_number"], name="sample_id_number")]

    def __str__(self) -> str:
        return f"{self.barcode} {masking.mask_name(self.name)} {self.get_result_display()}"


class SampleChange(models.Model):
    """A sample's earlier version, kept when a later record changed it (pending → negative,
    or a lab's correction)."""

    sample = models.ForeignKey(
        Sample, on_delete=models.CASCADE, related_name="changes", verbose_name=_("样本")
    )
    batch = models.ForeignKey(
        ResultBatch, on_delete=models.PROTECT, related_name="changes", verbose_name=_("批次")
    )
    before = models.JSONField(_("变更前"))
    after = models.JSONField(_("变更后"))
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)

    class Meta:
        verbose_name = _("样本变更记录")
        verbose_name_plural = _("样本变更记录")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.before.get('result')} → {self.after.get('result')}"


class TestPolicy(models.Model):
    """Test-validity policy, effective-dated: the row with the latest ``effective_from`` not
    after a given instant applies to its population group at that instant."""

    __test__ = False  # not a pytest class

    class CountsFrom(models.TextChoices):
        SAMPLING = "sampling", _("采样时间")
        RESULT = "result", _("阴性结果时间")

    group = models.CharField(
        _("人群"), max_length=32, choices=PopulationGroup.choices, default=PopulationGroup.GENERAL
    )
    window_hours = models.PositiveIntegerField(
        _("有效时长（小时）"), validators=[MinValueValidator(1), MaxValueValidator(24 * 30)]
    )
    counts_from = models.CharField(
        _("起算点"), max_length=16, choices=CountsFrom.choices, default=CountsFrom.SAMPLING
    )
    pending_counts = models.BooleanField(_("已采样待出结果计入"), default=True)
    effective_from = models.DateTimeField(_("生效时间"))
    note = models.CharField(_("依据"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("核酸有效期政策")
        verbose_name_plural = _("核酸有效期政策")
        ordering = ["group", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "effective_from"], name="policy_one_per_instant"
            ),
            models.CheckConstraint(
                condition=models.Q(window_hours__gt=0), name="policy_window_positive"
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.effective_from)
        return f"{self.get_group_display()} {self.window_hours}h @ {when:%Y-%m-%d %H:%M}"
