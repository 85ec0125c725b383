"""Keys for the status assertion (README.md, "Offline verification"):

manage.py assertion_key new    a fresh private key, its public half and key id
manage.py assertion_key show   the key ids and public keys doors accept now
"""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management.base import BaseCommand

from config.signing_keys import kid_of, raw_public


class Command(BaseCommand):
    help = "Make a new status-assertion key, or show the keys doors accept."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["new", "show"])

    def handle(self, *args, action: str, **options):
        if action == "new":
            key = Ed25519PrivateKey.generate()
            seed = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            self.stdout.write(f"HEALTHCODE_ASSERTION_KEY={base64.b64encode(seed).decode()}")
            self.stdout.write(f"public key: {_public(key.public_key())}")
            self.stdout.write(f"kid: {kid_of(key.public_key())}")
            return
        for kid, key in settings.HEALTHCODE_ASSERTION_PUBLIC_KEYS.items():
            current = kid == kid_of(settings.HEALTHCODE_ASSERTION_KEY.public_key())
            self.stdout.write(f"{kid} {_public(key)}{' (signing)' if current else ''}")


def _public(key) -> str:
    return base64.b64encode(raw_public(key)).decode()
