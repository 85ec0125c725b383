import datetime as dt
import uuid

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import masking, regions
from healthcode.idnumbers import IdType


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
    # API tokens issued before this instant are refused (healthcode.authentication).
    password_changed_at = models.DateTimeField(
        _("密码修改时间"), null=True, blank=True, editable=False
    )

    # 关怀版 (large text, high contrast) on the code page: the account's one preference, applied
    # to every code it shows, its own and each bound member's (an elder's helper wants it for all).
    # A database default too: code (or a historical migration state) that predates the column
    # still inserts accounts.
    care_mode = models.BooleanField(_("关怀版"), default=False, db_default=False)

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self) -> str:
        return masking.mask_phone(self.phone)

    # Every way of changing a password (admin, changepassword, password forms) ends in one of
    # these two, so stamping here revokes API tokens on all of them; the caller's save() stores it.
    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def set_unusable_password(self):
        super().set_unusable_password()
        self.password_changed_at = timezone.now()


class PopulationGroup(models.TextChoices):
    """Groups with their own test frequency (seed 000): each has its own policies."""

    GENERAL = "general", _("普通公众")
    HIGH_RISK_JOB = "high_risk_job", _("高风险岗位人员")
    PUBLIC_SERVICE = "public_service", _("公共服务人员")
    ARRIVAL = "arrival", _("外地来返人员")


class Resident(models.Model):
    """A registered person: the seven items of the registration form and the commitment.

    ``user`` is the log-in. A resident without one (an elder without a smartphone, a child)
    exists only as a family member bound by a holder under 代办: ``proxy_scan.services.
    family_member_bind`` is the one service that creates them, in the same transaction as
    the binding (a check constraint cannot look at another table; tests/proxy_scan prove it).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        related_name="resident",
        verbose_name=_("账号"),
        null=True,
        blank=True,
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
    population_group = models.CharField(
        _("人群分类"),
        max_length=32,
        choices=PopulationGroup.choices,
        default=PopulationGroup.GENERAL,
        db_index=True,
    )
    # 市民卡 number, cleaned by idnumbers.clean_citizen_card; "" when unknown (the uniqueness
    # below compares only real numbers).
    citizen_card = models.CharField(_("市民卡号"), max_length=20, blank=True, default="")

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="resident_unique_id"),
            models.UniqueConstraint(
                fields=["citizen_card"],
                condition=~models.Q(citizen_card=""),
                name="resident_unique_citizen_card",
            ),
            # What one row can say about the number: stored in its cleaned form.
            models.CheckConstraint(
                condition=models.Q(citizen_card="")
                | models.Q(citizen_card__regex=r"^[0-9A-Z]{6,20}$"),
                name="resident_citizen_card_format",
            ),
        ]
        indexes = [models.Index(fields=["id_number"], name="resident_id_number")]

    def __str__(self) -> str:
        return f"{masking.mask_name(self.name)} {masking.mask_id_number(self.id_number)}"

    @property
    def masked_name(self) -> str:
        return masking.mask_name(self.name)

    @property
    def masked_id_number(self) -> str:
        return masking.mask_id_number(self.id_number)

    @property
    def has_login(self) -> bool:
        return self.user_id is not None


class Colour(models.TextChoices):
    GREEN = "green", _("绿码")
    YELLOW = "yellow", _("黄码")
    RED = "red", _("红码")


class HealthCode(models.Model):
    """A resident's current status, as the engine last computed it. Read by every scan.

    ``reasons``: what the engine found, worst first — ``{"code", "text", "colour", "fact",
    "since", "until"}`` (green's one reason is 未见异常). ``test``: the engine's test status.
    ``review_at``: the next instant at which the status would change by time alone (indexed:
    the scheduler recomputes every code whose review time has passed, and a read of a code
    past it recomputes first). ``rules_version``: the engine rules that decided it.
    """

    resident = models.OneToOneField(
        Resident, on_delete=models.CASCADE, related_name="health_code", verbose_name=_("居民")
    )
    colour = models.CharField(_("颜色"), max_length=8, choices=Colour.choices)
    reasons = models.JSONField(_("原因"), default=list)
    test = models.JSONField(_("核酸状态"), default=dict)
    rules_version = models.CharField(_("规则版本"), max_length=32, blank=True)
    computed_at = models.DateTimeField(_("计算时间"))
    review_at = models.DateTimeField(_("下次复核时间"), null=True, blank=True)
    # When a change of facts last put a recompute of this code on the queue: the sweep leaves
    # a due code alone for RECOMPUTE_LEASE_SECONDS after that, so it does not queue again what
    # is already queued, and takes it back if the task was lost. (The sweep's own queueing is
    # not written per code: it keeps its place in the cache, ``tasks.recompute_due``.)
    queued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    # Not stored: the instant ``selectors.ensure_current`` judged this status at (the ``now``
    # of the door's decision). The test line counts "采样 N 小时前" to it, not to whenever a
    # page or serializer happens to format it.
    evaluated_at: dt.datetime | None = None

    class Meta:
        verbose_name = _("健康码")
        verbose_name_plural = _("健康码")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(colour__in=Colour.values), name="healthcode_colour_valid"
            ),
        ]
        # The sweep's order: due codes by review time, and a place in it to go on from.
        indexes = [models.Index(fields=["review_at", "resident"], name="healthcode_review_key")]

    def __str__(self) -> str:
        return f"{self.resident} {self.get_colour_display()}"

    @property
    def reason_text(self) -> str:
        return "；".join(reason["text"] for reason in self.reasons)

    @property
    def test_line(self) -> str:
        """The test line at the instant the status was judged (``evaluated_at``; a code read
        without ``ensure_current``, as in seed_demo's summary: the present), e.g.
        核酸 72 小时内阴性 · 采样 20 小时前."""
        return test_line(self.test, self.evaluated_at or timezone.now())

    @property
    def advice(self) -> str:
        """What to do next for red and yellow (隔离/联系社区, until when); empty for green."""
        return advice(self.colour, self.reasons)

    @property
    def explained_reasons(self) -> list[dict]:
        return explain_reasons(self.reasons)


def explain_reasons(reasons: list[dict]) -> list[dict]:
    """Reasons with where they come from and since when, for the holder's own pages."""
    return [
        {
            **reason,
            "source": _fact_source(reason.get("fact", "")),
            "since_local": _local(reason.get("since")),
            "until_local": _local(reason.get("until")),
        }
        for reason in reasons
    ]


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return timezone.localtime(dt.datetime.fromisoformat(iso)).strftime("%m-%d %H:%M")


_FACT_SOURCES = {
    "sample": _("核酸检测结果"),
    "flag": _("卫健部门风险人员名单"),
    "stay": _("本人申报行程途经风险地区"),
}


def _fact_source(fact: str) -> str:
    return str(_FACT_SOURCES.get(fact.split(":", 1)[0], "")) if fact else ""


def sampled_minutes_ago(test: dict, now: dt.datetime) -> int | None:
    """Whole minutes from the sample the test line speaks of to ``now`` (never negative)."""
    iso = test.get("basis_sampled_at") or test.get("last_sampled_at")
    if not iso:
        return None
    elapsed = now - dt.datetime.fromisoformat(iso)
    return max(0, int(elapsed.total_seconds() // 60))


def _ago(minutes: int) -> str:
    if minutes < 1:
        return str(_("刚刚采样"))
    if minutes < 60:
        return _("采样 %(n)s 分钟前") % {"n": minutes}
    if minutes < 7 * 24 * 60:
        return _("采样 %(n)s 小时前") % {"n": minutes // 60}
    return _("采样 %(n)s 天前") % {"n": minutes // (24 * 60)}


def test_line(test: dict, now: dt.datetime) -> str:
    """One line on the test: the result, the window it is held to (24/48/72 h) and how long
    ago the sample was taken at ``now`` — the instant the status was decided at (the
    ``evaluated_at`` of a code, the ``checked_in_at`` of a check-in), never a later one, e.g.
    核酸 72 小时内阴性 · 采样 20 小时前."""
    state, hours = test.get("state", "none"), test.get("window_hours")
    minutes = sampled_minutes_ago(test, now)
    ago = f" · {_ago(minutes)}" if minutes is not None else ""
    if state == "negative":
        if hours:
            return _("核酸 %(h)s 小时内阴性") % {"h": hours} + ago
        return str(_("核酸阴性")) + ago
    if state == "pending":
        return str(_("核酸结果待出")) + ago
    if state == "expired":
        return _("核酸已超 %(h)s 小时") % {"h": hours} + ago
    if state == "positive":
        return str(_("核酸阳性"))
    if state == "invalid":
        return str(_("核酸结果无效，请重新采样"))
    return str(_("暂无核酸检测记录"))


def advice(colour: str, reasons: list[dict]) -> str:
    """What a red or yellow holder should do next, and until when (the latest ``until`` of the
    reasons of that colour, Beijing time); empty for green. The page adds 12345 as a link."""
    if colour not in (Colour.RED, Colour.YELLOW):
        return ""
    ends = [r.get("until") for r in reasons if r.get("colour") == colour]
    until = "" if not ends or None in ends else _local_full(max(ends, key=_instant))
    if colour == Colour.RED:
        if until:
            return _("请居家隔离至 %(t)s，不要外出，并联系所在社区。") % {"t": until}
        return str(_("请居家隔离，不要外出，并联系所在社区；解除时间以社区通知为准。"))
    if until:
        return _("请居家健康监测至 %(t)s，尽快完成核酸检测，不去人员密集场所，并联系所在社区。") % {
            "t": until
        }
    return str(_("请居家健康监测，尽快完成核酸检测，不去人员密集场所，并联系所在社区。"))


def _instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def _local_full(iso: str) -> str:
    return timezone.localtime(_instant(iso)).strftime("%Y-%m-%d %H:%M")


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

    @property
    def cause_label(self) -> str:
        """What set off the recompute, for the person's record (``cause`` is a log line)."""
        for prefix, label in _CAUSE_LABELS:
            if self.cause.startswith(prefix):
                # A label may name what caused it: the first word after the prefix.
                words = self.cause[len(prefix) :].split()
                return str(label) % {"n": words[0] if words else ""}
        return str(_("状态复核"))

    @property
    def explained_reasons(self) -> list[dict]:
        return explain_reasons(self.reasons)


_CAUSE_LABELS = (
    ("registration", _("注册赋码")),
    ("lab batch", _("收到核酸检测结果")),
    ("risk flag", _("风险人员名单更新")),
    ("itinerary", _("行程申报或更正")),
    ("risk area", _("风险地区调整")),
    ("review time", _("到期自动复核")),
    ("read past review", _("到期自动复核")),
    # appeals.services: "appeal <pk> upheld" — the resident finds the appeal by its number.
    ("appeal", _("申诉成立（申诉编号 %(n)s），相关记录已撤销")),
)


class HealthOfficer(models.Model):
    """A health officer (卫健/疾控) and the region codes they are responsible for; a city or
    province code covers the regions under it (``healthcode.regions``). Approves the venues
    declared in those regions."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="health_officer", verbose_name=_("账号")
    )
    region_codes = models.JSONField(_("负责区域"), default=list)

    class Meta:
        verbose_name = _("卫健疾控人员")
        verbose_name_plural = _("卫健疾控人员")

    def __str__(self) -> str:
        return f"{self.user} {','.join(self.region_codes)}"

    def covers(self, region_code: str) -> bool:
        return regions.covers(self.region_codes, region_code)


class RiskKind(models.TextChoices):
    """The red and yellow lists of seed 004; the engine's rule table gives each its colour."""

    CONFIRMED = "confirmed", _("确诊病例")
    SUSPECTED = "suspected", _("疑似病例")
    ASYMPTOMATIC_ISOLATION = "asymptomatic_isolation", _("集中隔离医学观察的无症状感染者")
    CLOSE_CONTACT = "close_contact", _("隔离医学观察的密切接触者")
    FROM_HIGH_RISK_AREA = "from_high_risk_area", _("来自疫情防控重点地区或高风险地区")
    OTHER_HIGH = "other_high", _("其他需纳入高风险管理的人员")
    FEVER_CLINIC = "fever_clinic", _("14天内有发热门诊就诊记录")
    SYMPTOMS = "symptoms", _("有发热、干咳、气促等呼吸道症状")
    DATABASE_ABNORMAL = "database_abnormal", _("全省疫情数据库14天内异常")
    DISCHARGED_OBSERVATION = "discharged_observation", _("治愈出院居家观察未满14天")
    ASYMPTOMATIC_RELEASED = "asymptomatic_released", _("解除隔离未满14天的无症状感染者")
    OVERSEAS_QUARANTINE = "overseas_quarantine", _("境外来返人员隔离期未满")
    FROM_MEDIUM_RISK_AREA = "from_medium_risk_area", _("来自疫情中风险地区")
    OTHER_MEDIUM = "other_medium", _("其他需纳入中风险管理的人员")


class RiskFlag(models.Model):
    """A risk fact about a person, keyed by identity document so that it applies as soon as
    the person registers. Idempotent per (source, external id)."""

    source = models.CharField(_("来源"), max_length=64)
    external_id = models.CharField(_("来源编号"), max_length=64)
    id_type = models.CharField(_("证件类型"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("证件号码"), max_length=32)
    name = models.CharField(_("姓名"), max_length=64)
    kind = models.CharField(_("类别"), max_length=32, choices=RiskKind.choices)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    reason = models.CharField(_("依据"), max_length=500, blank=True)
    # Set when an appeal (申诉) against the flag is upheld: the engine is not given it any
    # more. Not one of the import's fields, so a source resending the record cannot revive it.
    withdrawn_at = models.DateTimeField(_("申诉成立撤销时间"), null=True, blank=True)
    entered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("录入人")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("风险标记")
        verbose_name_plural = _("风险标记")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="riskflag_source_id"),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="riskflag_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["id_number"], name="riskflag_id_number")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {masking.mask_name(self.name)}"


class RiskArea(models.Model):
    """A region (GB/T 2260; a city or province code covers its sub-regions) at a risk level."""

    class Level(models.TextChoices):
        HIGH = "high", _("高风险")
        MEDIUM = "medium", _("中风险")

    region_code = models.CharField(_("行政区划代码"), max_length=6, db_index=True)
    name = models.CharField(_("地区名称"), max_length=100, blank=True)
    level = models.CharField(_("风险等级"), max_length=8, choices=Level.choices)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("风险地区")
        verbose_name_plural = _("风险地区")

    def __str__(self) -> str:
        return f"{self.name or self.region_code} {self.get_level_display()}"


class ItineraryStay(models.Model):
    """A place in a resident's declared 14-day itinerary; it counts once the stay reaches 4 h."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="stays", verbose_name=_("居民")
    )
    region_code = models.CharField(_("行政区划代码"), max_length=6)
    arrived_at = models.DateTimeField(_("到达时间"))
    left_at = models.DateTimeField(_("离开时间"), null=True, blank=True)
    # Set when a health officer upholds an appeal against the risk this stay raised
    # (appeals.services): the stay is no longer a fact the engine is given.
    set_aside_at = models.DateTimeField(_("申诉成立撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("行程")
        verbose_name_plural = _("行程")
        indexes = [models.Index(fields=["region_code"], name="stay_region")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.arrived_at:%Y-%m-%d %H:%M}"
