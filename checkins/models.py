import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode.models import Colour, Resident
from venues.models import Venue


class Method(models.TextChoices):
    SELF_SCAN = "self_scan", _("本人扫场所码")
    INSPECTOR_SCAN = "inspector_scan", _("检测员反向扫码")
    DEVICE = "device", _("扫码设备")
    MANUAL = "manual", _("手工登记")


class CheckIn(models.Model):
    """One entry at a venue, with the person's status and the decision at that moment."""

    class Decision(models.TextChoices):
        PASS = "pass", _("可以通行")
        STOP = "stop", _("禁止通行")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="checkins", null=True, blank=True
    )
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="checkins")
    checked_in_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    method = models.CharField(_("方式"), max_length=16, choices=Method.choices)
    colour = models.CharField(_("健康码"), max_length=8, choices=Colour.choices, blank=True)
    reasons = models.JSONField(_("赋码原因"), default=list)
    test = models.JSONField(_("核酸状态"), default=dict)
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

    class Meta:
        verbose_name = _("扫码登记")
        verbose_name_plural = _("扫码登记")
        indexes = [
            models.Index(fields=["venue", "checked_in_at"], name="checkin_venue_time"),
            models.Index(fields=["resident", "venue", "checked_in_at"], name="checkin_person"),
        ]

    def __str__(self) -> str:
        return f"{self.venue} {self.checked_in_at:%Y-%m-%d %H:%M} {self.get_decision_display()}"

    @property
    def passed(self) -> bool:
        return self.decision == self.Decision.PASS
