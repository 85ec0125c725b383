"""Reads for paper health codes, 老幼助查 and family bindings (代办)."""

import datetime as dt
import uuid

from django.db.models import QuerySet

from healthcode import tokens
from healthcode.models import Resident, User
from healthcode.selectors import resident_from_token
from proxy_scan.models import ElderLookupResult, FamilyBinding, PaperCodeSeries

FIRST_VERSION = 1


def paper_code_series(*, resident: Resident) -> PaperCodeSeries | None:
    return PaperCodeSeries.objects.filter(resident=resident).first()


def _current_version(series: PaperCodeSeries | None) -> int:
    return series.version if series else FIRST_VERSION  # no row: nothing revoked yet


def paper_code_version(*, resident: Resident) -> int:
    """The version a paper code printed now carries."""
    return _current_version(paper_code_series(resident=resident))


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
    if claim.version != _current_version(series):
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


def family_members_of(*, holder: Resident) -> QuerySet[FamilyBinding]:
    """The holder's active bindings, oldest first, with each member's code loaded."""
    return FamilyBinding.objects.select_related("member", "member__health_code").filter(
        holder=holder, unbound_at=None
    )


def family_holders_of(*, member: Resident) -> QuerySet[FamilyBinding]:
    """Everyone who holds or held this member's code, newest first: the member's own view of
    who can show their code (the rows of unbindings stay)."""
    return (
        FamilyBinding.objects.select_related("holder", "unbound_by")
        .filter(member=member)
        .order_by("-bound_at", "-id")
    )


def family_binding_for(*, holder: Resident, binding_id) -> FamilyBinding | None:
    """The holder's active binding with this public id, with the member's code and the
    holder's account loaded (a viewing is recorded by it); None for a malformed id, another
    holder's binding or an ended one."""
    try:
        public_id = uuid.UUID(str(binding_id))
    except ValueError:
        return None
    return (
        FamilyBinding.objects.select_related("member__health_code", "holder__user")
        .filter(holder=holder, public_id=public_id, unbound_at=None)
        .first()
    )
