"""The status assertion a door checks without network (``tokens.read_assertion``, mirrored by
static/js/offline-verify.js): what it states, how long, under which keys."""

import base64
import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from config import signing_keys
from healthcode import tokens
from healthcode.tokens import TokenInvalid, TokenProblem

ISSUED = dt.datetime(2026, 11, 22, 1, 0, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
PUBLIC_ID = uuid.UUID("0123456789abcdef0123456789abcdef")
GREEN = tokens.Status(colour="green", masked_name="张*三", test_state="negative", test_in_time=True)


def problem(token: str, now: dt.datetime, **kwargs) -> TokenProblem:
    with pytest.raises(TokenInvalid) as exc:
        tokens.read_assertion(token, now=now, **kwargs)
    return exc.value.problem


def issue(status=GREEN, now=ISSUED, **kwargs) -> str:
    return tokens.issue(public_id=PUBLIC_ID, now=now, status=status, **kwargs).token


def record(token: str) -> bytearray:
    text = token.removeprefix("HC2.")
    return bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def token_of(data: bytes) -> str:
    return "HC2." + base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()


@pytest.mark.parametrize("colour", ["green", "yellow", "red"])
@pytest.mark.parametrize("state", ["none", "negative", "pending", "expired", "positive", "invalid"])
@pytest.mark.parametrize("in_time", [True, False])
def test_it_states_what_was_issued(colour, state, in_time):
    status = tokens.Status(
        colour=colour,
        masked_name="买*·****",
        test_state=state,
        test_in_time=in_time,
        test_valid_until=ISSUED + dt.timedelta(hours=49, seconds=0.9),
        test_sampled_at=ISSUED - dt.timedelta(hours=23),
    )
    claim = tokens.read_assertion(issue(status), now=ISSUED)
    assert claim == tokens.Assertion(
        public_id=PUBLIC_ID,
        kid=signing_keys.kid_of(tokens.settings.HEALTHCODE_ASSERTION_KEY.public_key()),
        issued_at=ISSUED,
        expires_at=ISSUED + dt.timedelta(seconds=300),
        colour=colour,
        test_state=state,
        test_in_time=in_time,
        test_valid_until=ISSUED + dt.timedelta(hours=49),  # whole seconds
        test_sampled_at=ISSUED - dt.timedelta(hours=23),
        masked_name="买*·****",
    )


def test_no_test_dates_read_as_none():
    claim = tokens.read_assertion(issue(), now=ISSUED)
    assert claim.test_valid_until is None and claim.test_sampled_at is None


def test_a_long_name_is_cut_at_a_character_not_inside_one():
    name = "阿" + "*" * 10 + "·" + "*" * 32 + "提"  # 3 + 10 + 2 + 32 + 3 = 50 bytes
    claim = tokens.read_assertion(issue(tokens.Status(colour="red", masked_name=name)), now=ISSUED)
    assert len(claim.masked_name.encode()) <= tokens.NAME_MAX_BYTES
    assert name.startswith(claim.masked_name) and len(claim.masked_name) == 44


# --- Its life -------------------------------------------------------------------------------
def test_it_expires_with_the_token_at_the_exact_edge(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 300
    with time_machine.travel(ISSUED, tick=False):
        token = issue(now=timezone.now())
    with time_machine.travel(ISSUED + dt.timedelta(seconds=299, microseconds=999_999), tick=False):
        assert tokens.read_assertion(token, now=timezone.now()).colour == "green"
    with time_machine.travel(ISSUED + dt.timedelta(seconds=300), tick=False):
        assert problem(token, timezone.now()) is TokenProblem.EXPIRED


def test_it_ends_at_the_statuss_next_review_if_sooner():
    """A test window closing in 100.5 s: the assertion says nothing past 100 s."""
    review = ISSUED + dt.timedelta(seconds=100, milliseconds=500)
    token = issue(tokens.Status(colour="green", masked_name="李*", review_at=review))
    claim = tokens.read_assertion(token, now=ISSUED + dt.timedelta(seconds=99))
    assert claim.expires_at == ISSUED + dt.timedelta(seconds=100)
    assert problem(token, ISSUED + dt.timedelta(seconds=100)) is TokenProblem.EXPIRED
    # The server's token still lives its whole TTL.
    assert tokens.read(token, now=ISSUED + dt.timedelta(seconds=299)) == PUBLIC_ID


def test_a_review_later_than_the_ttl_does_not_stretch_it(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 60
    later = ISSUED + dt.timedelta(hours=2)
    token = issue(tokens.Status(colour="green", masked_name="李*", review_at=later))
    assert tokens.read_assertion(token, now=ISSUED).expires_at == ISSUED + dt.timedelta(seconds=60)
    assert problem(token, ISSUED + dt.timedelta(seconds=60)) is TokenProblem.EXPIRED


def test_a_status_past_its_review_asserts_nothing():
    token = issue(tokens.Status(colour="green", masked_name="李*", review_at=ISSUED - SECOND))
    assert problem(token, ISSUED) is TokenProblem.EXPIRED
    assert tokens.read(token, now=ISSUED) == PUBLIC_ID


# --- Tampering, keys --------------------------------------------------------------------------
def test_every_tampered_byte_is_refused():
    data = record(issue())
    for position in range(len(data)):
        for bit in (0x01, 0x80):
            tampered = bytearray(data)
            tampered[position] ^= bit
            assert problem(token_of(tampered), ISSUED) in {
                TokenProblem.BAD_SIGNATURE,
                TokenProblem.UNKNOWN_KEY,  # the key id's three bytes
            }, (position, bit)


def test_a_key_that_is_not_listed_is_unknown():
    stranger = Ed25519PrivateKey.generate()
    token = issue(signing_key=stranger)
    assert problem(token, ISSUED) is TokenProblem.UNKNOWN_KEY
    assert problem(token, ISSUED, keys={}) is TokenProblem.UNKNOWN_KEY
    keys = {signing_keys.kid_of(stranger.public_key()): stranger.public_key()}
    assert tokens.read_assertion(token, now=ISSUED, keys=keys).colour == "green"


def test_a_listed_key_id_with_another_key_behind_it_is_a_bad_signature():
    """A forger who copies a real kid still needs the key."""
    forger = Ed25519PrivateKey.generate()
    data = record(issue(signing_key=forger))
    data[31:34] = base64.urlsafe_b64decode(
        signing_keys.kid_of(tokens.settings.HEALTHCODE_ASSERTION_KEY.public_key())
    )
    assert problem(token_of(data), ISSUED) is TokenProblem.BAD_SIGNATURE


def test_well_signed_but_impossible_fields_are_malformed():
    key = tokens.settings.HEALTHCODE_ASSERTION_KEY
    good = record(issue())
    for flags in (0x30, 0x0C, 0x40):  # colour 3, test state 6, a high bit (colour 4)
        data = bytearray(good[:-64])
        data[22] = flags
        token = token_of(data + key.sign(b"HC2" + bytes(data)))
        assert problem(token, ISSUED) is TokenProblem.MALFORMED, hex(flags)


def test_a_well_signed_name_that_is_not_utf8_is_malformed():
    key = tokens.settings.HEALTHCODE_ASSERTION_KEY
    good = record(issue())
    name_at = tokens._HEAD.size
    data = bytearray(good[:-64])
    data[name_at] = 0xFF  # never a byte of UTF-8
    token = token_of(data + key.sign(b"HC2" + bytes(data)))
    assert problem(token, ISSUED) is TokenProblem.MALFORMED


def test_key_rotation(settings):
    """A token signed with the previous key verifies while that key is listed, not after."""
    previous, current = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    settings.HEALTHCODE_ASSERTION_KEY = previous
    settings.HEALTHCODE_ASSERTION_PUBLIC_KEYS = signing_keys.accepted_keys(previous, [])
    old = issue()
    previous_public = base64.b64encode(signing_keys.raw_public(previous.public_key())).decode()
    settings.HEALTHCODE_ASSERTION_KEY = current
    settings.HEALTHCODE_ASSERTION_PUBLIC_KEYS = signing_keys.accepted_keys(
        current, [previous_public]
    )
    new = issue()
    assert tokens.read_assertion(old, now=ISSUED).colour == "green"
    assert tokens.read_assertion(new, now=ISSUED).colour == "green"
    assert tokens.read_assertion(old, now=ISSUED).kid != tokens.read_assertion(new, now=ISSUED).kid
    settings.HEALTHCODE_ASSERTION_PUBLIC_KEYS = signing_keys.accepted_keys(current, [])
    assert problem(old, ISSUED) is TokenProblem.UNKNOWN_KEY
    assert tokens.read_assertion(new, now=ISSUED).colour == "green"
    # The server's own check does not depend on the assertion keys.
    assert tokens.read(old, now=ISSUED) == PUBLIC_ID


# --- From a health code ---------------------------------------------------------------------
def test_status_of_a_code_follows_the_engines_test_rule():
    resident = SimpleNamespace(masked_name="张*", public_id=PUBLIC_ID)
    test = {
        "state": "negative",
        "window_hours": 72,
        "valid_now": True,
        "valid_until": "2026-11-24T09:00:00+08:00",
        "basis_sampled_at": "2026-11-21T09:00:00+08:00",
    }
    code = SimpleNamespace(colour="yellow", test=test, review_at=ISSUED, resident=resident)
    assert tokens.status_of(code) == tokens.Status(
        colour="yellow",
        masked_name="张*",
        test_state="negative",
        test_in_time=True,
        test_valid_until=dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC),
        test_sampled_at=dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC),
        review_at=ISSUED,
    )
    overdue = SimpleNamespace(**{**vars(code), "test": {**test, "valid_now": False}})
    assert tokens.status_of(overdue).test_in_time is False
    # No window of the person's own (no policy): in time, as engine.entry_decision says.
    no_policy = SimpleNamespace(**{**vars(code), "test": {}})
    assert tokens.status_of(no_policy) == tokens.Status(
        colour="yellow", masked_name="张*", test_in_time=True, review_at=ISSUED
    )


# --- The keys in settings ---------------------------------------------------------------------
def test_a_key_reads_the_same_from_pem_and_from_raw_base64():
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    for text in (pem, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        loaded = signing_keys.private_key("K", text)
        assert signing_keys.raw_public(loaded.public_key()) == signing_keys.raw_public(
            key.public_key()
        )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert signing_keys.kid_of(signing_keys.public_key("K", public_pem.decode())) == (
        signing_keys.kid_of(key.public_key())
    )


@pytest.mark.parametrize(
    "text", ["", "short", base64.b64encode(b"x" * 31).decode(), "-----BEGIN x"]
)
def test_a_malformed_key_names_its_variable(text):
    with pytest.raises(ImproperlyConfigured, match="^K: "):
        signing_keys.private_key("K", text)
    with pytest.raises(ImproperlyConfigured, match="^K: "):
        signing_keys.public_key("K", text)


def test_the_development_key_is_derived_from_the_secret_key():
    one = signing_keys.development_key("a" * 50)
    assert signing_keys.raw_public(one.public_key()) == signing_keys.raw_public(
        signing_keys.development_key("a" * 50).public_key()
    )
    other = signing_keys.development_key("b" * 50)
    assert signing_keys.kid_of(one.public_key()) != signing_keys.kid_of(other.public_key())


def test_the_accepted_keys_start_with_the_signing_key_and_skip_repeats():
    current, previous = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = base64.b64encode(signing_keys.raw_public(previous.public_key())).decode()
    keys = signing_keys.accepted_keys(current, [text, text])
    assert list(keys) == [
        signing_keys.kid_of(current.public_key()),
        signing_keys.kid_of(previous.public_key()),
    ]
