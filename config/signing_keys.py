"""The Ed25519 keys behind the status assertion in a code token (``healthcode.tokens``).

The platform signs with one private key; doors accept its public half and every other public
key listed (the previous key while tokens it signed may still be shown, or the next one,
published before it is used so doors that are offline at the switch already hold it). A key
is named by its key id (``kid``): the first three bytes of the SHA-256 of its raw public key,
base64url (four characters), so a kid cannot name the wrong key by a typing error.

Settings read these at start-up; a malformed key stops start-up naming the variable.
"""

import base64
import binascii
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured

KID_BYTES = 3
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def _raw_base64(name: str, text: str) -> bytes:
    text = text.strip()
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"{name}: not an Ed25519 key; give a PEM key or the 32 raw bytes in base64."
        )
    return raw


def private_key(name: str, text: str) -> Ed25519PrivateKey:
    """A private key from PEM (PKCS#8, unencrypted) or the raw 32-byte seed in base64."""
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            key = None
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured(f"{name}: not an unencrypted Ed25519 private key (PEM).")
        return key
    return Ed25519PrivateKey.from_private_bytes(_raw_base64(name, text))


def public_key(name: str, text: str) -> Ed25519PublicKey:
    """A public key from PEM or its raw 32 bytes in base64."""
    if "-----BEGIN" in text:
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, UnsupportedAlgorithm):
            key = None
        if not isinstance(key, Ed25519PublicKey):
            raise ImproperlyConfigured(f"{name}: not an Ed25519 public key (PEM).")
        return key
    return Ed25519PublicKey.from_public_bytes(_raw_base64(name, text))


def development_key(secret_key: str) -> Ed25519PrivateKey:
    """With DEBUG on only: a key derived from SECRET_KEY, the same on every start."""
    seed = hashlib.sha256(b"healthcode.assertion.development-key:" + secret_key.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(*_RAW)


def kid_of(key: Ed25519PublicKey) -> str:
    digest = hashlib.sha256(raw_public(key)).digest()[:KID_BYTES]
    return base64.urlsafe_b64encode(digest).decode()


def accepted_keys(current: Ed25519PrivateKey, others: list[str]) -> dict[str, Ed25519PublicKey]:
    """kid → public key, the signing key's first; two keys with one kid stop start-up."""
    keys = {kid_of(current.public_key()): current.public_key()}
    for text in others:
        key = public_key("HEALTHCODE_ASSERTION_ACCEPTED_KEYS", text)
        kid = kid_of(key)
        if kid in keys and raw_public(keys[kid]) != raw_public(key):
            raise ImproperlyConfigured(
                f"HEALTHCODE_ASSERTION_ACCEPTED_KEYS: two keys share the key id {kid}; "
                "generate another key."
            )
        keys.setdefault(kid, key)
    return keys
