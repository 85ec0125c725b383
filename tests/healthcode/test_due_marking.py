"""The database, not the queue, knows whose status is due.

Every change of a person's facts marks their code due (``review_at = now``) in the same
transaction; a recompute clears it. Here no after-commit task runs (the test transaction
never commits), which is what a lost task looks like: the sweep and the reads must still
bring the right colour.
"""

import datetime as dt
import logging

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from rest_framework.test import APIClient

from healthcode import services, tasks
from healthcode.models import HealthCode, RiskArea, RiskFlag
from nucleic import services as nucleic_services
from tests.factories import PASSWORD, lab_token, make_resident

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def ingest_result(resident, *, result, barcode, sampled_ago, reported_ago, now=NOW):
    """One result for ``resident`` through the ingest service (as the API lands it)."""
    token, _key = lab_token()
    nucleic_services.results_ingest(
        token=token,
        content_type="test",
        now=now,
        records=[
            {
                "barcode": barcode,
                "id_number": resident.id_number,
                "name": resident.name,
                "sampled_at": (now - sampled_ago).isoformat(),
                "reported_at": (now - reported_ago).isoformat(),
                "result": result,
            }
        ],
    )


def ingest_positive(resident, *, now=NOW):
    ingest_result(
        resident,
        result="positive",
        barcode="DUE-0001",
        sampled_ago=dt.timedelta(hours=6),
        reported_ago=dt.timedelta(minutes=1),
        now=now,
    )


def code_of(resident) -> HealthCode:
    return HealthCode.objects.get(resident=resident)


def test_a_batch_marks_the_people_it_touches_due_in_its_own_transaction(resident):
    other = make_resident(name="李四")
    with time_machine.travel(NOW, tick=False):
        ingest_positive(resident)
    code = code_of(resident)
    assert (code.colour, code.review_at) == ("green", NOW)  # the task never ran
    assert code_of(other).review_at != NOW  # only the people the batch touched


LEASE = dt.timedelta(seconds=60)  # RECOMPUTE_LEASE_SECONDS


def test_the_sweep_recomputes_what_a_lost_task_left_behind(resident):
    with time_machine.travel(NOW, tick=False):
        ingest_positive(resident)
    # Within the lease the batch's own task is presumed queued: the sweep does not queue it
    # again. At the lease's end it is presumed lost, and the sweep takes it back.
    with time_machine.travel(NOW + LEASE - dt.timedelta(seconds=1), tick=False):
        assert tasks.recompute_due() == 0
    assert code_of(resident).colour == "green"
    with time_machine.travel(NOW + LEASE, tick=False):
        assert tasks.recompute_due() == 1
    code = code_of(resident)
    assert code.colour == "red" and code.review_at != NOW
    assert code.changes.order_by("-id").first().cause == "review time"


def test_a_read_recomputes_what_a_lost_task_left_behind(resident):
    with time_machine.travel(NOW, tick=False):
        ingest_positive(resident)
    api = APIClient()
    api.force_authenticate(resident.user)
    with time_machine.travel(NOW + dt.timedelta(seconds=1), tick=False):
        body = api.get(reverse("api-me-code")).json()
    assert body["colour"] == "red"
    assert code_of(resident).colour == "red"


def test_a_code_already_due_earlier_keeps_its_earlier_mark(resident):
    earlier = NOW - dt.timedelta(hours=1)
    HealthCode.objects.filter(resident=resident).update(review_at=earlier)
    with time_machine.travel(NOW, tick=False):
        ingest_positive(resident)
    assert code_of(resident).review_at == earlier


def test_a_risk_flag_import_marks_due(resident, staff_user):
    with time_machine.travel(NOW, tick=False):
        services.risk_flags_import(
            records=[
                {
                    "source": "cdc",
                    "external_id": "X1",
                    "id_number": resident.id_number,
                    "name": resident.name,
                    "kind": "close_contact",
                    "starts_at": (NOW - dt.timedelta(hours=1)).isoformat(),
                }
            ],
            entered_by=staff_user,
        )
    assert (code_of(resident).colour, code_of(resident).review_at) == ("green", NOW)


def test_a_risk_area_marks_due_everyone_who_stayed_there(resident):
    services.stay_declare(
        resident=resident,
        region_code="330106",
        arrived_at=timezone.now() - dt.timedelta(hours=10),
        left_at=timezone.now() - dt.timedelta(hours=2),
    )
    area = RiskArea.objects.create(
        region_code="330106", level="high", starts_at=timezone.now() - dt.timedelta(days=1)
    )
    with time_machine.travel(NOW, tick=False):
        services.risk_area_saved(area=area)
    assert code_of(resident).review_at == NOW


def test_editing_a_flag_in_the_admin_recomputes_the_person_it_left(
    admin_client, django_capture_on_commit_callbacks
):
    first, second = make_resident(name="赵一"), make_resident(name="钱二")
    flag = RiskFlag.objects.create(
        source="admin",
        external_id="M1",
        id_type=first.id_type,
        id_number=first.id_number,
        name=first.name,
        kind="close_contact",
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )
    services.healthcode_recompute_many(resident_ids=[first.pk], cause="test")
    assert code_of(first).colour == "red"
    starts = timezone.localtime(flag.starts_at)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:healthcode_riskflag_change", args=[flag.pk]),
            {
                "source": "admin",
                "external_id": "M1",
                "id_type": second.id_type,
                "id_number": second.id_number,
                "name": second.name,
                "kind": "close_contact",
                "starts_at_0": starts.date().isoformat(),
                "starts_at_1": starts.time().isoformat(timespec="seconds"),
                "reason": "更正",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (code_of(first).colour, code_of(second).colour) == ("green", "red")


def test_an_unreachable_broker_does_not_fail_the_batch(
    resident, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(ids, cause):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks, "enqueue_recompute", broker_down)
    _token, key = lab_token()
    lab = APIClient()
    lab.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = (
        "barcode,id_number,name,sampled_at,reported_at,result\n"
        f"DUE-9,{resident.id_number},{resident.name},"
        f"{(timezone.now() - dt.timedelta(hours=5)).isoformat()},"
        f"{(timezone.now() - dt.timedelta(minutes=5)).isoformat()},positive\n"
    )
    with (
        caplog.at_level(logging.WARNING),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = lab.post(reverse("api-nucleic-results"), data=body, content_type="text/csv")
    assert len(callbacks) == 1  # the enqueue ran, and failed
    assert response.status_code == 200 and response.json()["created"] == 1
    assert code_of(resident).review_at <= timezone.now()  # left due for the sweep
    assert "not enqueued" in caplog.text and resident.id_number not in caplog.text
    # The person still sees the truth at once.
    person = APIClient()
    login = person.post(
        reverse("api-token"), {"phone": resident.user.phone, "password": PASSWORD}, format="json"
    )
    person.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    assert person.get(reverse("api-me-code")).json()["colour"] == "red"


@pytest.mark.django_db(transaction=True)
def test_a_change_during_a_recompute_of_an_already_due_code_is_not_lost(monkeypatch):
    """A recompute holds the code's lock, having read the facts before a lab's positive
    commits; the batch's mark must wait for it and leave the code due, not skip the row
    because it was already due (the worker that would have run the batch's task may be dead)."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; SQLite serialises whole-database writes")
    resident = make_resident(name="周五")
    monkeypatch.setattr(tasks, "enqueue_recompute", lambda ids, cause: None)  # the task is lost
    HealthCode.objects.filter(resident=resident).update(
        review_at=timezone.now() - dt.timedelta(minutes=1)
    )
    locked, batch_done = threading.Event(), threading.Event()

    def stale_recompute():
        with transaction.atomic():
            code = HealthCode.objects.select_for_update().get(resident=resident)
            locked.set()
            batch_done.wait(timeout=1.0)  # the batch is blocked on our lock (or done)
            code.review_at = None  # what a recompute that read the facts before it stores
            code.save(update_fields=["review_at"])
        connection.close()

    recompute = threading.Thread(target=stale_recompute)
    recompute.start()
    locked.wait(timeout=10)

    def batch():
        ingest_positive(resident, now=timezone.now())
        batch_done.set()
        connection.close()

    lab = threading.Thread(target=batch)
    lab.start()
    recompute.join(timeout=30)
    lab.join(timeout=30)
    code = code_of(resident)
    assert code.review_at is not None and code.review_at <= timezone.now()
    monkeypatch.undo()  # the sweep's own tasks run
    with time_machine.travel(timezone.now() + LEASE, tick=False):
        tasks.recompute_due()
    assert code_of(resident).colour == "red"


@pytest.mark.parametrize(
    "model",
    [
        "healthcode_riskflag",
        "healthcode_riskarea",
        "healthcode_itinerarystay",
        "nucleic_testpolicy",
    ],
)
def test_facts_cannot_be_deleted_in_the_admin(admin_client, model):
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    app_label, model_name = model.split("_", 1)
    model_admin = next(
        a
        for m, a in django_admin.site._registry.items()
        if (m._meta.app_label, m._meta.model_name) == (app_label, model_name)
    )
    request = RequestFactory().get("/")
    request.user = admin_client.get("/").wsgi_request.user
    assert not model_admin.has_delete_permission(request)


def test_an_itinerary_edited_in_the_admin_recomputes_its_person(
    admin_client, resident, django_capture_on_commit_callbacks
):
    RiskArea.objects.create(
        region_code="330106", level="high", starts_at=timezone.now() - dt.timedelta(days=2)
    )
    arrived = timezone.localtime(timezone.now() - dt.timedelta(hours=10))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:healthcode_itinerarystay_add"),
            {
                "resident": resident.pk,
                "region_code": "330106",
                "arrived_at_0": arrived.date().isoformat(),
                "arrived_at_1": arrived.time().isoformat(timespec="seconds"),
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert code_of(resident).colour == "red"


def test_the_sweep_does_not_queue_twice_what_it_queued_within_the_lease(resident, monkeypatch):
    HealthCode.objects.filter(resident=resident).update(review_at=NOW - dt.timedelta(hours=1))
    monkeypatch.setattr(tasks, "enqueue_recompute", lambda ids, cause: None)
    with time_machine.travel(NOW, tick=False):
        # A code due by time alone is swept at once; its task is lost (nothing recomputes).
        assert tasks.recompute_due() == 1
    with time_machine.travel(NOW + LEASE - dt.timedelta(seconds=1), tick=False):
        assert tasks.recompute_due() == 0
    with time_machine.travel(NOW + LEASE, tick=False):
        assert tasks.recompute_due() == 1


def ingest_negative(resident, *, now=NOW):
    ingest_result(
        resident,
        result="negative",
        barcode="NEG-0001",
        sampled_ago=dt.timedelta(hours=20),
        reported_ago=dt.timedelta(hours=8),
        now=now,
    )


def test_a_policy_taking_effect_within_the_lease_of_a_batch_is_swept_at_its_instant(resident):
    """A batch queued the person at NOW and its task ran; a 72 h policy takes effect ten
    seconds later, inside the batch's lease. The lease covers only what was due when the
    batch queued them: at the policy's instant the sweep takes the code again."""
    from nucleic.services import policy_create

    switch = NOW + dt.timedelta(seconds=10)
    with time_machine.travel(NOW, tick=False):
        policy_create(group="general", window_hours=48, effective_from=NOW - dt.timedelta(days=9))
        ingest_negative(resident)
        services.healthcode_recompute_many(resident_ids=[resident.pk], cause="the batch's task")
        assert code_of(resident).test["window_hours"] == 48
        assert code_of(resident).queued_at == NOW
        policy_create(group="general", window_hours=72, effective_from=switch)
    assert code_of(resident).review_at == switch
    with time_machine.travel(switch - dt.timedelta(microseconds=1), tick=False):
        assert tasks.recompute_due() == 0  # not yet due
    with time_machine.travel(switch, tick=False):
        assert tasks.recompute_due() == 1
    code = code_of(resident)
    assert code.test["window_hours"] == 72 and code.review_at > switch
    # Queued again at the instant: a second sweep within the lease leaves it alone.
    HealthCode.objects.filter(resident=resident).update(review_at=switch)
    with time_machine.travel(switch + LEASE - dt.timedelta(seconds=1), tick=False):
        assert tasks.recompute_due() == 0


def test_the_sweep_takes_every_due_code_a_page_at_a_time(monkeypatch):
    """A city made due at one instant (a policy switch) is queued by one sweep, in pages,
    not one page a minute."""
    people = [make_resident(name="张三") for _ in range(5)]
    HealthCode.objects.update(review_at=NOW - dt.timedelta(minutes=1), queued_at=None)
    monkeypatch.setattr(tasks, "SWEEP_LIMIT", 2)
    published = []
    monkeypatch.setattr(tasks, "enqueue_recompute", lambda ids, cause: published.append(ids))
    with time_machine.travel(NOW, tick=False):
        assert tasks.recompute_due() == 5
    assert sorted(i for page in published for i in page) == sorted(r.pk for r in people)
    assert [len(page) for page in published] == [2, 2, 1]
    # The sweep kept its place in the cache, not a mark on each code.
    assert set(HealthCode.objects.values_list("queued_at", flat=True)) == {None}
    with time_machine.travel(NOW, tick=False):
        assert tasks.recompute_due() == 0  # each code queued once


def test_the_sweep_stops_paging_when_its_time_is_up(monkeypatch):
    for _ in range(3):
        make_resident(name="张三")
    HealthCode.objects.update(review_at=NOW - dt.timedelta(minutes=1), queued_at=None)
    monkeypatch.setattr(tasks, "SWEEP_LIMIT", 1)
    monkeypatch.setattr(tasks, "SWEEP_SECONDS", 0.0)  # up after the first page
    monkeypatch.setattr(tasks, "enqueue_recompute", lambda ids, cause: None)
    with time_machine.travel(NOW, tick=False):
        assert tasks.recompute_due() == 1  # the rest wait for the next minute's sweep
        assert tasks.recompute_due() == 1


def test_the_sweep_goes_on_after_its_place_and_takes_a_lost_task_again_after_the_lease(
    monkeypatch,
):
    """A city due at one instant (a tie on review_at) is paged by resident after the sweep's
    place; a second sweep within the lease queues only codes past that place, and once the
    lease is over everything still due (tasks lost) is queued again."""
    people = sorted(make_resident(name="张三").pk for _ in range(5))
    HealthCode.objects.update(review_at=NOW - dt.timedelta(minutes=1), queued_at=None)
    monkeypatch.setattr(tasks, "SWEEP_LIMIT", 2)
    monkeypatch.setattr(tasks, "SWEEP_SECONDS", 0.0)  # one page a sweep
    published = []
    monkeypatch.setattr(tasks, "enqueue_recompute", lambda ids, cause: published.append(ids))
    with time_machine.travel(NOW, tick=False):
        assert tasks.recompute_due() == 2
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        # A code due later than the others is still after the place.
        HealthCode.objects.filter(resident_id=people[4]).update(review_at=NOW)
        assert tasks.recompute_due() == 2
        assert tasks.recompute_due() == 1
        assert tasks.recompute_due() == 0
    assert published == [people[0:2], people[2:4], [people[4]]]
    with time_machine.travel(NOW + LEASE, tick=False):
        assert tasks.recompute_due() == 2  # a new pass: the lost tasks are queued again
    assert published[-1] == people[0:2]


def test_a_policy_already_in_effect_starts_a_new_pass_of_the_sweep(
    resident, monkeypatch, django_capture_on_commit_callbacks
):
    """Its review times go back to its instant, before the sweep's place: the sweep it sends
    starts from the beginning instead of going on after the place."""
    from nucleic.services import policy_create

    other = make_resident(name="李四")
    HealthCode.objects.update(review_at=NOW - dt.timedelta(minutes=1), queued_at=None)
    HealthCode.objects.filter(resident=resident).update(review_at=NOW + dt.timedelta(days=1))
    published = []
    monkeypatch.setattr(tasks, "enqueue_recompute", lambda ids, cause: published.append(ids))
    with time_machine.travel(NOW, tick=False):
        assert tasks.recompute_due() == 1
        assert published == [[other.pk]]
        with django_capture_on_commit_callbacks(execute=True):
            policy_create(
                group="general", window_hours=72, effective_from=NOW - dt.timedelta(hours=2)
            )
    assert published[-1] == sorted([resident.pk, other.pk])
