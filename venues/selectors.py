"""Reads for venues."""

from django.utils.translation import gettext_lazy as _

from venues import codes
from venues.models import Venue, VenueInspector

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
