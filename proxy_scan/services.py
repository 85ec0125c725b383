"""Writes for paper health codes, 老幼助查 and family bindings (代办)."""

import datetime as dt
import logging
import secrets
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent, AuditKind
from audit.services import audit_lookup
from checkins.models import CheckIn, Method
from checkins.services import checkin_record
from healthcode import idnumbers, tokens
from healthcode import services as healthcode_services
from healthcode.errors import DomainError
from healthcode.forms import clean_id_fields
from healthcode.idnumbers import IdType, parse_resident_id
from healthcode.models import Resident, User
from healthcode.throttling import minutes_to_wait
from proxy_scan.ages import elder_lookup_age_allowed
from proxy_scan.models import (
    ELDER_LOOKUP_RESULT_LIFETIME,
    ElderLookupResult,
    FamilyBinding,
    PaperCodeSeries,
    Relationship,
)
from proxy_scan.selectors import family_binding_for, paper_code_version, resident_from_any_token
from proxy_scan.throttles import (
    PROXY_SCAN_HELPER_MESSAGE,
    PROXY_SCAN_PERSON_MESSAGE,
    ProxyScanPerHelperThrottle,
    ProxyScanPerPersonThrottle,
)
from venues.models import Venue
from venues.selectors import venue_usable

NOT_YOURS = _("您无权为此人打印或作废纸质码。")


def paper_code_ensure_may_act(*, viewer, resident: Resident) -> None:
    """403 unless ``viewer`` may print or revoke ``resident``'s paper codes: the person
    themself, or a holder with an active family binding to them (代办: an elder or a child
    without a phone is who paper codes are for)."""
    if viewer is None or not viewer.is_authenticated:
        raise DomainError(NOT_YOURS, code="not_yours", status=403)
    if resident.user_id == viewer.pk:
        return
    held = FamilyBinding.objects.filter(
        holder__user=viewer, member=resident, unbound_at__isnull=True
    ).exists()
    if not held:
        raise DomainError(NOT_YOURS, code="not_yours", status=403)


def paper_code_issue(
    *, viewer, resident: Resident, now: dt.datetime | None = None
) -> tokens.IssuedToken:
    """A signed paper token for ``resident`` at their current series version. Writes
    nothing: a print is valid until it expires or the series is revoked."""
    paper_code_ensure_may_act(viewer=viewer, resident=resident)
    return tokens.issue_paper(
        public_id=resident.public_id,
        version=paper_code_version(resident=resident),
        now=now or timezone.now(),
    )


def paper_codes_revoke(
    *, viewer, resident: Resident, now: dt.datetime | None = None
) -> PaperCodeSeries:
    """Revoke every paper code of ``resident`` printed so far (lost, or handed to someone who
    should no longer hold it): the series version goes up by one, older prints are refused."""
    paper_code_ensure_may_act(viewer=viewer, resident=resident)
    with transaction.atomic():
        # Lock the person so two revokes at once each bump once (no lost update, no
        # duplicate first row).
        Resident.objects.select_for_update().filter(pk=resident.pk).first()
        series, _new = PaperCodeSeries.objects.get_or_create(resident=resident)
        series.version += 1
        series.revoked_at = now or timezone.now()
        series.revoked_by = viewer
        series.save(update_fields=["version", "revoked_at", "revoked_by"])
    return series


ELDER_LOOKUP_CHANNEL = "elder_lookup"


def elder_lookup_refusal() -> DomainError:
    """One answer for a wrong name, a number nobody registered and an age outside the rule,
    so that the page cannot tell which, nor whether the person exists."""
    return DomainError(_("未找到符合老幼助查条件的人员，请核对姓名与证件号码。"), code="not_found")


def elder_lookup(
    *, viewer: User, name: str, id_number: str, now: dt.datetime | None = None
) -> ElderLookupResult:
    """老幼助查: ``viewer`` (a companion or venue staff) looks up the person a name and a
    mainland resident ID number name. Allowed only for a registered person of that name who is
    60 or older, or 16 or younger, today in Asia/Shanghai; anyone else raises the neutral
    ``elder_lookup_refusal``. Either way the lookup is audited (``audit_lookup``, action
    ``elder_lookup``): of the resident when name and number match one, else of a masked
    subject. Inputs are cleaned (``proxy_scan.forms``). Returns the result's one-time address,
    readable by ``viewer`` for ``ELDER_LOOKUP_RESULT_LIFETIME``."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    info = parse_resident_id(id_number, today=today)
    resident = Resident.objects.filter(
        id_type=IdType.RESIDENT_ID, id_number=id_number, name=name
    ).first()
    if resident is None:
        audit_lookup(action=ELDER_LOOKUP_CHANNEL, actor=viewer, id_number=id_number)
        raise elder_lookup_refusal()
    audit_lookup(action=ELDER_LOOKUP_CHANNEL, actor=viewer, subject=resident)
    if not elder_lookup_age_allowed(info, today=today):
        raise elder_lookup_refusal()  # the attempt stays recorded: the person may see it
    elder_lookup_results_purge(now=now)
    return ElderLookupResult.objects.create(
        key=secrets.token_urlsafe(24), viewer=viewer, resident=resident, created_at=now
    )


def elder_lookup_results_purge(*, now: dt.datetime) -> int:
    """Delete every result address past its lifetime; return how many."""
    deleted, _by_model = ElderLookupResult.objects.filter(
        created_at__lte=now - ELDER_LOOKUP_RESULT_LIFETIME
    ).delete()
    return deleted


logger = logging.getLogger(__name__)

# Seed 001: a holder may bind up to 10 family members.
MAX_MEMBERS = 10
FAMILY_CHANNEL = "family"


def mismatch() -> DomainError:
    """The one answer for a name that does not go with the number: it says neither which part
    is wrong nor whether anyone holds the number."""
    return DomainError(_("信息不符，请核对姓名和证件号码。"), code="mismatch")


def family_member_bind(
    *,
    holder: Resident,
    name: str,
    id_type: str,
    id_number: str,
    relationship: str,
    now: dt.datetime | None = None,
) -> FamilyBinding:
    """Bind a family member to ``holder`` by name and identity document.

    A registered document is linked if the name matches (else 信息不符, nothing written); an
    unknown one becomes a resident without a log-in, with the holder's region and address and
    a code from the same engine as registration. Refused: oneself, a member already bound,
    an 11th member (counted under a lock on the holder, so two requests cannot both pass).
    """
    now = now or timezone.now()
    if holder.user_id is None:  # members do not hold members: a holder is someone who logs in
        raise DomainError(_("该账号没有登记居民信息。"), code="no_resident", status=404)
    name, id_type, id_number = _clean_identity(name=name, id_type=id_type, id_number=id_number)
    if relationship not in Relationship.values:
        raise DomainError(_("请选择与您的关系。"), field="relationship")
    with transaction.atomic():
        holder = Resident.objects.select_for_update().get(pk=holder.pk)
        active = FamilyBinding.objects.filter(holder=holder, unbound_at=None)
        if active.count() >= MAX_MEMBERS:
            raise DomainError(
                _("最多可绑定 %(n)s 位家庭成员，请先解绑不再代办的成员。") % {"n": MAX_MEMBERS},
                code="member_limit",
                status=409,
            )
        member = _member_for(holder=holder, name=name, id_type=id_type, id_number=id_number)
        if member.pk == holder.pk:
            raise DomainError(_("不能绑定本人。"), field="id_number")
        if active.filter(member=member).exists():
            raise DomainError(_("已绑定该家庭成员。"), field="id_number", code="duplicate")
        binding = FamilyBinding.objects.create(
            holder=holder, member=member, relationship=relationship, bound_at=now
        )
    logger.info("family member bound binding=%s", binding.pk)
    return binding


def _clean_identity(*, name: str, id_type: str, id_number: str) -> tuple[str, str, str]:
    """healthcode's cleaners, their messages on the fields they concern."""
    try:
        name = idnumbers.clean_name(name)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="name") from None
    if id_type not in idnumbers.IdType.values:
        raise DomainError(_("请选择证件类型。"), field="id_type")
    try:
        id_number = clean_id_fields(id_type, id_number)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="id_number") from None
    return name, id_type, id_number


def _member_for(*, holder: Resident, name: str, id_type: str, id_number: str) -> Resident:
    """The resident holding this document (the name must match), or a new one without a
    log-in. Another holder creating the same person at the same instant: theirs is used."""
    existing = Resident.objects.filter(id_type=id_type, id_number=id_number).first()
    if existing is None:
        try:
            return healthcode_services.resident_create_without_login(
                name=name,
                id_type=id_type,
                id_number=id_number,
                region_code=holder.region_code,
                address=holder.address,
            )
        except IntegrityError:
            existing = Resident.objects.get(id_type=id_type, id_number=id_number)
    if existing.name != name:
        raise mismatch()
    return existing


def family_member_unbind(*, holder: Resident, binding_id) -> FamilyBinding:
    """End one of the holder's active bindings; the row stays with when and by whom. Another
    holder's binding, or one already ended: DomainError 404, nothing written."""
    with transaction.atomic():
        binding = family_binding_for(holder=holder, binding_id=binding_id)
        if binding is not None:
            binding = FamilyBinding.objects.select_for_update().get(pk=binding.pk)
        if binding is None or binding.unbound_at is not None:
            raise DomainError(_("未找到该家庭成员。"), code="not_found", status=404)
        binding.unbound_at, binding.unbound_by = timezone.now(), holder.user
        binding.save(update_fields=["unbound_at", "unbound_by"])
    logger.info("family member unbound binding=%s", binding.pk)
    return binding


def family_code_viewed(
    *, binding: FamilyBinding, now: dt.datetime | None = None
) -> AuditEvent | None:
    """The holder opened the member's code: a lookup of the member by the holder, channel
    "family", so the member's history shows who looked. The page refreshes the code every
    minute; one record per holder and member per token lifetime keeps one viewing one row."""
    now = now or timezone.now()
    since = now - dt.timedelta(seconds=settings.HEALTHCODE_TOKEN_TTL_SECONDS)
    viewer = binding.holder.user
    if AuditEvent.objects.filter(
        subject_id=binding.member_id,
        kind=AuditKind.READ,
        action=FAMILY_CHANNEL,
        actor=viewer,
        at__gt=since,
    ).exists():
        return None
    return audit_lookup(action=FAMILY_CHANNEL, actor=viewer, subject=binding.member)


# --- 帮扫: checking someone else in -----------------------------------------------------------

PROXY_SCAN_CHANNEL = "proxy_scan"


class ProxyWay(models.TextChoices):
    """The four ways of 帮扫 and the check-in method each records."""

    ID_CARD = "id_card", _("身份证号")
    CITIZEN_CARD = "citizen_card", _("市民卡号")
    PAPER_CODE = "paper_code", _("纸质健康码")
    FAMILY = "family", _("家庭成员")


PROXY_METHODS = {
    ProxyWay.ID_CARD: Method.PROXY_ID_CARD,
    ProxyWay.CITIZEN_CARD: Method.PROXY_CITIZEN_CARD,
    ProxyWay.PAPER_CODE: Method.PROXY_PAPER_CODE,
    ProxyWay.FAMILY: Method.PROXY_FAMILY,
}


def proxy_checkin(
    *,
    helper: User,
    venue: Venue,
    way: str,
    name: str = "",
    id_number: str = "",
    citizen_card: str = "",
    token: str = "",
    binding_id: str = "",
    now: dt.datetime | None = None,
) -> CheckIn:
    """帮扫: ``helper`` checks the person a way names in at ``venue``: an ID number and name,
    a 市民卡 number and name, a paper health code, or one of the helper's bound family members.
    The check-in is that person's, with the way's method and the helper recorded; the lookup
    of the person is recorded too (channel ``proxy_scan``).

    Refused with nothing recorded: an unusable venue (403); a name and number that match
    nobody (信息不符, never saying which part, the attempt kept with the number masked); an
    expired or revoked paper code; another holder's member (404); more than the hourly
    attempts per helper, or check-ins per person helped (429)."""
    now = now or timezone.now()
    venue_usable(venue)
    if way not in PROXY_METHODS:
        raise DomainError(_("请选择帮扫方式。"), field="way")
    _throttle(ProxyScanPerHelperThrottle(str(helper.pk)), PROXY_SCAN_HELPER_MESSAGE)
    person = _proxy_person(
        helper=helper,
        way=way,
        name=name,
        id_number=id_number,
        citizen_card=citizen_card,
        token=token,
        binding_id=binding_id,
        now=now,
    )
    _throttle(ProxyScanPerPersonThrottle(str(person.pk)), PROXY_SCAN_PERSON_MESSAGE)
    checkin, _new = checkin_record(
        resident=person, venue=venue, method=PROXY_METHODS[way], helper=helper, now=now
    )
    audit_lookup(
        action=PROXY_SCAN_CHANNEL, actor=helper, subject=person, venue_name=venue.full_name
    )
    logger.info("proxy check-in checkin=%s way=%s", checkin.pk, way)
    return checkin


def _throttle(throttle, message) -> None:
    wait = throttle.refusal_wait(None)
    if wait is not None:
        minutes = minutes_to_wait(wait)
        raise DomainError(message % {"minutes": minutes}, code="throttled", status=429)


def _proxy_person(*, helper, way, name, id_number, citizen_card, token, binding_id, now):
    if way == ProxyWay.FAMILY:
        holder = Resident.objects.filter(user=helper).first()
        binding = family_binding_for(holder=holder, binding_id=binding_id) if holder else None
        if binding is None:
            raise DomainError(_("未找到该家庭成员。"), code="not_found", status=404)
        return binding.member
    if way == ProxyWay.PAPER_CODE:
        return _paper_code_person(token=token, now=now)
    name = _clean(idnumbers.clean_name, name, field="name")
    if way == ProxyWay.ID_CARD:
        today = timezone.localdate(now)  # the check digit, and a birth date not in the future
        number = _clean(
            partial(idnumbers.clean_id_number, IdType.RESIDENT_ID, today=today),
            id_number,
            field="id_number",
        )
        found = Resident.objects.filter(id_type=IdType.RESIDENT_ID, id_number=number).first()
        message = _("信息不符，请核对姓名和身份证号码。")
    else:
        number = _clean(idnumbers.clean_citizen_card, citizen_card, field="citizen_card")
        found = Resident.objects.filter(citizen_card=number).first()
        message = _("信息不符，请核对姓名和市民卡号。")
    if found is None or found.name != name:
        audit_lookup(action=PROXY_SCAN_CHANNEL, actor=helper, id_number=number)
        raise DomainError(message, code="mismatch")
    return found


def _clean(cleaner, raw: str, *, field: str) -> str:
    try:
        return cleaner(raw)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field=field) from None


def _paper_code_person(*, token: str, now: dt.datetime) -> Resident:
    token = (token or "").strip()
    if not tokens.is_paper(token):
        raise DomainError(_("请扫描此人的纸质健康码。"), field="token", code="not_paper")
    try:
        return resident_from_any_token(token=token, now=now)
    except tokens.TokenInvalid as exc:
        raise DomainError(exc.message, field="token", code=exc.problem.value) from None
