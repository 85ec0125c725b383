"""Writes for venues, their administrators and inspectors."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from healthcode.errors import DomainError
from healthcode.models import HealthOfficer, User
from venues import creditcode
from venues.models import (
    DEFAULT_STAY_MINUTES,
    Venue,
    VenueInspector,
    VenueStatus,
    new_declaration_code,
)
from venues.selectors import venue_usable

CREDIT_CODE_PROBLEMS = {
    "length": _("统一社会信用代码应为18位。"),
    "format": _("统一社会信用代码含有无效字符，请对照营业执照填写（不含 I、O、S、V、Z）。"),
    "check": _("统一社会信用代码校验位不正确，请对照营业执照核对。"),
}


def clean_credit_code(raw: str) -> str:
    """The normalised 统一社会信用代码, or a DomainError on ``credit_code`` saying why."""
    try:
        return creditcode.clean(raw)
    except creditcode.CreditCodeInvalid as exc:
        message = CREDIT_CODE_PROBLEMS[exc.problem]
        raise DomainError(str(message), field="credit_code", code="bad_credit_code") from None


def venue_register(
    *,
    administrator: User,
    full_name: str,
    region_code: str,
    address: str,
    category: str,
    credit_code: str,
    entry_rule: str = "policy",
    requires_vaccination: bool = False,
) -> Venue:
    """Declare a venue (场所申报). Its administrator may hold no other venue. The venue is
    pending (待审核) until a health officer of its district approves it."""
    code = clean_credit_code(credit_code)
    if Venue.objects.filter(administrator=administrator).exists():
        raise DomainError(_("每位管理员只能管理一个场所。"), code="already_administrator")
    try:
        with transaction.atomic():
            return Venue.objects.create(
                administrator=administrator,
                full_name=full_name.strip(),
                region_code=region_code,
                address=address.strip(),
                category=category,
                entry_rule=entry_rule,
                requires_vaccination=requires_vaccination,
                default_stay_minutes=DEFAULT_STAY_MINUTES[category],
                credit_code=code,
            )
    except IntegrityError:  # a concurrent declaration by the same administrator
        raise DomainError(_("每位管理员只能管理一个场所。"), code="already_administrator") from None


def _locked_for_decision(*, venue: Venue, officer: HealthOfficer) -> Venue:
    """The venue, locked, if this officer may decide it now; else a DomainError (404 outside
    the officer's regions, 409 once decided)."""
    venue = Venue.objects.select_for_update().get(pk=venue.pk)
    if not officer.covers(venue.region_code):
        raise DomainError(_("该场所不在您负责的区域。"), code="not_found", status=404)
    if venue.status != VenueStatus.PENDING:
        raise DomainError(
            _("该场所已审核（%(s)s），不能重复审核。") % {"s": venue.get_status_display()},
            code="already_decided",
            status=409,
        )
    return venue


def venue_approve(*, venue: Venue, officer: HealthOfficer, now=None) -> Venue:
    """A health officer of the venue's district approves it: its poster, declaration code,
    inspectors and devices start working."""
    with transaction.atomic():
        venue = _locked_for_decision(venue=venue, officer=officer)
        venue.status = VenueStatus.APPROVED
        venue.decided_by, venue.decided_at = officer.user, now or timezone.now()
        venue.rejection_reason = ""
        venue.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
    return venue


def venue_reject(*, venue: Venue, officer: HealthOfficer, reason: str, now=None) -> Venue:
    """A health officer rejects the declaration with a reason the administrator will see."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(_("请填写驳回原因。"), field="reason", code="reason_required")
    if len(reason) > 200:
        raise DomainError(_("驳回原因不超过200字。"), field="reason", code="reason_too_long")
    with transaction.atomic():
        venue = _locked_for_decision(venue=venue, officer=officer)
        venue.status = VenueStatus.REJECTED
        venue.decided_by, venue.decided_at = officer.user, now or timezone.now()
        venue.rejection_reason = reason
        venue.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
    return venue


def venue_resubmit(
    *,
    venue: Venue,
    full_name: str,
    region_code: str,
    address: str,
    category: str,
    credit_code: str,
    entry_rule: str = "policy",
    requires_vaccination: bool = False,
) -> Venue:
    """The administrator corrects a rejected declaration and submits it again (待审核)."""
    code = clean_credit_code(credit_code)
    with transaction.atomic():
        venue = Venue.objects.select_for_update().get(pk=venue.pk)
        if venue.status != VenueStatus.REJECTED:
            raise DomainError(_("只有被驳回的申报可以修改后重新提交。"), code="not_rejected")
        venue.full_name, venue.region_code = full_name.strip(), region_code
        venue.address, venue.category, venue.entry_rule = address.strip(), category, entry_rule
        venue.requires_vaccination = requires_vaccination
        venue.default_stay_minutes = DEFAULT_STAY_MINUTES[category]
        venue.credit_code, venue.status, venue.submitted_at = (
            code,
            VenueStatus.PENDING,
            timezone.now(),
        )
        venue.decided_by, venue.decided_at, venue.rejection_reason = None, None, ""
        venue.save()
    return venue


def venue_vaccination_requirement_set(*, venue: Venue, required: bool) -> Venue:
    """The administrator of an approved venue turns the vaccination requirement on or off;
    the next decision at its door follows it (no re-approval: it adds a check, it removes none
    the officer approved)."""
    if not venue.is_approved:
        raise DomainError(_("场所审核通过后才能修改入场要求。"), code="not_approved")
    venue.requires_vaccination = required
    venue.save(update_fields=["requires_vaccination"])
    return venue


def declaration_code_regenerate(*, venue: Venue) -> Venue:
    """A new declaration code; the old one binds nobody new (inspectors already bound stay)."""
    venue.declaration_code = new_declaration_code()
    venue.save(update_fields=["declaration_code"])
    return venue


def inspector_bind(*, user: User, declaration_code: str) -> VenueInspector:
    """An inspector binds a venue by the declaration code its administrator shared."""
    code = (declaration_code or "").strip().upper().replace(" ", "").replace("-", "")
    venue = Venue.objects.filter(declaration_code=code).first()
    if venue is None:
        raise DomainError(
            _("场所申报码无效或已更换，请向场所管理员索取最新的申报码。"),
            field="declaration_code",
            code="bad_declaration_code",
        )
    try:
        venue_usable(venue)
    except DomainError as exc:
        raise DomainError(exc.message, field="declaration_code", code=exc.code) from None
    inspector, _created = VenueInspector.objects.get_or_create(venue=venue, user=user)
    return inspector


def inspector_remove(*, venue: Venue, inspector_id: int) -> None:
    """The administrator removes an inspector from their venue."""
    deleted, _rows = VenueInspector.objects.filter(venue=venue, pk=inspector_id).delete()
    if not deleted:
        raise DomainError(_("该检测员不属于本场所。"), code="not_found", status=404)


def poster_reissue(*, venue: Venue) -> Venue:
    """Issue a new venue code; every poster printed before it stops working (已作废)."""
    with transaction.atomic():
        venue = Venue.objects.select_for_update().get(pk=venue.pk)
        venue.poster_version += 1
        venue.poster_issued_at = timezone.now()
        venue.save(update_fields=["poster_version", "poster_issued_at"])
    return venue
