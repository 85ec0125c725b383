"""Reads for venues."""

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from healthcode import regions, rowcache
from healthcode.errors import DomainError
from healthcode.models import HealthOfficer
from venues import codes
from venues.models import Venue, VenueInspector, VenueStatus

INVALID = _("无效场所码")
REVOKED = _("此场所码已作废")


class VenueCodeRefused(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = str(message)


def venue_from_code(code: str) -> Venue:
    """The venue a poster's code names, or ``VenueCodeRefused``: 无效场所码 for a forged,
    tampered or unknown code, 此场所码已作废 for a poster replaced by a newer one."""
    try:
        parsed = codes.read(code)
    except codes.VenueCodeInvalid:
        raise VenueCodeRefused(INVALID) from None
    venue = venue_by_public_id(parsed.public_id)
    if venue is None:
        raise VenueCodeRefused(INVALID)
    if parsed.version != venue.poster_version:
        raise VenueCodeRefused(REVOKED)
    return venue


def venue_key(public_id) -> str:
    return f"door:venue:{public_id}"


def inspector_key(user_id: int, venue_id: int) -> str:
    return f"door:inspects:{user_id}:{venue_id}"


def venue_by_public_id(public_id) -> Venue | None:
    """The venue a poster names, from the row cache (every self-scan reads it; dropped when
    the venue is saved: a new poster version, an approval or a rejection is seen at once)."""
    return rowcache.cached(
        venue_key(public_id), lambda: Venue.objects.filter(public_id=public_id).first()
    )


def venue_inspected(*, user_id: int, venue_id: int) -> Venue | None:
    """The venue if this user is bound to it as an inspector, else None; from the row cache
    (dropped when the binding or the venue changes: an unbound inspector is refused at once)."""

    def load():
        link = (
            VenueInspector.objects.select_related("venue")
            .filter(user_id=user_id, venue_id=venue_id)
            .first()
        )
        return link.venue if link else None

    return rowcache.cached(inspector_key(user_id, venue_id), load)


def forget_venue(venue: Venue) -> None:
    """Drop the cached copies of ``venue``: by its poster's id, and in its inspectors' bindings
    (post_save and post_delete of Venue; one query for the inspectors)."""
    users = VenueInspector.objects.filter(venue_id=venue.pk).values_list("user_id", flat=True)
    rowcache.forget(venue_key(venue.public_id), *(inspector_key(u, venue.pk) for u in users))


def forget_binding(link: VenueInspector) -> None:
    rowcache.forget(inspector_key(link.user_id, link.venue_id))


def venues_inspected_by(*, user) -> list[Venue]:
    return [vi.venue for vi in VenueInspector.objects.select_related("venue").filter(user=user)]


def venue_unusable_reason(venue: Venue) -> str | None:
    """Why this venue's code, inspectors and devices do nothing yet, or None if approved."""
    if venue.status == VenueStatus.APPROVED:
        return None
    if venue.status == VenueStatus.REJECTED:
        return gettext("该场所申报已被驳回：%(r)s") % {"r": venue.rejection_reason}
    return gettext("该场所尚未通过审核，暂不能使用。")


def venue_usable(venue: Venue) -> Venue:
    """The venue if approved; else a DomainError (403) with the reason in Chinese. Every
    door channel (poster, check-in page, inspectors, devices, 手工登记) asks this first."""
    reason = venue_unusable_reason(venue)
    if reason is not None:
        raise DomainError(reason, code=f"venue_{venue.status}", status=403)
    return venue


def officer_for_user(*, user) -> HealthOfficer | None:
    return HealthOfficer.objects.filter(user=user).first() if user.is_authenticated else None


def venues_pending_for_officer(*, officer: HealthOfficer) -> QuerySet[Venue]:
    """Declarations waiting for this officer: pending, in their regions, oldest first."""
    return (
        Venue.objects.filter(regions.covered_q("region_code", officer.region_codes))
        .filter(status=VenueStatus.PENDING)
        .select_related("administrator")
        .order_by("submitted_at", "pk")
    )


def venue_for_officer(*, officer: HealthOfficer, venue_id: int) -> Venue | None:
    """A venue in this officer's regions, or None (the page answers 404)."""
    return (
        Venue.objects.filter(regions.covered_q("region_code", officer.region_codes))
        .filter(pk=venue_id)
        .first()
    )
