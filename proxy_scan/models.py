from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PaperCodeSeries(models.Model):
    """A person's paper health codes are one series: every print carries its ``version``, and
    revoking them all bumps it, so every older print is refused (as venue codes' poster
    version does). No row yet means version 1: nothing has been revoked."""

    resident = models.OneToOneField(
        "healthcode.Resident",
        on_delete=models.CASCADE,
        related_name="paper_code_series",
        verbose_name=_("居民"),
    )
    version = models.PositiveIntegerField(_("当前版本"), default=1)
    revoked_at = models.DateTimeField(_("上次作废时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("作废人"),
    )

    class Meta:
        verbose_name = _("纸质码版本")
        verbose_name_plural = _("纸质码版本")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="paper_code_version_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} v{self.version}"
