"""Reads for venues."""

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from healthcode import regions
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
    venue = Venue.objects.filter(public_id=parsed.public_id).first()
    if venue is None:
        raise VenueCodeRefused(INVALID)
    if parsed.version != venue.poster_version:
        raise VenueCodeRefused(REVOKED)
    return venue


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
