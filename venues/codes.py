"""The code inside a venue poster's QR: ``V1.<venue public id hex>.<poster version>:<sig>``,
carried in the URL ``/v/<code>``. Signed, so a poster cannot be forged; versioned, so an old
poster can be revoked by issuing a new one. Pure: resolving it is the selector's job."""

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

_SALT = "venues.codes.v1"
_SHAPE = re.compile(r"V1\.([0-9a-f]{32})\.([1-9][0-9]{0,5}):([A-Za-z0-9_-]{27})")


class VenueCodeInvalid(Exception):
    """Forged, tampered or not a venue code at all."""


@dataclass(frozen=True)
class VenueCode:
    public_id: uuid.UUID
    version: int


def _signer() -> signing.Signer:
    # SHA-256 truncated to 160 bits keeps the poster's QR small; forging still needs 2^160.
    return signing.Signer(key=settings.HEALTHCODE_SIGNING_KEY, salt=_SALT, algorithm="sha256")


def _sign(value: str) -> str:
    full = _signer().sign(value)
    return full[: full.rindex(":") + 1 + 27]


def make(*, public_id: uuid.UUID, version: int) -> str:
    return _sign(f"V1.{public_id.hex}.{version}")


def read(code: str) -> VenueCode:
    code = (code or "").strip()
    match = _SHAPE.fullmatch(code)
    if not match:
        raise VenueCodeInvalid(code)
    if not signing.constant_time_compare(_sign(code[: code.rindex(":")]), code):
        raise VenueCodeInvalid(code)
    return VenueCode(public_id=uuid.UUID(hex=match.group(1)), version=int(match.group(2)))
