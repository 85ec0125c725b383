"""GET /api/v1/keys: the public keys a door checks status assertions with, offline."""

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.urls import reverse

from config import signing_keys


def test_keys_are_public_cacheable_and_name_the_signing_key(client, settings):
    previous = Ed25519PrivateKey.generate().public_key()
    previous_text = base64.b64encode(signing_keys.raw_public(previous)).decode()
    settings.HEALTHCODE_ASSERTION_PUBLIC_KEYS = signing_keys.accepted_keys(
        settings.HEALTHCODE_ASSERTION_KEY, [previous_text]
    )
    settings.HEALTHCODE_ASSERTION_KEYS_MAX_AGE = 600
    response = client.get(reverse("api-keys"))  # signed out
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=600"
    body = response.json()
    assert body["max_age"] == 600
    current = settings.HEALTHCODE_ASSERTION_KEY.public_key()
    assert [(k["kid"], k["alg"], k["signing"]) for k in body["keys"]] == [
        (signing_keys.kid_of(current), "Ed25519", True),
        (signing_keys.kid_of(previous), "Ed25519", False),
    ]
    # Each key is the raw public key, base64url: what WebCrypto imports as "raw".
    for listed, key in zip(body["keys"], (current, previous), strict=True):
        raw = base64.urlsafe_b64decode(listed["key"] + "=")
        assert raw == signing_keys.raw_public(Ed25519PublicKey.from_public_bytes(raw))
        assert raw == signing_keys.raw_public(key)


def test_keys_answer_only_get(client):
    assert client.post(reverse("api-keys")).status_code == 405
