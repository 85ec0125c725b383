"""Writes for residents and their health codes."""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from healthcode.errors import DomainError
from healthcode.models import Colour, HealthCode, HealthCodeChange, PersonLookup, Resident, User

logger = logging.getLogger(__name__)

# Green's one reason. The engine (nucleic-acid issue) computes every other status.
NO_ABNORMALITY = {"code": "no_abnormality", "text": "未见异常"}


def resident_register(
    *,
    name: str,
    id_type: str,
    id_number: str,
    phone: str,
    password: str,
    nationality: str,
    region_code: str,
    address: str,
    contact_confirmed_case: bool = False,
    contact_risk_area: bool = False,
    contact_abroad: bool = False,
    contact_note: str = "",
    committed: bool,
    now: dt.datetime | None = None,
) -> Resident:
    """Register a resident with a log-in account and a green health code, all or nothing.

    Inputs are already cleaned (``healthcode.idnumbers``). A duplicate ID or phone raises
    ``DomainError`` on that field without saying whose it is.
    """
    if not committed:
        raise DomainError(_("请阅读并勾选承诺。"), field="commitment")
    now = now or timezone.now()
    if Resident.objects.filter(id_type=id_type, id_number=id_number).exists():
        raise _duplicate_id()
    if User.objects.filter(phone=phone).exists():
        raise _duplicate_phone()
    try:
        with transaction.atomic():
            user = User.objects.create_user(phone=phone, password=password)
            resident = Resident.objects.create(
                user=user,
                name=name,
                id_type=id_type,
                id_number=id_number,
                nationality=nationality,
                region_code=region_code,
                address=address,
                contact_confirmed_case=contact_confirmed_case,
                contact_risk_area=contact_risk_area,
                contact_abroad=contact_abroad,
                contact_note=contact_note,
                committed_at=now,
                created_at=now,
            )
            code = HealthCode.objects.create(
                resident=resident, colour=Colour.GREEN, reasons=[NO_ABNORMALITY], computed_at=now
            )
            HealthCodeChange.objects.create(
                health_code=code,
                old_colour="",
                new_colour=Colour.GREEN,
                reasons=[NO_ABNORMALITY],
                cause="registration",
                changed_at=now,
            )
    except IntegrityError:
        # Two registrations raced past the checks above; the constraints decided.
        if Resident.objects.filter(id_type=id_type, id_number=id_number).exists():
            raise _duplicate_id() from None
        raise _duplicate_phone() from None
    logger.info("resident registered pk=%s", resident.pk)
    return resident


def _duplicate_id() -> DomainError:
    return DomainError(
        _("该证件号码已注册。如非本人注册，请通过“反馈与投诉”申诉。"),
        field="id_number",
        code="duplicate",
    )


def _duplicate_phone() -> DomainError:
    return DomainError(_("该手机号码已注册，请直接登录。"), field="phone", code="duplicate")


def healthcode_set_status(
    *,
    resident_id: int,
    colour: str,
    reasons: list[dict],
    cause: str,
    review_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> HealthCode:
    """Store a newly computed status; append a history row only if colour or reasons changed.

    Idempotent: the same status stored twice leaves one history row. Locks the code row so
    concurrent recomputes of one resident serialise.
    """
    if colour not in Colour.values:
        raise DomainError(f"unknown colour {colour!r}", field="colour")
    if not reasons or any(set(r) != {"code", "text"} for r in reasons):
        raise DomainError("every status needs reasons of the form {code, text}", field="reasons")
    now = now or timezone.now()
    with transaction.atomic():
        code = HealthCode.objects.select_for_update().get(resident_id=resident_id)
        if code.colour != colour or code.reasons != reasons:
            HealthCodeChange.objects.create(
                health_code=code,
                old_colour=code.colour,
                new_colour=colour,
                reasons=reasons,
                cause=cause,
                changed_at=now,
            )
        code.colour, code.reasons = colour, reasons
        code.computed_at, code.review_at = now, review_at
        code.save(update_fields=["colour", "reasons", "computed_at", "review_at"])
    return code


def person_lookup_record(*, viewer: User, resident: Resident, channel: str) -> PersonLookup:
    """Record that ``viewer`` looked up ``resident`` (every lookup of another person is kept)."""
    return PersonLookup.objects.create(viewer=viewer, resident=resident, channel=channel)
