import uuid

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import masking
from healthcode.idnumbers import IdType, parse_resident_id


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra):
        if not phone:
            raise ValueError("phone is required")
        user = self.model(phone=phone, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **extra)


class User(AbstractUser):
    """A log-in account. Everyone logs in with a mobile phone number.

    Real-name identity lives on ``Resident``; staff accounts (officers, inspectors) are users
    too, and a staff member who is also a resident has both.
    """

    username = None
    first_name = None
    last_name = None
    phone = models.CharField(_("手机号码"), max_length=11, unique=True)

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self) -> str:
        return masking.mask_phone(self.phone)


class Resident(models.Model):
    """A registered person: the seven items of the registration form and the commitment."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="resident", verbose_name=_("账号")
    )
    name = models.CharField(_("姓名"), max_length=64)
    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=32)
    nationality = models.CharField(_("国籍（地区）"), max_length=64, default="中国")
    region_code = models.CharField(_("居住地行政区划代码"), max_length=6, db_index=True)
    address = models.CharField(_("居住地址"), max_length=200)
    # 14-day contact history (14天内接触史): structured answers plus free text.
    contact_confirmed_case = models.BooleanField(_("接触过确诊或疑似病例"), default=False)
    contact_risk_area = models.BooleanField(_("来自或途经中高风险地区"), default=False)
    contact_abroad = models.BooleanField(_("有境外旅居史"), default=False)
    contact_note = models.CharField(_("接触史说明"), max_length=500, blank=True)
    committed_at = models.DateTimeField(_("承诺时间"))
    created_at = models.DateTimeField(_("注册时间"), default=timezone.now)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="resident_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{masking.mask_name(self.name)} {masking.mask_id_number(self.id_number)}"

    @property
    def phone(self) -> str:
        return self.user.phone

    @property
    def masked_name(self) -> str:
        return masking.mask_name(self.name)

    @property
    def masked_id_number(self) -> str:
        return masking.mask_id_number(self.id_number)

    @property
    def has_contact_history(self) -> bool:
        return self.contact_confirmed_case or self.contact_risk_area or self.contact_abroad

    def birth_date(self):
        """Birth date from a mainland resident ID number; None for other documents."""
        if self.id_type != IdType.RESIDENT_ID:
            return None
        return parse_resident_id(self.id_number, today=timezone.localdate()).birth_date


class Colour(models.TextChoices):
    GREEN = "green", _("绿码")
    YELLOW = "yellow", _("黄码")
    RED = "red", _("红码")


class HealthCode(models.Model):
    """A resident's current status, as the engine last computed it. Read by every scan.

    ``reasons`` is a list of ``{"code": ..., "text": ...}``; green's is 未见异常.
    ``review_at`` is the next instant at which the status would change by time alone
    (indexed: the scheduler recomputes every code whose review time has passed).
    """

    resident = models.OneToOneField(
        Resident, on_delete=models.CASCADE, related_name="health_code", verbose_name=_("居民")
    )
    colour = models.CharField(_("颜色"), max_length=8, choices=Colour.choices)
    reasons = models.JSONField(_("原因"), default=list)
    computed_at = models.DateTimeField(_("计算时间"))
    review_at = models.DateTimeField(_("下次复核时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("健康码")
        verbose_name_plural = _("健康码")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(colour__in=Colour.values), name="healthcode_colour_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident} {self.get_colour_display()}"

    @property
    def reason_text(self) -> str:
        return "；".join(reason["text"] for reason in self.reasons)


class HealthCodeChange(models.Model):
    """Append-only history of a code's colour and reasons: a row is never edited or deleted."""

    health_code = models.ForeignKey(
        HealthCode, on_delete=models.CASCADE, related_name="changes", verbose_name=_("健康码")
    )
    old_colour = models.CharField(_("原颜色"), max_length=8, choices=Colour.choices, blank=True)
    new_colour = models.CharField(_("新颜色"), max_length=8, choices=Colour.choices)
    reasons = models.JSONField(_("原因"), default=list)
    cause = models.CharField(_("变更缘由"), max_length=200)
    changed_at = models.DateTimeField(_("变更时间"), db_index=True)

    class Meta:
        verbose_name = _("健康码变更记录")
        verbose_name_plural = _("健康码变更记录")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_colour or '-'} → {self.new_colour} ({self.cause})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("HealthCodeChange rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("HealthCodeChange rows are append-only.")


class PersonLookup(models.Model):
    """A record that someone looked up another person (scan, verify, search). Never edited."""

    viewer = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="lookups_made", verbose_name=_("查询人")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="lookups", verbose_name=_("被查询人")
    )
    channel = models.CharField(_("渠道"), max_length=32)
    looked_up_at = models.DateTimeField(_("查询时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("个人信息查询记录")
        verbose_name_plural = _("个人信息查询记录")
        ordering = ["-looked_up_at"]

    def __str__(self) -> str:
        return f"{self.viewer} → {self.resident} ({self.channel})"
