"""The retention task through a real Celery worker on Redis and PostgreSQL."""

import datetime as dt

import pytest
from django.utils import timezone

from checkins.models import CheckIn
from retention import tasks
from tests.factories import make_resident, make_venue
from tests.retention.conftest import make_checkin
from tests.test_celery_worker import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_deletes_an_expired_stay_and_keeps_a_recent_one(celery_worker):
    person, venue = make_resident(), make_venue()
    now = timezone.now()
    expired = make_checkin(venue=venue, resident=person, left_at=now - dt.timedelta(days=29))
    recent = make_checkin(venue=venue, resident=person, left_at=now - dt.timedelta(days=27))
    tasks.retention_purge.delay()
    wait_for(lambda: not CheckIn.objects.filter(pk=expired.pk).exists())
    assert CheckIn.objects.filter(pk=recent.pk).exists()
