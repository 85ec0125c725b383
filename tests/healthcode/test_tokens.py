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


def _problem(token: str, now: dt.datetime, **kwargs) -> TokenProblem:
    with pytest.raises(TokenInvalid) as exc:
        tokens.read(token, now=now, **kwargs)
    return exc.value.problem


def test_round_trip_carries_only_the_public_id_and_time():
    public_id = uuid.uuid4()
    issued = tokens.issue(public_id=public_id, now=ISSUED)
    assert tokens.read(issued.token, now=ISSUED) == public_id
    assert issued.token.startswith("HC1." + public_id.hex)
    assert issued.expires_at - issued.issued_at == dt.timedelta(seconds=300)


def test_expiry_at_the_exact_edge(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 300
    token = tokens.issue(public_id=uuid.uuid4(), now=ISSUED).token
    last_valid = ISSUED + dt.timedelta(seconds=299, microseconds=999999)
    assert tokens.read(token, now=last_valid)
    assert _problem(token, ISSUED + dt.timedelta(seconds=300)) is TokenProblem.EXPIRED
    assert _problem(token, ISSUED + dt.timedelta(seconds=301)) is TokenProblem.EXPIRED


def test_ttl_comes_from_settings(settings):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 60
    token = tokens.issue(public_id=uuid.uuid4(), now=ISSUED).token
    assert tokens.read(token, now=ISSUED + dt.timedelta(seconds=59))
    assert _problem(token, ISSUED + dt.timedelta(seconds=60)) is TokenProblem.EXPIRED


def test_every_tampered_character_is_caught():
    token = tokens.issue(public_id=uuid.uuid4(), now=ISSUED).token
    for position, char in enumerate(token):
        if char in ".:":
            continue
        replacement = "0" if char != "0" else "1"
        tampered = token[:position] + replacement + token[position + 1 :]
        assert _problem(tampered, ISSUED) in {
            TokenProblem.BAD_SIGNATURE,
            TokenProblem.MALFORMED,
        }, tampered


def test_extending_the_issue_time_breaks_the_signature():
    token = tokens.issue(public_id=uuid.uuid4(), now=ISSUED).token
    body, signature = token.rsplit(":", 1)
    prefix, public_hex, issued_hex = body.split(".")
    later = f"{int(issued_hex, 16) + 3600:x}"
    assert _problem(f"{prefix}.{public_hex}.{later}:{signature}", ISSUED) is (
        TokenProblem.BAD_SIGNATURE
    )


def test_a_token_signed_with_another_key_is_rejected():
    token = tokens.issue(public_id=uuid.uuid4(), now=ISSUED, key="another-platforms-key").token
    assert _problem(token, ISSUED) is TokenProblem.BAD_SIGNATURE
    assert tokens.read(token, now=ISSUED, key="another-platforms-key")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "hello",
        "https://example.org/v/abc",
        "HC1.abc.1:xyz",
        "HC2." + "0" * 32 + ".1:" + "a" * 43,
    ],
)
def test_malformed(token):
    assert _problem(token, ISSUED) is TokenProblem.MALFORMED


def test_messages_are_chinese_and_say_what_happened():
    assert "过期" in TokenInvalid(TokenProblem.EXPIRED).message
    assert "伪造" in TokenInvalid(TokenProblem.BAD_SIGNATURE).message
    assert "无效码" in TokenInvalid(TokenProblem.MALFORMED).message


@pytest.mark.django_db
def test_selector_resolves_the_resident_and_rejects_unknown_ids(resident):
    with time_machine.travel(ISSUED, tick=False):
        good = tokens.issue(public_id=resident.public_id, now=timezone.now()).token
        stranger = tokens.issue(public_id=uuid.uuid4(), now=timezone.now()).token
        assert resident_from_token(token=good, now=timezone.now()) == resident
        with pytest.raises(TokenInvalid) as exc:
            resident_from_token(token=stranger, now=timezone.now())
        assert exc.value.problem is TokenProblem.UNKNOWN
    with time_machine.travel(ISSUED + dt.timedelta(seconds=300), tick=False):
        with pytest.raises(TokenInvalid) as exc:
            resident_from_token(token=good, now=timezone.now())
        assert exc.value.problem is TokenProblem.EXPIRED
