"""Paper-code series, 老幼助查 results and family bindings (代办)."""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode.models import Resident, User


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


# 老幼助查 shows its result for 10 seconds (seed 001: the page closes after 10 s); the server's
# copy is readable for exactly as long, so a reload or the back button afterwards shows nothing.
ELDER_LOOKUP_RESULT_LIFETIME = dt.timedelta(seconds=10)


class ElderLookupResult(models.Model):
    """The one-time address of a 老幼助查 result: readable by the user who looked the person up,
    for 10 seconds after the lookup, then deleted. It holds no copy of the person's data; the
    result page reads their live status. The lookup itself is an ``AuditEvent`` (read), kept."""

    key = models.CharField(_("结果编号"), max_length=64, unique=True)
    viewer = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("查询人")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="+", verbose_name=_("被查询人")
    )
    created_at = models.DateTimeField(_("查询时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("老幼助查结果")
        verbose_name_plural = _("老幼助查结果")

    def __str__(self) -> str:
        return f"{self.viewer} → {self.resident}"

    @property
    def expires_at(self) -> dt.datetime:
        return self.created_at + ELDER_LOOKUP_RESULT_LIFETIME

    def readable_at(self, now: dt.datetime) -> bool:
        return now < self.expires_at


class Relationship(models.TextChoices):
    """The member as seen from the holder: ``parent`` means the member is the holder's parent."""

    PARENT = "parent", _("父母")
    CHILD = "child", _("子女")
    SPOUSE = "spouse", _("配偶")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    OTHER = "other", _("其他")


class FamilyBinding(models.Model):
    """A holder (a resident with a log-in) shows and uses a family member's health code (代办).

    Never deleted: unbinding stamps ``unbound_at``/``unbound_by``, so the member's history
    keeps who held their code and when. One active binding per holder and member; at most
    ``services.MAX_MEMBERS`` active members per holder (counted under a lock on the holder).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder = models.ForeignKey(
        "healthcode.Resident",
        on_delete=models.PROTECT,
        related_name="family_bindings",
        verbose_name=_("代办人"),
    )
    member = models.ForeignKey(
        "healthcode.Resident",
        on_delete=models.PROTECT,
        related_name="held_by_bindings",
        verbose_name=_("家庭成员"),
    )
    relationship = models.CharField(_("关系"), max_length=16, choices=Relationship.choices)
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now)
    unbound_at = models.DateTimeField(_("解绑时间"), null=True, blank=True)
    unbound_by = models.ForeignKey(
        "healthcode.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("解绑人"),
    )

    class Meta:
        verbose_name = _("家庭成员绑定")
        verbose_name_plural = _("家庭成员绑定")
        ordering = ["bound_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "member"],
                condition=models.Q(unbound_at__isnull=True),
                name="family_one_active_binding",
            ),
            models.CheckConstraint(
                condition=~models.Q(holder=models.F("member")), name="family_not_oneself"
            ),
            models.CheckConstraint(
                condition=models.Q(unbound_at__isnull=True)
                | models.Q(unbound_at__gte=models.F("bound_at")),
                name="family_unbound_after_bound",
            ),
            models.CheckConstraint(
                condition=models.Q(unbound_at__isnull=False) | models.Q(unbound_by__isnull=True),
                name="family_unbound_by_only_when_unbound",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} → {self.member} ({self.get_relationship_display()})"

    @property
    def is_active(self) -> bool:
        return self.unbound_at is None
