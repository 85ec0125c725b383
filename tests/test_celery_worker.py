"""End to end with a real Celery worker on Redis and PostgreSQL: nothing is called by hand."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode import tasks
from healthcode.models import HealthCode
from tests.factories import PASSWORD, add_flag, lab_token, make_resident

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def wait_for(check, *, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def test_a_positive_result_posted_by_a_lab_turns_the_code_red(celery_worker):
    resident = make_resident(name="陈红")
    _token, key = lab_token()
    person = APIClient()
    login = person.post(
        reverse("api-token"), {"phone": resident.user.phone, "password": PASSWORD}, format="json"
    )
    person.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    assert person.get(reverse("api-me-code")).json()["colour"] == "green"

    lab = APIClient()
    lab.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    started, now = time.monotonic(), timezone.now()
    response = lab.post(
        reverse("api-nucleic-results"),
        {
            "records": [
                {
                    "barcode": "E2E-0001",
                    "id_number": resident.id_number,
                    "name": "陈红",
                    "sampled_at": (now - dt.timedelta(hours=8)).isoformat(),
                    "reported_at": (now - dt.timedelta(minutes=5)).isoformat(),
                    "result": "positive",
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 200 and response.json()["created"] == 1

    # The worker's task, not a read, turns it red: a read of the (due) code would recompute
    # inline, so wait on the stored change the batch's task writes, then read.
    code = HealthCode.objects.get(resident=resident)
    wait_for(lambda: code.changes.filter(cause__startswith="lab batch", new_colour="red").exists())
    elapsed = time.monotonic() - started
    body = person.get(reverse("api-me-code")).json()
    assert body["colour"] == "red" and body["reasons"][0]["text"] == "核酸阳性"
    assert body["test"]["state"] == "positive"
    assert elapsed < 10, f"took {elapsed:.1f} s"


def test_the_minute_sweep_runs_through_the_worker(celery_worker):
    resident = make_resident()
    add_flag(resident, "fever_clinic")
    HealthCode.objects.filter(resident=resident).update(review_at="2000-01-01T00:00:00Z")
    tasks.recompute_due.delay()

    def swept():
        review_at = HealthCode.objects.get(resident=resident).review_at
        return review_at is None or review_at.year > 2000

    wait_for(swept)
    assert HealthCode.objects.get(resident=resident).colour == "yellow"
