"""Health-code and paper tokens at their exact edges, in their documented shape. Tokens are
checked against an independent encoder and signer built from the documented layout, salt and
keys, so a token that still round-trips but is built or signed differently (another key,
salt, algorithm or field order) is caught.
Written against the surviving mutants of ``make mutants``."""

import base64
import datetime as dt
import hashlib
import hmac
import struct
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings as django_settings
from django.core import signing

from healthcode import tokens
from healthcode.tokens import PaperClaim, TokenInvalid, TokenProblem

ISSUED = dt.datetime(2026, 11, 22, 1, 0, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
PUBLIC_ID = uuid.UUID("0123456789abcdef0123456789abcdef")
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def documented_signer(salt: str, key: str | None = None) -> signing.Signer:
    return signing.Signer(
        key=key or django_settings.HEALTHCODE_SIGNING_KEY, salt=salt, algorithm="sha256"
    )


def problem(call, *args, **kwargs) -> TokenProblem:
    with pytest.raises(TokenInvalid) as exc:
        call(*args, **kwargs)
    assert str(exc.value) == exc.value.problem.value
    return exc.value.problem


# --- Phone tokens ------------------------------------------------------------------------------
# The documented record (healthcode/tokens.py, docs/offline.md), built here independently.
STATUS = tokens.Status(
    colour="yellow",
    masked_name="王*明",
    test_state="negative",
    test_in_time=True,
    test_valid_until=ISSUED + dt.timedelta(hours=50),
    test_sampled_at=ISSUED - dt.timedelta(hours=22),
)


def documented_mac(message: bytes, key: str | None = None) -> bytes:
    # Django's salted_hmac: HMAC-SHA256 keyed with SHA-256(salt + secret).
    secret = key or django_settings.HEALTHCODE_SIGNING_KEY
    mac_key = hashlib.sha256(("healthcode.tokens.v2" + secret).encode()).digest()
    return hmac.new(mac_key, message, hashlib.sha256).digest()[:16]


def documented_kid(private_key=None) -> bytes:
    public = (private_key or django_settings.HEALTHCODE_ASSERTION_KEY).public_key()
    return hashlib.sha256(public.public_bytes(*RAW)).digest()[:3]


def documented_token(*, issued: int, life: int = 300, flags: int = 0x21, name="王*明", key=None):
    body = (
        PUBLIC_ID.bytes
        + struct.pack(">IHBII", issued, life, flags, issued + 50 * 3600, issued - 22 * 3600)
        + documented_kid()
        + name.encode()
    )
    signed = body + documented_mac(b"HC2" + body, key)
    signature = django_settings.HEALTHCODE_ASSERTION_KEY.sign(b"HC2" + signed)
    return "HC2." + base64.urlsafe_b64encode(signed + signature).rstrip(b"=").decode()


def test_a_token_is_the_documented_record(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 300
    now = ISSUED + dt.timedelta(microseconds=999_999)
    issued = tokens.issue(public_id=PUBLIC_ID, now=now, status=STATUS)
    # yellow (1) << 4 | negative (1) << 1 | in time (1): 0x13
    assert issued.token == documented_token(issued=int(ISSUED.timestamp()), flags=0x13)
    # The issue time is whole seconds, in UTC, and the expiry is the TTL after it.
    assert issued.issued_at == ISSUED and issued.issued_at.utcoffset() == dt.timedelta(0)
    assert issued.expires_at == ISSUED + dt.timedelta(seconds=300)


def test_a_token_from_the_documented_encoder_is_read():
    token = documented_token(issued=int(ISSUED.timestamp()))
    assert tokens.read(token, now=ISSUED) == PUBLIC_ID
    assert tokens.read(f"  {token}\n", now=ISSUED) == PUBLIC_ID  # a scanner's stray whitespace
    claim = tokens.read_assertion(token, now=ISSUED)
    assert (claim.colour, claim.test_state, claim.test_in_time, claim.masked_name) == (
        "red",  # 0x21: red (2) << 4 | none (0) << 1 | in time
        "none",
        True,
        "王*明",
    )
    assert claim.test_valid_until == ISSUED + dt.timedelta(hours=50)
    assert claim.test_sampled_at == ISSUED - dt.timedelta(hours=22)
    assert claim.kid == base64.urlsafe_b64encode(documented_kid()).decode()


def test_an_explicit_key_signs_and_reads_with_that_key():
    issued = tokens.issue(public_id=PUBLIC_ID, now=ISSUED, status=STATUS, key="another-key")
    assert issued.token == documented_token(
        issued=int(ISSUED.timestamp()), flags=0x13, key="another-key"
    )
    assert tokens.read(issued.token, now=ISSUED, key="another-key") == PUBLIC_ID
    assert problem(tokens.read, issued.token, now=ISSUED) is TokenProblem.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("skew", "accepted"),
    [(dt.timedelta(seconds=30), True), (dt.timedelta(seconds=30, microseconds=1), False)],
)
def test_a_token_up_to_30_seconds_ahead_of_the_reader_is_accepted(skew, accepted):
    token = tokens.issue(public_id=PUBLIC_ID, now=ISSUED, status=STATUS).token
    now = ISSUED - skew
    if accepted:
        assert tokens.read(token, now=now) == PUBLIC_ID
        assert tokens.read_assertion(token, now=now).public_id == PUBLIC_ID
    else:
        assert problem(tokens.read, token, now=now) is TokenProblem.FUTURE
        assert problem(tokens.read_assertion, token, now=now) is TokenProblem.FUTURE


@pytest.mark.parametrize("token", [None, "", "   "])
def test_nothing_is_malformed(token):
    assert problem(tokens.read, token, now=ISSUED) is TokenProblem.MALFORMED


def test_a_token_of_the_right_letters_that_is_no_base64_is_malformed():
    # 153 letters: the shape's length, but one more than a multiple of 4 (no base64 text is).
    token = "HC2." + "A" * 153
    assert problem(tokens.read, token, now=ISSUED) is TokenProblem.MALFORMED
    assert problem(tokens.read_assertion, token, now=ISSUED) is TokenProblem.MALFORMED


def test_a_token_with_an_empty_name_is_the_shortest_record_and_is_read():
    status = tokens.Status(colour="green", masked_name="")
    token = tokens.issue(public_id=PUBLIC_ID, now=ISSUED, status=status).token
    text = token.removeprefix("HC2.")
    assert len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) == 34 + 16 + 64
    assert tokens.read(token, now=ISSUED) == PUBLIC_ID
    assert tokens.read_assertion(token, now=ISSUED).masked_name == ""


def test_each_problem_has_its_message():
    expected = {
        TokenProblem.MALFORMED: "无效码：不是本平台的健康码。",
        TokenProblem.BAD_SIGNATURE: "无效码：签名校验失败，可能是伪造或被篡改的健康码。",
        TokenProblem.UNKNOWN_KEY: "无效码：签名密钥未知，可能是伪造的健康码，或本机密钥未更新。",
        TokenProblem.EXPIRED: "已过期：该健康码图片已失效，请让本人刷新健康码。",
        TokenProblem.FUTURE: "无效码：签发时间晚于当前时间，可能是伪造的健康码或设备时间有误。",
        TokenProblem.UNKNOWN: "无效码：找不到该健康码对应的人员。",
        TokenProblem.PAPER_EXPIRED: "纸质码已过期，请重新打印",
        TokenProblem.PAPER_REVOKED: (
            "纸质码已作废：持码人已作废此前打印的全部纸质码，请使用新打印的纸质码。"
        ),
    }
    for kind, message in expected.items():
        error = TokenInvalid(kind)
        assert (error.problem, error.message, str(error)) == (kind, message, kind.value)


def test_digest_of_a_token_is_of_its_record_up_to_the_hmac():
    token = documented_token(issued=int(ISSUED.timestamp()))
    text = token.removeprefix("HC2.")
    record = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    expected = hashlib.sha256(b"HC2" + record[:-64]).hexdigest()[:32]
    assert tokens.digest(token) == tokens.digest(f" {token}\n") == expected


def test_digest_of_anything_else_is_of_the_stripped_text():
    assert tokens.digest("HC1.abc") == hashlib.sha256(b"HC1.abc").hexdigest()[:32]
    assert tokens.digest(" HC1.abc\n") == tokens.digest("HC1.abc")
    assert tokens.digest(None) == tokens.digest("") == hashlib.sha256(b"").hexdigest()[:32]
    assert tokens.digest("HC1.abd") != tokens.digest("HC1.abc")


def test_lifetime_is_the_ttl_plus_the_allowed_skew(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 300
    assert tokens.lifetime() == dt.timedelta(seconds=330)
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 60
    assert tokens.lifetime() == dt.timedelta(seconds=90)


# --- Paper codes -------------------------------------------------------------------------------
def paper_body(version: int, at: dt.datetime = ISSUED) -> str:
    return f"HP1.{PUBLIC_ID.hex}.{version}.{int(at.timestamp()):x}"


def test_a_paper_code_is_the_documented_signed_text(settings):
    settings.PAPER_CODE_TTL_HOURS = 336
    issued = tokens.issue_paper(public_id=PUBLIC_ID, version=7, now=ISSUED + SECOND / 2)
    assert issued.token == documented_signer("healthcode.tokens.paper.v1").sign(paper_body(7))
    assert issued.issued_at == ISSUED and issued.issued_at.utcoffset() == dt.timedelta(0)
    assert issued.expires_at == ISSUED + dt.timedelta(days=14)
    assert tokens.paper_lifetime() == dt.timedelta(hours=336)


def test_a_paper_code_with_an_explicit_key():
    issued = tokens.issue_paper(public_id=PUBLIC_ID, version=2, now=ISSUED, key="another-key")
    expected = documented_signer("healthcode.tokens.paper.v1", key="another-key")
    assert issued.token == expected.sign(paper_body(2))
    claim = tokens.read_paper(issued.token, now=ISSUED, key="another-key")
    assert claim.version == 2
    assert problem(tokens.read_paper, issued.token, now=ISSUED) is TokenProblem.BAD_SIGNATURE


def test_reading_a_paper_code_gives_the_whole_claim():
    token = documented_signer("healthcode.tokens.paper.v1").sign(paper_body(12))
    claim = tokens.read_paper(f" {token} ", now=ISSUED + dt.timedelta(hours=1))
    assert claim == PaperClaim(public_id=PUBLIC_ID, version=12, issued_at=ISSUED)
    assert claim.issued_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("age", "valid"),
    [
        (dt.timedelta(hours=24) - dt.timedelta(microseconds=1), True),
        (dt.timedelta(hours=24), False),
    ],
)
def test_a_paper_code_expires_exactly_at_its_ttl(settings, age, valid):
    settings.PAPER_CODE_TTL_HOURS = 24
    token = tokens.issue_paper(public_id=PUBLIC_ID, version=1, now=ISSUED).token
    if valid:
        assert tokens.read_paper(token, now=ISSUED + age).public_id == PUBLIC_ID
    else:
        assert problem(tokens.read_paper, token, now=ISSUED + age) is TokenProblem.PAPER_EXPIRED


@pytest.mark.parametrize(
    ("skew", "accepted"),
    [(dt.timedelta(seconds=30), True), (dt.timedelta(seconds=30, microseconds=1), False)],
)
def test_a_paper_code_up_to_30_seconds_ahead_is_accepted(skew, accepted):
    token = tokens.issue_paper(public_id=PUBLIC_ID, version=1, now=ISSUED).token
    if accepted:
        assert tokens.read_paper(token, now=ISSUED - skew).version == 1
    else:
        assert problem(tokens.read_paper, token, now=ISSUED - skew) is TokenProblem.FUTURE


@pytest.mark.parametrize("token", [None, "", "HP1.", "HC1.x"])
def test_a_paper_code_that_is_not_one_is_malformed(token):
    assert problem(tokens.read_paper, token, now=ISSUED) is TokenProblem.MALFORMED


@pytest.mark.parametrize(
    ("text", "paper"),
    [
        ("HP1.abc", True),
        ("  HP1.abc", True),
        ("HP1abc", False),
        ("hp1.abc", False),
        ("HC1.abc", False),
        ("", False),
        (None, False),
    ],
)
def test_what_claims_to_be_a_paper_code(text, paper):
    assert tokens.is_paper(text) is paper
    assert tokens.one_venue_token(text) == ("" if paper else text)


def test_kinds_never_cross():
    phone = tokens.issue(public_id=PUBLIC_ID, now=ISSUED, status=STATUS).token
    paper = tokens.issue_paper(public_id=PUBLIC_ID, version=1, now=ISSUED).token
    assert problem(tokens.read_paper, phone, now=ISSUED) is TokenProblem.MALFORMED
    assert problem(tokens.read, paper, now=ISSUED) is TokenProblem.MALFORMED
    # A paper body under the phone token's salt: the signature does not carry over.
    forged = documented_signer("healthcode.tokens.v2").sign(paper_body(1))
    assert problem(tokens.read_paper, forged, now=ISSUED) is TokenProblem.BAD_SIGNATURE


# --- From the full mutation run (docs/testing.md) --------------------------------------------
def test_a_name_of_exactly_the_limit_is_kept_whole_one_byte_more_is_cut():
    exact = "张" * (tokens.NAME_MAX_BYTES // 3)  # 3 bytes a character: exactly the limit
    assert len(exact.encode()) == tokens.NAME_MAX_BYTES
    for name, kept in ((exact, exact), (exact + "a", exact), ("a" + exact, "a" + exact[:-1])):
        status = tokens.Status(colour="green", masked_name=name)
        token = tokens.issue(public_id=PUBLIC_ID, now=ISSUED, status=status).token
        assert tokens.read_assertion(token, now=ISSUED).masked_name == kept


def test_a_token_whose_base64_ends_in_x_keeps_that_letter():
    """Only the padding is stripped: a token is read back whatever letter it ends in."""
    assert tokens._b64(b"\x00\x00\x17") == "AAAX"
    assert tokens._b64(b"\xff\xff") == "__8"  # one "=" of padding dropped


def test_a_life_longer_than_the_assertion_can_hold_is_cut_to_18_hours(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 100_000  # longer than 0xFFFF s
    status = tokens.Status(colour="green", masked_name="张*")
    token = tokens.issue(public_id=PUBLIC_ID, now=ISSUED, status=status).token
    assertion = tokens.read_assertion(token, now=ISSUED)
    assert assertion.expires_at - assertion.issued_at == dt.timedelta(seconds=0xFFFF)
