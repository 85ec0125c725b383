import datetime as dt

import pytest
from django.utils import timezone

from checkins.models import CheckIn, Method
from tests.factories import make_resident, make_venue

# Retention runs at this instant in every test (time_machine freezes it).
NOW = dt.datetime(2026, 3, 10, 3, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SECOND = dt.timedelta(seconds=1)


def edges(period: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    """One second inside the period and one second past it, at NOW."""
    return NOW - period + SECOND, NOW - period - SECOND


@pytest.fixture
def venue(db):
    return make_venue()


@pytest.fixture
def person(db):
    return make_resident()


def make_checkin(*, venue, resident, left_at, method=Method.SELF_SCAN, **extra) -> CheckIn:
    """A stay that ended at ``left_at``, begun an hour earlier."""
    return CheckIn.objects.create(
        resident=resident,
        venue=venue,
        checked_in_at=left_at - dt.timedelta(hours=1),
        left_at=left_at,
        method=method,
        colour="green",
        decision=CheckIn.Decision.PASS,
        decision_code="pass",
        decision_text="绿码，可以通行",
        **extra,
    )


def in_db(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


assert timezone.is_aware(NOW)
