import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import masking, regions
from healthcode.apikeys import ApiKey
from healthcode.models import Colour, Resident, test_line
from vaccination.selectors import Vaccination
from venues.models import Venue


class Method(models.TextChoices):
    SELF_SCAN = "self_scan", _("本人扫场所码")
    INSPECTOR_SCAN = "inspector_scan", _("检测员反向扫码")
    DEVICE = "device", _("扫码设备")
    MANUAL = "manual", _("手工登记")
    # 帮扫: a helper checks someone else in (proxy_scan.services.proxy_checkin); the check-in
    # names the helper in ``CheckIn.helper``.
    PROXY_ID_CARD = "proxy_id_card", _("帮扫：身份证号")
    PROXY_CITIZEN_CARD = "proxy_citizen_card", _("帮扫：市民卡号")
    PROXY_PAPER_CODE = "proxy_paper_code", _("帮扫：纸质健康码")
    PROXY_FAMILY = "proxy_family", _("帮扫：家庭成员")


class TemperatureBand(models.TextChoices):
    NORMAL = "normal", _("正常")
    FEVER = "fever", _("发热 ≥37.3℃")


FEVER_CELSIUS = 37.3


# A stay lasts at most this long: an assumed end never goes past it, nor a late check-out.
MAX_STAY = dt.timedelta(hours=24)


class StayEnd(models.TextChoices):
    """How a stay's end (``CheckIn.left_at``) is known. Only a check-out is explicit."""

    ASSUMED = "assumed", _("按场所默认停留时长推定")
    CHECKOUT = "checkout", _("离开时扫码（明确）")
    NEXT_CHECKIN = "next_checkin", _("在其他场所扫码时结束")


class CheckIn(models.Model):
    """One entry at a venue, with the person's status and the decision at that moment; and the
    stay it began, from ``checked_in_at`` to ``left_at`` (tracing overlaps stays)."""

    class Decision(models.TextChoices):
        PASS = "pass", _("可以通行")
        STOP = "stop", _("禁止通行")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="checkins", null=True, blank=True
    )
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="checkins")
    checked_in_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    method = models.CharField(_("方式"), max_length=24, choices=Method.choices)
    colour = models.CharField(_("健康码"), max_length=8, choices=Colour.choices, blank=True)
    reasons = models.JSONField(_("赋码原因"), default=list)
    test = models.JSONField(_("核酸状态"), default=dict)
    # The person's doses as the door saw them (vaccination.selectors.Vaccination.stored):
    # empty for an unregistered person checked in by hand.
    vaccination = models.JSONField(_("疫苗接种"), default=dict, blank=True)
    decision = models.CharField(_("结果"), max_length=8, choices=Decision.choices)
    decision_code = models.CharField(max_length=16)
    decision_text = models.CharField(_("说明"), max_length=100)
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scans",
        verbose_name=_("扫码人"),
    )
    # 帮扫: who checked this person in on their behalf (a family member, a companion), not
    # venue staff — ``scanned_by`` is the door's inspector and keeps that meaning. The helper
    # may open this check-in's result page; the person sees the helper, masked, in their history.
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proxy_checkins",
        verbose_name=_("帮扫人"),
    )
    temperature_band = models.CharField(
        _("体温"), max_length=8, choices=TemperatureBand.choices, blank=True
    )
    temperature = models.DecimalField(
        _("体温（℃）"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    # The health-code token scanned (a fingerprint, not the token): a token that checked its
    # holder in here is refused at any other venue for the rest of its life.
    token_digest = models.CharField(max_length=32, blank=True)
    # The stay: until a check-out (离开, an exit scan), a check-in elsewhere, or else the
    # venue's default stay for its category (capped at MAX_STAY) after arriving.
    left_at = models.DateTimeField(_("离开时间"))
    left_how = models.CharField(
        _("离开时间来源"), max_length=16, choices=StayEnd.choices, default=StayEnd.ASSUMED
    )
    # The id a door's browser gave its confirmation (crypto.randomUUID): a confirmation queued
    # while offline is sent until the door hears back, so the same one may arrive twice; it
    # is recorded once per inspector (checkin_once_per_client_id).
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    # 手工登记 of a person with no phone and no code: who they said they were.
    manual_name = models.CharField(_("登记姓名"), max_length=64, blank=True)
    manual_id_number = models.CharField(_("登记证件号码"), max_length=32, blank=True)
    manual_phone = models.CharField(_("登记手机号码"), max_length=11, blank=True)

    class Meta:
        verbose_name = _("扫码登记")
        verbose_name_plural = _("扫码登记")
        indexes = [
            models.Index(fields=["venue", "checked_in_at"], name="checkin_venue_time"),
            models.Index(fields=["resident", "venue", "checked_in_at"], name="checkin_person"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(left_at__gte=models.F("checked_in_at")),
                name="checkin_left_after_arrival",
            ),
            models.UniqueConstraint(
                fields=["scanned_by", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="checkin_once_per_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.venue} {self.checked_in_at:%Y-%m-%d %H:%M} {self.get_decision_display()}"

    @property
    def left_explicitly(self) -> bool:
        return self.left_how == StayEnd.CHECKOUT

    @property
    def vaccination_line(self) -> str:
        """已接种 3 剂（末次 2022-01-10） / 未接种 as at the check-in; empty when unknown."""
        summary = Vaccination.from_stored(self.vaccination)
        return summary.text if summary is not None else ""

    @property
    def passed(self) -> bool:
        return self.decision == self.Decision.PASS

    @property
    def test_line(self) -> str:
        """The test line as at the door's decision (采样 N 小时前 counted to check-in time)."""
        return test_line(self.test, self.checked_in_at)

    @property
    def masked_name(self) -> str:
        if self.resident_id:
            return self.resident.masked_name
        return masking.mask_name(self.manual_name)


class Alert(models.Model):
    """A check-in the community must know about: red, yellow, fever or an overdue test.
    Shown to the venue's administrator and to the grid workers of the person's region."""

    class Kind(models.TextChoices):
        RED = "red", _("红码")
        YELLOW = "yellow", _("黄码")
        FEVER = "fever", _("发热")
        TEST_OVERDUE = "test_overdue", _("核酸超时")

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="alerts")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="alerts")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, null=True, blank=True)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    region_code = models.CharField(_("居住地行政区划"), max_length=6, blank=True, db_index=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "kind"], name="alert_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.venue}"


class GridWorker(models.Model):
    """A community grid worker (社区网格员) and the region codes they look after; a city or
    province code covers the regions under it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="grid_worker",
        verbose_name=_("账号"),
    )
    region_codes = models.JSONField(_("负责区域"), default=list)

    class Meta:
        verbose_name = _("社区网格员")
        verbose_name_plural = _("社区网格员")

    def __str__(self) -> str:
        return f"{self.user} {','.join(self.region_codes)}"

    def covers(self, region_code: str) -> bool:
        return regions.covers(self.region_codes, region_code)


class Device(ApiKey):
    """A scan device (扫码设备 / 数字哨兵) at one venue's gate, with its API key."""

    KEY_PREFIX = "dev_"

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="devices")

    class Meta:
        verbose_name = _("扫码设备")
        verbose_name_plural = _("扫码设备")

    def __str__(self) -> str:
        return f"{self.venue} {self.name or self.prefix}"
