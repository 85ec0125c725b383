"""End to end with a real Celery worker on Redis and PostgreSQL: nothing is called by hand."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode import services, tasks
from healthcode.models import HealthCode
from tests.factories import PASSWORD, add_flag, lab_token, make_resident

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def wait_for(check, *, seconds: float = 60.0):
    """Poll ``check`` until it is true; the bound is generous, only there to end a hung run."""
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
    now = timezone.now()
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
    # inline, so wait on the stored change the batch's task writes, and look at the stored
    # row before anything reads it. (Tests without a worker recompute by hand after a result,
    # tests/factories.py's post_result: this is the path they skip.)
    code = HealthCode.objects.get(resident=resident)
    wait_for(lambda: code.changes.filter(cause__startswith="lab batch", new_colour="red").exists())
    code.refresh_from_db()
    assert code.colour == "red" and code.reasons[0]["text"] == "核酸阳性"
    assert code.test["state"] == "positive"
    assert code.review_at is None or code.review_at > now  # stored as current, not left due
    body = person.get(reverse("api-me-code")).json()
    assert body["colour"] == "red" and body["reasons"][0]["text"] == "核酸阳性"
    assert body["test"]["state"] == "positive"


def test_the_minute_sweep_runs_through_the_worker(celery_worker):
    """A code green until a flag starts a few seconds from now: the instant passes, nothing
    recomputes it by itself, and the sweep (through the worker) turns it yellow."""
    resident = make_resident()
    starts = timezone.now() + dt.timedelta(seconds=2)
    add_flag(resident, "fever_clinic", starts=starts, recompute=False)
    services.healthcode_recompute_many(resident_ids=[resident.pk], cause="test")
    code = HealthCode.objects.get(resident=resident)
    assert code.colour == "green" and code.review_at == starts

    wait_for(lambda: timezone.now() > starts)
    code.refresh_from_db()
    assert code.colour == "green", "only the sweep may recompute it"
    tasks.recompute_due.delay()
    wait_for(lambda: code.changes.filter(cause="review time", new_colour="yellow").exists())
    code.refresh_from_db()
    assert code.colour == "yellow" and code.reasons[0]["code"] == "fever_clinic"
    assert code.review_at is None or code.review_at > starts


def test_a_trace_runs_in_the_worker_and_its_apply_turns_contacts_red(celery_worker):
    """The officer's trace is a task: the page's request only queues it. The worker finds the
    contact; the apply's recompute (also the worker's) turns their stored code red."""
    from checkins.models import Method
    from checkins.services import checkin_record
    from tests.factories import make_officer, make_venue
    from tracing import services as tracing_services
    from tracing.models import Trace

    officer = make_officer(phone="13611115001", region_codes=("110105",)).user
    venue = make_venue(full_name="西湖区文三路联华超市")
    case_person, contact = make_resident(name="赵病例"), make_resident(name="钱密接")
    start = timezone.now() - dt.timedelta(hours=3)
    for person in (case_person, contact):
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=start)
    case = tracing_services.case_register(
        by=officer,
        id_type=case_person.id_type,
        id_number=case_person.id_number,
        onset_at=timezone.now() - dt.timedelta(hours=1),
    )
    trace = tracing_services.trace_start(case=case, by=officer)
    trace = wait_for(lambda: Trace.objects.filter(pk=trace.pk, status="done").first())
    assert list(trace.contacts.values_list("resident_id", flat=True)) == [contact.pk]

    tracing_services.trace_apply(trace=trace, by=officer, reason="流调确认")
    # Nothing here reads the code (a read would recompute it inline): only the worker's task
    # can store the red.
    wait_for(lambda: HealthCode.objects.filter(resident=contact, colour="red").exists())
    stored = HealthCode.objects.get(resident=contact)
    assert stored.colour == "red" and stored.reasons[0]["code"] == "close_contact"
