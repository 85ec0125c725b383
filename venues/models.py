import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Declaration codes are read aloud and typed: no 0/O, 1/I/L look-alikes.
DECLARATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DECLARATION_LENGTH = 10  # 31^10 ≈ 8e14: not guessable at any rate limit we allow


def new_declaration_code() -> str:
    return "".join(secrets.choice(DECLARATION_ALPHABET) for _ in range(DECLARATION_LENGTH))


class Category(models.TextChoices):
    SUPERMARKET = "supermarket", _("商超")
    RESTAURANT = "restaurant", _("餐饮")
    HOSPITAL = "hospital", _("医院")
    SCHOOL = "school", _("学校")
    TRANSPORT = "transport", _("交通")
    HOTEL = "hotel", _("酒店")
    SCENIC = "scenic", _("景区")
    GOVERNMENT = "government", _("政务大厅")
    COMMUNITY = "community", _("小区")
    OFFICE = "office", _("办公楼")
    OTHER = "other", _("其他")


# How long people usually stay, by category; tracing uses it when nobody scanned out.
DEFAULT_STAY_MINUTES = {
    Category.SUPERMARKET: 60,
    Category.RESTAURANT: 90,
    Category.HOSPITAL: 120,
    Category.SCHOOL: 480,
    Category.TRANSPORT: 60,
    Category.HOTEL: 720,
    Category.SCENIC: 180,
    Category.GOVERNMENT: 60,
    Category.COMMUNITY: 720,
    Category.OFFICE: 480,
    Category.OTHER: 60,
}


class EntryRule(models.TextChoices):
    """The test a venue requires at its door."""

    POLICY = "policy", _("按人群核酸政策")
    NONE = "none", _("不查核酸")
    H24 = "24", _("24小时内核酸")
    H48 = "48", _("48小时内核酸")
    H72 = "72", _("72小时内核酸")


class VenueStatus(models.TextChoices):
    """A declared venue is pending until a health officer of its district decides."""

    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")


class Venue(models.Model):
    """A place with a venue code. One venue has exactly one administrator and one
    administrator has exactly one venue: the one-to-one column is unique in the database."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    administrator = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="administered_venue",
        verbose_name=_("管理员"),
    )
    full_name = models.CharField(_("场所全称"), max_length=100)
    region_code = models.CharField(_("所在地行政区划代码"), max_length=6, db_index=True)
    address = models.CharField(_("详细地址"), max_length=200)
    category = models.CharField(_("场所类别"), max_length=16, choices=Category.choices)
    entry_rule = models.CharField(
        _("核酸查验要求"), max_length=8, choices=EntryRule.choices, default=EntryRule.POLICY
    )
    # Off by default: a green holder may not otherwise be refused (seed 004); when on, the
    # door stops a person with no dose on record (healthcode.engine.entry_decision).
    requires_vaccination = models.BooleanField(_("要求接种新冠疫苗"), default=False)
    default_stay_minutes = models.PositiveIntegerField(_("默认停留时长（分钟）"))
    declaration_code = models.CharField(
        _("场所申报码"), max_length=16, unique=True, default=new_declaration_code
    )
    # 统一社会信用代码 (GB 32100-2015), checked at declaration; blank only on venues declared
    # before approval existed.
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    status = models.CharField(
        _("审核状态"),
        max_length=8,
        choices=VenueStatus.choices,
        default=VenueStatus.PENDING,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("提交审核时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="venues_decided",
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    rejection_reason = models.CharField(_("驳回原因"), max_length=200, blank=True)
    poster_version = models.PositiveIntegerField(_("场所码版本"), default=1)
    poster_issued_at = models.DateTimeField(_("场所码签发时间"), default=timezone.now)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("场所")
        verbose_name_plural = _("场所")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=VenueStatus.values), name="venue_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=VenueStatus.REJECTED) | ~models.Q(rejection_reason=""),
                name="venue_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_approved(self) -> bool:
        return self.status == VenueStatus.APPROVED

    @property
    def number(self) -> str:
        """The short venue number printed on the poster and shown to its administrator: what
        staff note when they register someone without a smartphone."""
        return f"{self.pk:06d}" if self.pk else ""

    @property
    def required_test_hours(self) -> int | None:
        """Hours of test the door requires; None: the person's own policy decides."""
        return int(self.entry_rule) if self.entry_rule.isdigit() else None


class VenueInspector(models.Model):
    """An inspector bound to a venue (with its declaration code). One inspector may bind many
    venues; an administrator may be an inspector of their own venue too."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="inspectors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inspected_venues"
    )
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now)

    class Meta:
        verbose_name = _("检测员")
        verbose_name_plural = _("检测员")
        constraints = [
            models.UniqueConstraint(fields=["venue", "user"], name="inspector_once_per_venue")
        ]

    def __str__(self) -> str:
        return f"{self.venue} · {self.user}"
