"""Writes for venues, their administrators and inspectors."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from healthcode.errors import DomainError
from healthcode.models import User
from venues.models import DEFAULT_STAY_MINUTES, Venue, VenueInspector, new_declaration_code


def venue_register(
    *,
    administrator: User,
    full_name: str,
    region_code: str,
    address: str,
    category: str,
    entry_rule: str = "policy",
) -> Venue:
    """Declare a venue (场所申报). Its administrator may hold no other venue."""
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
                default_stay_minutes=DEFAULT_STAY_MINUTES[category],
            )
    except IntegrityError:  # a concurrent declaration by the same administrator
        raise DomainError(_("每位管理员只能管理一个场所。"), code="already_administrator") from None


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
