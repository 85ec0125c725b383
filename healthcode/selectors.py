"""Reads for residents and their health codes."""

import datetime as dt

from healthcode import tokens
from healthcode.models import HealthCode, Resident


def resident_from_token(*, token: str, now: dt.datetime) -> Resident:
    """The resident a QR token names, with the health code loaded (one query).

    Raises ``tokens.TokenInvalid`` with the precise problem: malformed, bad signature,
    expired, or unknown (well signed, but nobody has that public id).
    """
    public_id = tokens.read(token, now=now)
    resident = (
        Resident.objects.select_related("health_code", "user").filter(public_id=public_id).first()
    )
    if resident is None:
        raise tokens.TokenInvalid(tokens.TokenProblem.UNKNOWN)
    return resident


def health_code_for_user(*, user) -> HealthCode | None:
    """The signed-in user's own health code, or None for an account with no resident."""
    return (
        HealthCode.objects.select_related("resident", "resident__user")
        .filter(resident__user=user)
        .first()
    )
