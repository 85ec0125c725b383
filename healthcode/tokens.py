"""The opaque token inside a health-code QR.

``HC1.<public id hex>.<issued at, unix seconds in hex>:<HMAC-SHA256 signature>`` — never the
name or ID number. It is valid for ``HEALTHCODE_TOKEN_TTL_SECONDS`` after issue (valid while
``now < issued + ttl``), so a screenshot or a forwarded picture stops working within minutes;
a token dated more than ``FUTURE_SKEW`` ahead of the reader's clock is refused, so a forged
clock cannot stretch that life. Once a token has checked its holder in at one venue it is
refused at every other for the rest of its life (``checkins.services.checkin_record`` keeps
its ``digest`` on the check-in), so a forwarded screenshot works once.
Pure: the caller passes the time. Resolving the public id to a resident is the selector's job
(``healthcode.selectors.resident_from_token``).

A **paper code** is another kind, printed once and shown many times, so it has its own shape,
salt and life: ``HP1.<public id hex>.<version>.<issued at hex>:<signature>``, valid for
``PAPER_CODE_TTL_HOURS`` (Shandong 14 days, Suzhou 24 hours). ``version`` is the person's
paper-code series at printing; revoking bumps the series (``proxy_scan``), which refuses every
older print. The one-venue rule does not apply to it (``one_venue_token``). A token of either
kind never verifies as the other: the salts differ.
"""

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

PREFIX = "HC1"
_SALT = "healthcode.tokens.v1"
# Phones and scanners disagree on the time by seconds, not minutes.
FUTURE_SKEW = dt.timedelta(seconds=30)
_SHAPE = re.compile(r"HC1\.([0-9a-f]{32})\.([0-9a-f]{1,12}):([A-Za-z0-9_-]{43})")


class TokenProblem(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    FUTURE = "future"
    UNKNOWN = "unknown"
    PAPER_EXPIRED = "paper_expired"
    PAPER_REVOKED = "paper_revoked"


PROBLEM_MESSAGES = {
    TokenProblem.MALFORMED: _("无效码：不是本平台的健康码。"),
    TokenProblem.BAD_SIGNATURE: _("无效码：签名校验失败，可能是伪造或被篡改的健康码。"),
    TokenProblem.EXPIRED: _("已过期：该健康码图片已失效，请让本人刷新健康码。"),
    TokenProblem.FUTURE: _("无效码：签发时间晚于当前时间，可能是伪造的健康码或设备时间有误。"),
    TokenProblem.UNKNOWN: _("无效码：找不到该健康码对应的人员。"),
    TokenProblem.PAPER_EXPIRED: _("纸质码已过期，请重新打印"),
    TokenProblem.PAPER_REVOKED: _(
        "纸质码已作废：持码人已作废此前打印的全部纸质码，请使用新打印的纸质码。"
    ),
}


class TokenInvalid(Exception):
    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem

    @property
    def message(self) -> str:
        return str(PROBLEM_MESSAGES[self.problem])


@dataclass(frozen=True)
class IssuedToken:
    token: str
    issued_at: dt.datetime
    expires_at: dt.datetime


def _signer(key: str | None = None) -> signing.Signer:
    return signing.Signer(
        key=key or settings.HEALTHCODE_SIGNING_KEY, salt=_SALT, algorithm="sha256"
    )


def issue(*, public_id: uuid.UUID, now: dt.datetime, key: str | None = None) -> IssuedToken:
    issued = int(now.timestamp())
    token = _signer(key).sign(f"{PREFIX}.{public_id.hex}.{issued:x}")
    issued_at = dt.datetime.fromtimestamp(issued, tz=dt.UTC)
    ttl = dt.timedelta(seconds=settings.HEALTHCODE_TOKEN_TTL_SECONDS)
    return IssuedToken(token=token, issued_at=issued_at, expires_at=issued_at + ttl)


def read(token: str, *, now: dt.datetime, key: str | None = None) -> uuid.UUID:
    """The public id inside a token, or ``TokenInvalid`` saying precisely what is wrong."""
    match = _SHAPE.fullmatch((token or "").strip())
    if not match:
        raise TokenInvalid(TokenProblem.MALFORMED)
    try:
        _signer(key).unsign(match.group(0))
    except signing.BadSignature:
        raise TokenInvalid(TokenProblem.BAD_SIGNATURE) from None
    issued = int(match.group(2), 16)
    if issued > now.timestamp() + FUTURE_SKEW.total_seconds():
        raise TokenInvalid(TokenProblem.FUTURE)
    if now.timestamp() >= issued + settings.HEALTHCODE_TOKEN_TTL_SECONDS:
        raise TokenInvalid(TokenProblem.EXPIRED)
    return uuid.UUID(hex=match.group(1))


def digest(token: str) -> str:
    """A short fingerprint of a token, kept on the check-ins it made (not the token itself)."""
    return hashlib.sha256((token or "").strip().encode()).hexdigest()[:32]


def lifetime() -> dt.timedelta:
    """How far back a check-in made with a still-valid token can lie."""
    return dt.timedelta(seconds=settings.HEALTHCODE_TOKEN_TTL_SECONDS) + FUTURE_SKEW


# --- Paper codes ------------------------------------------------------------------------------
PAPER_PREFIX = "HP1"
_PAPER_SALT = "healthcode.tokens.paper.v1"
_PAPER_SHAPE = re.compile(
    r"HP1\.([0-9a-f]{32})\.([1-9][0-9]{0,8})\.([0-9a-f]{1,12}):([A-Za-z0-9_-]{43})"
)


@dataclass(frozen=True)
class PaperClaim:
    """What a genuine, unexpired paper token says; whether its version is still the person's
    current one is for the caller to check (``proxy_scan.selectors``)."""

    public_id: uuid.UUID
    version: int
    issued_at: dt.datetime


def _paper_signer(key: str | None = None) -> signing.Signer:
    return signing.Signer(
        key=key or settings.HEALTHCODE_SIGNING_KEY, salt=_PAPER_SALT, algorithm="sha256"
    )


def paper_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings.PAPER_CODE_TTL_HOURS)


def is_paper(token: str) -> bool:
    """Whether a scanned text claims to be a paper code (genuine or not: ``read_paper``)."""
    return (token or "").strip().startswith(PAPER_PREFIX + ".")


def issue_paper(
    *, public_id: uuid.UUID, version: int, now: dt.datetime, key: str | None = None
) -> IssuedToken:
    issued = int(now.timestamp())
    token = _paper_signer(key).sign(f"{PAPER_PREFIX}.{public_id.hex}.{version}.{issued:x}")
    issued_at = dt.datetime.fromtimestamp(issued, tz=dt.UTC)
    return IssuedToken(token=token, issued_at=issued_at, expires_at=issued_at + paper_lifetime())


def read_paper(token: str, *, now: dt.datetime, key: str | None = None) -> PaperClaim:
    """The claim inside a paper token, or ``TokenInvalid``: malformed, bad signature, dated in
    the future, or expired (valid while ``now < issued + PAPER_CODE_TTL_HOURS``)."""
    match = _PAPER_SHAPE.fullmatch((token or "").strip())
    if not match:
        raise TokenInvalid(TokenProblem.MALFORMED)
    try:
        _paper_signer(key).unsign(match.group(0))
    except signing.BadSignature:
        raise TokenInvalid(TokenProblem.BAD_SIGNATURE) from None
    issued = int(match.group(3), 16)
    if issued > now.timestamp() + FUTURE_SKEW.total_seconds():
        raise TokenInvalid(TokenProblem.FUTURE)
    if now.timestamp() >= issued + paper_lifetime().total_seconds():
        raise TokenInvalid(TokenProblem.PAPER_EXPIRED)
    return PaperClaim(
        public_id=uuid.UUID(hex=match.group(1)),
        version=int(match.group(2)),
        issued_at=dt.datetime.fromtimestamp(issued, tz=dt.UTC),
    )


def one_venue_token(token: str) -> str:
    """The token the one-venue rule applies to: a phone token itself; nothing for a paper
    code, which is printed to be shown at many doors for days (its holder has no phone to
    refresh it). ``checkins`` passes this, not the raw scan, to ``checkin_record``."""
    return "" if is_paper(token) else token
