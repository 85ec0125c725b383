"""Reads for paper health codes and 老幼助查."""

import datetime as dt

from healthcode import tokens
from healthcode.models import Resident, User
from healthcode.selectors import resident_from_token
from proxy_scan.models import ElderLookupResult, PaperCodeSeries

FIRST_VERSION = 1


def paper_code_version(*, resident: Resident) -> int:
    """The version a paper code printed now carries."""
    series = PaperCodeSeries.objects.filter(resident=resident).first()
    return series.version if series else FIRST_VERSION


def paper_code_series(*, resident: Resident) -> PaperCodeSeries | None:
    return PaperCodeSeries.objects.filter(resident=resident).first()


def resident_from_any_token(*, token: str, now: dt.datetime) -> Resident:
    """The resident a scanned phone token or paper code names, health code loaded (one
    query either way). Raises ``tokens.TokenInvalid``: the phone token's problems, or for a
    paper code malformed, bad signature, expired (纸质码已过期，请重新打印) and revoked (an
    older version than the person's series)."""
    if not tokens.is_paper(token):
        return resident_from_token(token=token, now=now)
    claim = tokens.read_paper(token, now=now)
    resident = (
        Resident.objects.select_related("health_code", "user", "paper_code_series")
        .filter(public_id=claim.public_id)
        .first()
    )
    if resident is None:
        raise tokens.TokenInvalid(tokens.TokenProblem.UNKNOWN)
    series = getattr(resident, "paper_code_series", None)
    if claim.version != (series.version if series else FIRST_VERSION):
        raise tokens.TokenInvalid(tokens.TokenProblem.PAPER_REVOKED)
    return resident


def elder_lookup_result_for(*, key: str, viewer: User) -> ElderLookupResult | None:
    """The 老幼助查 result at this address if ``viewer`` made it, with the person's code
    loaded (one query); None for an unknown address and for another user's, alike."""
    return (
        ElderLookupResult.objects.select_related("resident__health_code")
        .filter(key=key, viewer=viewer)
        .first()
    )
