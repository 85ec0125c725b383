"""Vaccination sites (接种点), their machine keys, the batches they upload and the doses in
them. Doses are facts keyed by the person's identity document, like lab samples: one whose
person is not registered yet waits here and counts from registration on (name agreeing)."""

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import masking
from healthcode.apikeys import ApiKey
from healthcode.idnumbers import IdType
from healthcode.ingest import UploadBatch

MAX_DOSE_NUMBER = 9
# The first doses given in mainland China outside trials (emergency use from mid-2020; the
# general programme from 15 December 2020): nothing earlier is a real record.
FIRST_DOSE_DATE = dt.date(2020, 12, 1)


class Site(models.Model):
    name = models.CharField(_("接种点名称"), max_length=100, unique=True)
    region_code = models.CharField(_("行政区划代码"), max_length=6)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("接种点")
        verbose_name_plural = _("接种点")

    def __str__(self) -> str:
        return self.name


class SiteKey(ApiKey):
    """An API key of a vaccination site (see ``healthcode.apikeys``)."""

    KEY_PREFIX = "vax_"

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="keys", verbose_name=_("接种点")
    )

    class Meta:
        verbose_name = _("接种点令牌")
        verbose_name_plural = _("接种点令牌")

    def __str__(self) -> str:
        return f"{self.site} {self.prefix}…"

    @classmethod
    def issue(cls, *, site: Site, name: str = "") -> tuple["SiteKey", str]:
        return cls.create_with_key(site=site, name=name)


class DoseBatch(UploadBatch):
    """One upload by a vaccination site, kept for audit (and deleted after its retention)."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="batches", verbose_name=_("接种点")
    )
    key = models.ForeignKey(
        SiteKey, on_delete=models.PROTECT, related_name="batches", verbose_name=_("密钥")
    )

    class Meta(UploadBatch.Meta):
        verbose_name = _("接种上传批次")
        verbose_name_plural = _("接种上传批次")

    def __str__(self) -> str:
        return f"{self.site} {self.received_at:%Y-%m-%d %H:%M} ({self.total})"


class Dose(models.Model):
    """One dose given, as the site recorded it under its own ``record_id``."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="doses", verbose_name=_("接种点")
    )
    record_id = models.CharField(_("接种记录编号"), max_length=64)
    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=32)
    name = models.CharField(_("姓名"), max_length=64)
    product = models.CharField(_("疫苗产品"), max_length=64)
    dose_number = models.PositiveSmallIntegerField(
        _("剂次"), validators=[MinValueValidator(1), MaxValueValidator(MAX_DOSE_NUMBER)]
    )
    vaccinated_on = models.DateField(_("接种日期"))
    batch = models.ForeignKey(
        DoseBatch, on_delete=models.PROTECT, related_name="doses", verbose_name=_("最近批次")
    )
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("接种记录")
        verbose_name_plural = _("接种记录")
        constraints = [
            models.UniqueConstraint(fields=["site", "record_id"], name="dose_record_per_site"),
            models.CheckConstraint(
                condition=models.Q(dose_number__gte=1, dose_number__lte=MAX_DOSE_NUMBER),
                name="dose_number_1_to_9",
            ),
        ]
        # The door's one query per person (vaccination.selectors) looks doses up by document.
        indexes = [models.Index(fields=["id_number", "id_type"], name="dose_identity")]

    def __str__(self) -> str:
        return f"{self.record_id} {masking.mask_name(self.name)} 第{self.dose_number}剂"


class DoseChange(models.Model):
    """A dose's earlier version, kept when a later record under the same id changed it."""

    dose = models.ForeignKey(
        Dose, on_delete=models.CASCADE, related_name="changes", verbose_name=_("接种记录")
    )
    batch = models.ForeignKey(
        DoseBatch, on_delete=models.PROTECT, related_name="changes", verbose_name=_("上传批次")
    )
    before = models.JSONField(_("变更前"))
    after = models.JSONField(_("变更后"))
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)

    class Meta:
        verbose_name = _("接种记录变更")
        verbose_name_plural = _("接种记录变更")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.dose_id} @ {self.changed_at:%Y-%m-%d %H:%M}"
