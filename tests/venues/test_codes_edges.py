"""The venue poster code in its documented shape: ``V1.<public id hex>.<version>:<first 27
characters of the SHA-256 signature>``, checked against an independent signer. Written against
the surviving mutants of ``make mutants``."""

import uuid

import pytest
from django.conf import settings
from django.core import signing

from venues import codes
from venues.codes import VenueCode, VenueCodeInvalid

PUBLIC_ID = uuid.UUID("fedcba9876543210fedcba9876543210")


def documented(value: str, *, key: str | None = None, salt: str = "venues.codes.v1") -> str:
    full = signing.Signer(
        key=key or settings.HEALTHCODE_SIGNING_KEY, salt=salt, algorithm="sha256"
    ).sign(value)
    body, signature = full.rsplit(":", 1)
    return f"{body}:{signature[:27]}"


def test_a_code_is_the_documented_signed_text():
    code = codes.make(public_id=PUBLIC_ID, version=3)
    assert code == documented(f"V1.{PUBLIC_ID.hex}.3")
    assert len(code.rsplit(":", 1)[1]) == 27


def test_codes_are_signed_with_the_signing_key_not_the_secret_key(settings):
    settings.HEALTHCODE_SIGNING_KEY = "a-signing-key-of-its-own-for-posters"
    code = codes.make(public_id=PUBLIC_ID, version=1)
    assert code == documented(f"V1.{PUBLIC_ID.hex}.1", key="a-signing-key-of-its-own-for-posters")
    assert codes.read(code).public_id == PUBLIC_ID
    refused(documented(f"V1.{PUBLIC_ID.hex}.1", key=settings.SECRET_KEY))


def test_a_code_from_the_documented_signer_is_read():
    code = documented(f"V1.{PUBLIC_ID.hex}.42")
    assert codes.read(code) == VenueCode(public_id=PUBLIC_ID, version=42)
    assert codes.read(f"  {code}\n") == VenueCode(public_id=PUBLIC_ID, version=42)


@pytest.mark.parametrize("version", [1, 9, 10, 999_999])
def test_versions_round_trip(version):
    assert codes.read(codes.make(public_id=PUBLIC_ID, version=version)).version == version


def refused(code) -> None:
    with pytest.raises(VenueCodeInvalid):
        codes.read(code)


def test_another_salt_or_key_is_refused():
    refused(documented(f"V1.{PUBLIC_ID.hex}.1", salt="venues.codes.v2"))
    refused(documented(f"V1.{PUBLIC_ID.hex}.1", key="another-platforms-key"))


def test_a_signature_of_another_length_is_refused():
    code = codes.make(public_id=PUBLIC_ID, version=1)
    body = code.rsplit(":", 1)[0]
    full = signing.Signer(
        key=settings.HEALTHCODE_SIGNING_KEY, salt="venues.codes.v1", algorithm="sha256"
    ).sign(body)
    refused(full)  # the untruncated signature
    refused(code[:-1])
    refused(full[: len(code) + 1])


@pytest.mark.parametrize(
    "code",
    [None, "", "V1", f"V1.{PUBLIC_ID.hex}.0:" + "a" * 27, f"V2.{PUBLIC_ID.hex}.1:" + "a" * 27],
)
def test_what_is_not_a_venue_code_is_refused(code):
    refused(code)


def test_the_refusal_carries_the_stripped_text():
    with pytest.raises(VenueCodeInvalid) as exc:
        codes.read("  not-a-code ")
    assert exc.value.args == ("not-a-code",)
    with pytest.raises(VenueCodeInvalid) as exc:
        codes.read(None)
    assert exc.value.args == ("",)
    forged = codes.make(public_id=PUBLIC_ID, version=1).replace(".1:", ".2:")
    with pytest.raises(VenueCodeInvalid) as exc:
        codes.read(forged)
    assert exc.value.args == (forged,)
