"""On PostgreSQL the audit table's trigger refuses to delete rows younger than its floor
(audit/migrations/0002): retention deletes rows past AUDIT_RETENTION_DAYS through it, keeps
the younger ones, and never asks for a row under the floor. The trigger compares with the
database's clock, so time is frozen at the real present."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from audit import services as audit_services
from audit.models import AUDIT_DELETE_FLOOR_DAYS, AuditEvent
from retention.services import retention_purge

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the audit trigger exists on PostgreSQL (CI runs it there)")


def event(person, at):
    return audit_services.audit_change(action="flag", subject=person, at=at)


def test_rows_past_the_trails_period_go_through_the_trigger(postgres_only, settings, resident):
    settings.AUDIT_RETENTION_DAYS = 365
    now = timezone.now()
    past, inside, young = (
        event(resident, at)
        for at in (now - 365 * DAY - SECOND, now - 365 * DAY + 60 * SECOND, now - 100 * DAY)
    )
    with time_machine.travel(now, tick=False):
        assert retention_purge()["audit"] == 1
        assert retention_purge()["audit"] == 0
    assert set(AuditEvent.objects.filter(action="flag").values_list("pk", flat=True)) == {
        inside.pk,
        young.pk,
    }
    assert past.pk not in set(AuditEvent.objects.values_list("pk", flat=True))


def test_a_period_set_below_the_floor_deletes_only_past_the_floor(settings, resident):
    # Below the setting's own minimum (only a test can do this): retention still asks for
    # nothing the trigger would refuse, on PostgreSQL and SQLite alike.
    settings.AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    under_floor = event(resident, now - (AUDIT_DELETE_FLOOR_DAYS - 1) * DAY)
    past_floor = event(resident, now - AUDIT_DELETE_FLOOR_DAYS * DAY - 60 * SECOND)
    with time_machine.travel(now, tick=False):
        assert retention_purge()["audit"] == 1
    assert list(AuditEvent.objects.filter(action="flag").values_list("pk", flat=True)) == [
        under_floor.pk
    ]
    assert past_floor.pk != under_floor.pk
