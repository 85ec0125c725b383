import base64
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from healthcode import tokens
from healthcode.selectors import resident_from_token
from healthcode.tokens import TokenInvalid, TokenProblem

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUED = dt.datetime(2026, 11, 22, 9, 0, 0, tzinfo=SHANGHAI)


STATUS = tokens.Status(colour="green", masked_name="张*三")


def _problem(token: str, now: dt.datetime, **kwargs) -> TokenProblem:
    with pytest.raises(TokenInvalid) as exc:
        tokens.read(token, now=now, **kwargs)
    return exc.value.problem


def _issue(public_id=None, now=ISSUED, **kwargs) -> str:
    return tokens.issue(public_id=public_id or uuid.uuid4(), now=now, status=STATUS, **kwargs).token


def _record(token: str) -> bytearray:
    text = token.removeprefix("HC2.")
    return bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _token(record: bytes) -> str:
    return "HC2." + base64.urlsafe_b64encode(bytes(record)).rstrip(b"=").decode()


def test_round_trip_carries_the_public_id_and_time():
    public_id = uuid.uuid4()
    issued = tokens.issue(public_id=public_id, now=ISSUED, status=STATUS)
    assert tokens.read(issued.token, now=ISSUED) == public_id
    assert issued.token.startswith("HC2.")
    assert issued.expires_at - issued.issued_at == dt.timedelta(seconds=300)


def test_expiry_at_the_exact_edge(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 300
    token = _issue()
    last_valid = ISSUED + dt.timedelta(seconds=299, microseconds=999999)
    assert tokens.read(token, now=last_valid)
    assert _problem(token, ISSUED + dt.timedelta(seconds=300)) is TokenProblem.EXPIRED
    assert _problem(token, ISSUED + dt.timedelta(seconds=301)) is TokenProblem.EXPIRED


def test_ttl_comes_from_settings(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 60
    token = _issue()
    assert tokens.read(token, now=ISSUED + dt.timedelta(seconds=59))
    assert _problem(token, ISSUED + dt.timedelta(seconds=60)) is TokenProblem.EXPIRED


def test_every_tampered_character_up_to_the_hmac_is_caught():
    token = _issue()
    signed_chars = len("HC2.") + (len(_record(token)) - 64) * 4 // 3  # before the signature
    for position in range(signed_chars):
        char = token[position]
        replacement = "A" if char != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1 :]
        assert _problem(tampered, ISSUED) in {
            TokenProblem.BAD_SIGNATURE,
            TokenProblem.MALFORMED,
        }, tampered


def test_every_tampered_byte_up_to_the_hmac_breaks_it():
    token = _issue()
    record = _record(token)
    for position in range(len(record) - 64):
        tampered = bytearray(record)
        tampered[position] ^= 0x01
        assert _problem(_token(tampered), ISSUED) is TokenProblem.BAD_SIGNATURE, position


def test_the_door_signature_is_not_the_servers_concern_nor_the_one_venue_rules():
    """The server checks the HMAC; a token whose Ed25519 signature was altered names the same
    person and has the same digest, so it cannot slip past the one-venue rule."""
    public_id = uuid.uuid4()
    token = _issue(public_id)
    record = _record(token)
    record[-1] ^= 0x80
    altered = _token(record)
    assert altered != token
    assert tokens.read(altered, now=ISSUED) == public_id
    assert tokens.digest(altered) == tokens.digest(token)


def test_extending_the_issue_time_breaks_the_signature():
    record = _record(_issue())
    issued = int.from_bytes(record[16:20], "big")
    record[16:20] = (issued + 3600).to_bytes(4, "big")
    assert _problem(_token(record), ISSUED) is TokenProblem.BAD_SIGNATURE


def test_a_token_signed_with_another_key_is_rejected():
    token = _issue(key="another-platforms-key")
    assert _problem(token, ISSUED) is TokenProblem.BAD_SIGNATURE
    assert tokens.read(token, now=ISSUED, key="another-platforms-key")


def test_another_spelling_of_the_same_record_is_malformed():
    """Base64 leaves spare bits in the last character: only the canonical spelling is read,
    or a used token could be respelled past the one-venue rule."""
    token = _issue()
    assert len(token.removeprefix("HC2.")) % 4 != 0  # the last character has spare bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    respelled = token[:-1] + alphabet[alphabet.index(token[-1]) + 1]
    assert _record(respelled) == _record(token)
    assert _problem(respelled, ISSUED) is TokenProblem.MALFORMED


@pytest.mark.parametrize(
    "token",
    [
        "",
        "hello",
        "https://example.org/v/abc",
        "HC2.abc",
        "HC2." + "A" * 151,  # one byte short of the smallest record
        "HC2." + "A" * 217,  # longer than the longest
        "HC3." + "A" * 160,
        "HC1." + "0" * 32 + ".1:" + "a" * 43,  # the retired text token
        "HC2." + "A" * 159 + "=",
    ],
)
def test_malformed(token):
    assert _problem(token, ISSUED) is TokenProblem.MALFORMED


def test_messages_are_chinese_and_say_what_happened():
    assert "过期" in TokenInvalid(TokenProblem.EXPIRED).message
    assert "伪造" in TokenInvalid(TokenProblem.BAD_SIGNATURE).message
    assert "无效码" in TokenInvalid(TokenProblem.MALFORMED).message
    assert "密钥未知" in TokenInvalid(TokenProblem.UNKNOWN_KEY).message


@pytest.mark.django_db
def test_selector_resolves_the_resident_and_rejects_unknown_ids(resident):
    with time_machine.travel(ISSUED, tick=False):
        good = tokens.issue_for(resident.health_code, now=timezone.now()).token
        stranger = _issue(now=timezone.now())
        assert resident_from_token(token=good, now=timezone.now()) == resident
        with pytest.raises(TokenInvalid) as exc:
            resident_from_token(token=stranger, now=timezone.now())
        assert exc.value.problem is TokenProblem.UNKNOWN
    with time_machine.travel(ISSUED + dt.timedelta(seconds=300), tick=False):
        with pytest.raises(TokenInvalid) as exc:
            resident_from_token(token=good, now=timezone.now())
        assert exc.value.problem is TokenProblem.EXPIRED
