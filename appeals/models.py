"""An appeal (申诉): a resident contests the fact behind one reason of their code.

The fact is the one the engine named in the reason (``HealthCode.reasons[*].fact``): a risk
flag (``flag:7``), a sample's result (``sample:12``) or a stay in a risk area
(``stay:3/area:2``). The row points at it by foreign key too, so an officer sees exactly what
is contested and an upheld appeal withdraws exactly that fact (``appeals.services``).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TEXT_MAX = 500  # characters of the resident's text and of the officer's answer


class AppealStatus(models.TextChoices):
    OPEN = "open", _("处理中")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉未通过")


class FactKind(models.TextChoices):
    FLAG = "flag", _("风险人员名单")
    SAMPLE = "sample", _("核酸检测结果")
    STAY = "stay", _("行程途经风险地区")


class PhotoFormat(models.TextChoices):
    """The image formats an appeal's photo may have, as Pillow names them (lower case)."""

    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    WEBP = "webp", "WebP"


class Appeal(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resident = models.ForeignKey(
        "healthcode.Resident",
        on_delete=models.PROTECT,
        related_name="appeals",
        verbose_name=_("申诉人"),
    )
    # The engine's reference of the fact, as in the reason: what "one open appeal per reason"
    # compares (a stay in an area is one reason, its reference names both).
    fact = models.CharField(_("申诉的事实"), max_length=64)
    kind = models.CharField(_("事实类别"), max_length=8, choices=FactKind.choices)
    flag = models.ForeignKey(
        "healthcode.RiskFlag",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("风险标记"),
    )
    sample = models.ForeignKey(
        "nucleic.Sample",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("核酸样本"),
    )
    stay = models.ForeignKey(
        "healthcode.ItineraryStay",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("行程"),
    )
    area = models.ForeignKey(
        "healthcode.RiskArea",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("风险地区"),
    )
    # The reason as the resident saw it when appealing (the code's reasons change).
    reason_code = models.CharField(_("赋码规则"), max_length=32)
    reason_text = models.CharField(_("赋码原因"), max_length=100)
    text = models.CharField(_("申诉理由"), max_length=TEXT_MAX)
    # A random file name under PRIVATE_UPLOAD_ROOT/appeals (never a path, never the upload's
    # own name); served only by appeals.views.photo.
    photo = models.CharField(_("照片文件"), max_length=64, blank=True, editable=False)
    photo_format = models.CharField(
        _("照片格式"), max_length=8, choices=PhotoFormat.choices, blank=True, editable=False
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=AppealStatus.choices, default=AppealStatus.OPEN
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("处理人"),
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    answer = models.CharField(_("答复"), max_length=TEXT_MAX, blank=True)

    class Meta:
        verbose_name = _("申诉")
        verbose_name_plural = _("申诉")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "fact"],
                condition=Q(status="open"),
                name="appeal_one_open_per_reason",
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_by__isnull=True, decided_at__isnull=True)
                | (
                    Q(status__in=["upheld", "rejected"])
                    & Q(decided_by__isnull=False, decided_at__isnull=False)
                ),
                name="appeal_decided_iff_closed",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(answer=""),
                name="appeal_rejection_has_answer",
            ),
            # Exactly the foreign keys of its kind.
            models.CheckConstraint(
                condition=Q(
                    kind="flag",
                    flag__isnull=False,
                    sample__isnull=True,
                    stay__isnull=True,
                    area__isnull=True,
                )
                | Q(
                    kind="sample",
                    flag__isnull=True,
                    sample__isnull=False,
                    stay__isnull=True,
                    area__isnull=True,
                )
                | Q(
                    kind="stay",
                    flag__isnull=True,
                    sample__isnull=True,
                    stay__isnull=False,
                    area__isnull=False,
                ),
                name="appeal_points_at_one_fact",
            ),
            models.CheckConstraint(
                condition=Q(photo="", photo_format="") | (~Q(photo="") & ~Q(photo_format="")),
                name="appeal_photo_has_format",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="appeal_queue")]

    def __str__(self) -> str:
        return f"{self.resident} {self.reason_text} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == AppealStatus.OPEN

    @property
    def photo_name(self) -> str:
        """The name the photo is served under (Content-Disposition): ours, never the upload's."""
        extension = {"jpeg": "jpg"}.get(self.photo_format, self.photo_format)
        return f"appeal-{self.public_id}.{extension}" if self.photo else ""
