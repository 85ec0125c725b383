"""The token inside a health-code QR, and the status assertion it carries for offline doors.

``HC2.<base64url, unpadded>`` of one compact binary record (docs/offline.md)::

    public id 16 | issued at 4 | assertion life 2 | colour+test 1 | test valid until 4
    | test sampled at 4 | key id 3 | masked name (UTF-8, ≤ 48) | HMAC 16 | Ed25519 64

Integers are big-endian unix seconds (0: none). Never the name or ID number: the name is
masked (张*三). **The server** reads a token as before: the truncated HMAC-SHA256 under
``HEALTHCODE_SIGNING_KEY`` over everything before it, then its life — valid for
``HEALTHCODE_TOKEN_TTL_SECONDS`` after issue (valid while ``now < issued + ttl``), so a
screenshot or a forwarded picture stops working within minutes; a token dated more than
``FUTURE_SKEW`` ahead of the reader's clock is refused, so a forged clock cannot stretch that
life. The server takes the person's live status, never the assertion's. Once a token has
checked its holder in at one venue it is refused at every other for the rest of its life
(``checkins.services.checkin_record`` keeps its ``digest`` on the check-in), so a forwarded
screenshot works once.

**A door without network** (static/js/offline-verify.js, mirrored by ``read_assertion``)
checks the Ed25519 signature over everything before it (HMAC included) with the public key
its key id names (``GET /api/v1/keys``), and shows the colour and test the assertion states
as of its issue. The assertion lives at most as long as the token, and never past the
status's next review (``HealthCode.review_at``: a test window closing), so it cannot outlast
what it states by time alone; what changed since for other reasons an offline door cannot
know, so it shows the assertion's age.

Pure: the caller passes the time. Resolving the public id to a resident is the selector's job
(``healthcode.selectors.resident_from_token``).

A **paper code** is another kind, printed once and shown many times, so it has its own shape,
salt and life: ``HP1.<public id hex>.<version>.<issued at hex>:<signature>``, valid for
``PAPER_CODE_TTL_HOURS`` (Shandong 14 days, Suzhou 24 hours). ``version`` is the person's
paper-code series at printing; revoking bumps the series (``proxy_scan``), which refuses every
older print. It carries no assertion (it is shown for days: any colour on it would be stale).
The one-venue rule does not apply to it (``one_venue_token``). A token of either kind never
verifies as the other: the shapes and salts differ.
"""

import base64
import binascii
import datetime as dt
import hashlib
import re
import struct
import uuid
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from config.signing_keys import kid_of, raw_public

PREFIX = "HC2"
_SALT = "healthcode.tokens.v2"
# Phones and scanners disagree on the time by seconds, not minutes.
FUTURE_SKEW = dt.timedelta(seconds=30)
# public id, issued at, assertion life (s), colour+test, test valid until, sampled at, kid.
_HEAD = struct.Struct(">16sIHBII3s")
NAME_MAX_BYTES = 48  # a long name (with a middle dot) is cut: the QR stays small
_MAC_BYTES = 16  # HMAC-SHA256 truncated to 128 bits
_SIG_BYTES = 64
_MIN_BYTES = _HEAD.size + _MAC_BYTES + _SIG_BYTES
_SHAPE = re.compile(r"HC2\.([A-Za-z0-9_-]{152,216})")  # 114 to 162 bytes
COLOURS = ("green", "yellow", "red")
TEST_STATES = ("none", "negative", "pending", "expired", "positive", "invalid")


class TokenProblem(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    EXPIRED = "expired"
    FUTURE = "future"
    UNKNOWN = "unknown"
    PAPER_EXPIRED = "paper_expired"
    PAPER_REVOKED = "paper_revoked"


PROBLEM_MESSAGES = {
    TokenProblem.MALFORMED: _("无效码：不是本平台的健康码。"),
    TokenProblem.BAD_SIGNATURE: _("无效码：签名校验失败，可能是伪造或被篡改的健康码。"),
    TokenProblem.UNKNOWN_KEY: _("无效码：签名密钥未知，可能是伪造的健康码，或本机密钥未更新。"),
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


@dataclass(frozen=True)
class Status:
    """What a token asserts about its holder at issue. ``test_in_time``: the test is in time
    under the person's own policy (the engine's rule for a venue with no window of its own);
    ``review_at``: when the status next changes by time alone — the assertion ends then."""

    colour: str
    masked_name: str
    test_state: str = "none"
    test_in_time: bool = False
    test_valid_until: dt.datetime | None = None
    test_sampled_at: dt.datetime | None = None
    review_at: dt.datetime | None = None


@dataclass(frozen=True)
class Assertion:
    """A genuine, unexpired assertion as a door reads it offline."""

    public_id: uuid.UUID
    kid: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    colour: str
    test_state: str
    test_in_time: bool
    test_valid_until: dt.datetime | None
    test_sampled_at: dt.datetime | None
    masked_name: str


def _seconds(value: dt.datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def _time(seconds: int) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) if seconds else None


def _from_iso(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def status_of(code) -> Status:
    """The assertion for a (current) ``HealthCode``; its resident gives the masked name."""
    test = code.test or {}
    return Status(
        colour=code.colour,
        masked_name=code.resident.masked_name,
        test_state=test.get("state", "none"),
        # engine.entry_decision: no window of the person's own, or one they are within.
        test_in_time=test.get("window_hours") is None or bool(test.get("valid_now")),
        test_valid_until=_from_iso(test.get("valid_until")),
        test_sampled_at=_from_iso(test.get("basis_sampled_at")),
        review_at=code.review_at,
    )


def _name_bytes(name: str) -> bytes:
    data = name.encode()
    while len(data) > NAME_MAX_BYTES:
        name = name[:-1]
        data = name.encode()
    return data


def _mac(message: bytes, key: str | None) -> bytes:
    secret = key or settings.HEALTHCODE_SIGNING_KEY
    return salted_hmac(_SALT, message, secret=secret, algorithm="sha256").digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue(
    *,
    public_id: uuid.UUID,
    now: dt.datetime,
    status: Status,
    key: str | None = None,
    signing_key: Ed25519PrivateKey | None = None,
) -> IssuedToken:
    """A token for ``public_id`` issued at ``now`` (whole seconds) asserting ``status``."""
    issued = int(now.timestamp())
    ttl = settings.HEALTHCODE_TOKEN_TTL_SECONDS
    life = ttl if status.review_at is None else _seconds(status.review_at) - issued
    flags = (
        COLOURS.index(status.colour) << 4
        | TEST_STATES.index(status.test_state) << 1
        | int(status.test_in_time)
    )
    signer = signing_key or settings.HEALTHCODE_ASSERTION_KEY
    kid = base64.urlsafe_b64decode(kid_of(signer.public_key()))
    body = _HEAD.pack(
        public_id.bytes,
        issued,
        max(0, min(life, ttl, 0xFFFF)),
        flags,
        _seconds(status.test_valid_until),
        _seconds(status.test_sampled_at),
        kid,
    ) + _name_bytes(status.masked_name)
    signed = body + _mac(PREFIX.encode() + body, key)
    token = f"{PREFIX}.{_b64(signed + signer.sign(PREFIX.encode() + signed))}"
    issued_at = dt.datetime.fromtimestamp(issued, tz=dt.UTC)
    return IssuedToken(
        token=token, issued_at=issued_at, expires_at=issued_at + dt.timedelta(seconds=ttl)
    )


def issue_for(code, *, now: dt.datetime) -> IssuedToken:
    """A token for a (current) ``HealthCode``'s holder, asserting its status."""
    return issue(public_id=code.resident.public_id, now=now, status=status_of(code))


def _decode(token: str) -> bytes:
    """The record inside a well-shaped token, or MALFORMED. Only the one canonical spelling
    of each record is accepted: another would have another ``digest``."""
    match = _SHAPE.fullmatch((token or "").strip())
    if not match:
        raise TokenInvalid(TokenProblem.MALFORMED)
    text = match.group(1)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenInvalid(TokenProblem.MALFORMED) from None
    if len(raw) < _MIN_BYTES or _b64(raw) != text:
        raise TokenInvalid(TokenProblem.MALFORMED)
    return raw


def _check_time(issued: int, life: int, now: dt.datetime) -> None:
    if issued > now.timestamp() + FUTURE_SKEW.total_seconds():
        raise TokenInvalid(TokenProblem.FUTURE)
    if now.timestamp() >= issued + life:
        raise TokenInvalid(TokenProblem.EXPIRED)


def read(token: str, *, now: dt.datetime, key: str | None = None) -> uuid.UUID:
    """The public id inside a token, or ``TokenInvalid`` saying precisely what is wrong.
    The server's check: the HMAC (the Ed25519 signature is for doors without network)."""
    raw = _decode(token)
    signed = raw[:-_SIG_BYTES]
    body, mac = signed[:-_MAC_BYTES], signed[-_MAC_BYTES:]
    if not constant_time_compare(mac, _mac(PREFIX.encode() + body, key)):
        raise TokenInvalid(TokenProblem.BAD_SIGNATURE)
    public_id, issued = _HEAD.unpack_from(body)[:2]
    _check_time(issued, settings.HEALTHCODE_TOKEN_TTL_SECONDS, now)
    return uuid.UUID(bytes=public_id)


def read_assertion(
    token: str, *, now: dt.datetime, keys: dict[str, Ed25519PublicKey] | None = None
) -> Assertion:
    """What a door without network reads (static/js/offline-verify.js does the same): the
    assertion, if signed by a key in ``keys`` (kid → public key; by default the platform's
    accepted keys) and alive at ``now``; else ``TokenInvalid``."""
    raw = _decode(token)
    public_id, issued, life, flags, valid_until, sampled, kid = _HEAD.unpack_from(raw)
    key = (settings.HEALTHCODE_ASSERTION_PUBLIC_KEYS if keys is None else keys).get(_b64(kid))
    if key is None:
        raise TokenInvalid(TokenProblem.UNKNOWN_KEY)
    try:
        key.verify(raw[-_SIG_BYTES:], PREFIX.encode() + raw[:-_SIG_BYTES])
    except InvalidSignature:
        raise TokenInvalid(TokenProblem.BAD_SIGNATURE) from None
    colour, state = flags >> 4, flags >> 1 & 7
    try:
        name = raw[_HEAD.size : -_SIG_BYTES - _MAC_BYTES].decode()
    except UnicodeDecodeError:
        name = None
    if colour >= len(COLOURS) or state >= len(TEST_STATES) or name is None:
        raise TokenInvalid(TokenProblem.MALFORMED)  # well signed, but not by this code
    _check_time(issued, life, now)
    return Assertion(
        public_id=uuid.UUID(bytes=public_id),
        kid=_b64(kid),
        issued_at=_time(issued),
        expires_at=_time(issued + life),
        colour=COLOURS[colour],
        test_state=TEST_STATES[state],
        test_in_time=bool(flags & 1),
        test_valid_until=_time(valid_until),
        test_sampled_at=_time(sampled),
        masked_name=name,
    )


def published_keys() -> list[dict]:
    """The public keys doors accept, by key id, the signing key's first (``GET /api/v1/keys``)."""
    signing = kid_of(settings.HEALTHCODE_ASSERTION_KEY.public_key())
    return [
        {"kid": kid, "alg": "Ed25519", "key": _b64(raw_public(key)), "signing": kid == signing}
        for kid, key in settings.HEALTHCODE_ASSERTION_PUBLIC_KEYS.items()
    ]


def digest(token: str) -> str:
    """A short fingerprint of a token, kept on the check-ins it made (not the token itself).
    Of what the server checks (up to the HMAC): a token whose signature for doors was
    altered is, to the one-venue rule, the same token."""
    try:
        text = PREFIX.encode() + _decode(token)[:-_SIG_BYTES]
    except TokenInvalid:
        text = (token or "").strip().encode()
    return hashlib.sha256(text).hexdigest()[:32]


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
