"""A positive result reaches the code even when the machinery between them fails.

With a real Celery worker and beat on Redis and PostgreSQL: the worker is killed with SIGKILL
in the middle of a recompute, or Redis cannot be reached while a lab's batch lands. What is
lost from the queue is caught by the database: every change marks the codes it touches due,
and the minute sweep of beat recomputes them (``healthcode.services.recompute_later``).
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode import engine
from healthcode.idnumbers import resident_id_check_char
from healthcode.models import HealthCode, Resident, User
from tests.conftest import PROJECT_ROOT, celery_queues, start_celery_worker, stop_process
from tests.factories import lab_token

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

N = 5_000
CONVERGE_SECONDS = 120  # the bound: all red within 2 minutes of a new worker and beat


def load_green_residents(n: int) -> list[tuple[int, str]]:
    """``n`` registered residents with green codes, bulk-loaded (setup, not under test)."""
    now = timezone.now()
    green = [engine.Reason("no_abnormality", "green", "未见异常", "", None, None).as_dict()]
    numbers = []
    for i in range(n):
        first17 = f"330106{dt.date(1960, 1, 1) + dt.timedelta(days=i // 900):%Y%m%d}"
        first17 += f"{i % 900 + 100:03d}"
        numbers.append(first17 + resident_id_check_char(first17))
    with transaction.atomic():
        users = User.objects.bulk_create(User(phone=f"150{i:08d}", password="!") for i in range(n))
        residents = Resident.objects.bulk_create(
            Resident(
                user=user,
                name="王阳",
                id_type="resident_id",
                id_number=number,
                region_code="330106",
                address="测试",
                committed_at=now,
            )
            for user, number in zip(users, numbers, strict=True)
        )
        HealthCode.objects.bulk_create(
            HealthCode(
                resident=r,
                colour="green",
                reasons=green,
                test={"state": "none", "valid_now": False},
                rules_version=engine.RULES_VERSION,
                computed_at=now,
            )
            for r in residents
        )
    return [(r.pk, r.id_number) for r in residents]


def positives_csv(people) -> bytes:
    now = timezone.now()
    sampled = (now - dt.timedelta(hours=10)).isoformat()
    reported = (now - dt.timedelta(hours=1)).isoformat()
    lines = ["barcode,id_type,id_number,name,sampled_at,reported_at,result"]
    lines += [
        f"KILL{i:06d},resident_id,{number},王阳,{sampled},{reported},positive"
        for i, (_pk, number) in enumerate(people)
    ]
    return ("\n".join(lines) + "\n").encode()


def red_count() -> int:
    return HealthCode.objects.filter(colour="red").count()


def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def start_beat(env: dict, folder: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel=WARNING",
            f"--schedule={folder}/beat-schedule",
            f"--pidfile={folder}/beat.pid",
        ],
        cwd=PROJECT_ROOT,
        env=env,
    )


def wait_until_all_red(seconds: float) -> float:
    started = time.monotonic()
    while red_count() < N:
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{red_count()} of {N} red after {seconds} s")
        time.sleep(1.0)
    return time.monotonic() - started


def wait_until_blocked_on_a_code_lock(seconds: float) -> None:
    """Until another backend waits on a row lock held by this test's transaction."""
    from django.db import connection

    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the worker never waited on the held code"
            time.sleep(0.05)


def converge_with_new_worker_and_beat(env: dict) -> float:
    """Start a worker and beat as an operator would after an outage; seconds until every
    code is red."""
    with tempfile.TemporaryDirectory() as folder:
        worker = start_celery_worker(env, f"recovered-{os.getpid()}@localhost")
        beat = start_beat(env, folder)
        try:
            return wait_until_all_red(CONVERGE_SECONDS)
        finally:
            stop_process(beat)
            stop_process(worker)


def test_killing_the_worker_mid_recompute_loses_no_positive(only_our_workers):
    env = only_our_workers
    people = load_green_residents(N)
    _token, key = lab_token()
    lab = APIClient()
    lab.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    # No worker is consuming yet: the batch's recompute tasks wait in Redis.
    response = lab.post(
        "/api/v1/nucleic/results", data=positives_csv(people), content_type="text/csv"
    )
    assert response.status_code == 200 and response.json()["created"] == N
    # The batch marked every code it touched due, in its own transaction.
    assert HealthCode.objects.filter(review_at__lte=timezone.now()).count() == N

    # One process, one task at a time: kill -9 takes down the task in flight with it. To
    # catch it in flight (a chunk of 500 takes a few milliseconds), this test holds the lock
    # of the last person's code: the worker recomputes the chunks before it, then waits on
    # that lock inside the last chunk's transaction, its task fetched and not acknowledged.
    last = max(pk for pk, _number in people)
    with transaction.atomic():
        HealthCode.objects.select_for_update().get(resident_id=last)
        doomed = start_celery_worker(env, f"doomed-{os.getpid()}@localhost", pool="solo")
        try:
            wait_until_blocked_on_a_code_lock(seconds=60)
            os.kill(doomed.pid, signal.SIGKILL)
        finally:
            stop_process(doomed)
    at_kill = red_count()
    assert 0 < at_kill < N, "the worker must die mid-recompute for this test to mean anything"
    assert not HealthCode.objects.filter(resident_id=last, colour="red").exists()
    assert broker().hlen("unacked") >= 1, "a fetched task should be stranded in Redis"

    elapsed = converge_with_new_worker_and_beat(env)

    assert elapsed <= CONVERGE_SECONDS
    # Redis did not give the stranded task back (its visibility timeout is 10 minutes): the
    # sweep of codes marked due did the work.
    assert broker().hlen("unacked") >= 1
    assert not HealthCode.objects.filter(review_at__lte=timezone.now() - dt.timedelta(minutes=5))


DEAD_REDIS_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from checkins.models import CheckIn
from healthcode.models import HealthCode, Resident
from venues import codes
from venues.models import Venue

args = json.loads(sys.argv[1])
lab = APIClient()
lab.credentials(HTTP_AUTHORIZATION="Bearer " + args["key"])
with open(args["csv"], "rb") as body:
    ingest = lab.post("/api/v1/nucleic/results", data=body.read(), content_type="text/csv")
person = Resident.objects.select_related("user").get(pk=args["reader"])
api = APIClient()
api.force_authenticate(person.user)
code = api.get(reverse("api-me-code"))
page = Client()
page.force_login(person.user)
venue = Venue.objects.get(pk=args["venue"])
poster = codes.make(public_id=venue.public_id, version=venue.poster_version)
checkin = page.post(reverse("checkins:scan", args=[poster]))
code_page = page.get(reverse("healthcode:code"))
print(json.dumps({
    "ingest": ingest.status_code,
    "created": ingest.json().get("created"),
    "code": code.json().get("colour"),
    "checkin": checkin.status_code,
    "page": [code_page.status_code, "colour-red" in code_page.content.decode()],
    "checkins": CheckIn.objects.filter(resident=person).count(),
    "stored": HealthCode.objects.get(resident=person).colour,
}))
"""


def test_with_redis_down_a_batch_still_lands_and_converges_when_it_returns(only_our_workers):
    from tests.factories import make_venue

    env = only_our_workers
    people = load_green_residents(N)
    _token, key = lab_token()
    venue = make_venue()
    dead = {**env, "REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1
    with tempfile.NamedTemporaryFile(suffix=".csv") as csv_file:
        csv_file.write(positives_csv(people))
        csv_file.flush()
        args = {"key": key, "csv": csv_file.name, "reader": people[0][0], "venue": venue.pk}
        run = subprocess.run(
            [sys.executable, "-c", DEAD_REDIS_SCRIPT, json.dumps(args)],
            cwd=PROJECT_ROOT,
            # DEBUG: the pages read static files from source, not a collectstatic manifest.
            env={**dead, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    # The batch committed, the person's own code already shows red (recomputed on read),
    # and their check-in was recorded, with no broker.
    assert (seen["ingest"], seen["created"]) == (200, N)
    assert seen["code"] == "red" and seen["stored"] == "red"
    assert (seen["checkin"], seen["checkins"]) == (302, 1)
    assert seen["page"] == [200, True]
    # Nothing reached the queue; the rest wait, marked due in the database.
    assert not any(broker().llen(queue) for queue in celery_queues())
    assert red_count() == 1
    assert HealthCode.objects.filter(review_at__lte=timezone.now()).count() == N - 1

    elapsed = converge_with_new_worker_and_beat(env)

    assert elapsed <= CONVERGE_SECONDS
