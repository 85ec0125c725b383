"""Admission control over real HTTP with concurrent requests (Django's threaded live server,
one process like one gunicorn worker): while the process is full, extras are refused at once
and door requests wait their turn and are served."""

import threading
import time
import urllib.error
import urllib.request

import pytest
from django.test import Client
from django.urls import reverse

from config import admission
from config.admission import DOOR

pytestmark = pytest.mark.django_db(transaction=True)


def fetch(url, cookie):
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        status, headers = error.code, error.headers
    return status, headers.get("Retry-After"), time.monotonic() - started


def test_under_a_surge_extras_are_refused_while_door_requests_pass(live_server, resident, settings):
    settings.ADMISSION_CAPACITY = 1
    settings.ADMISSION_CODE_QUEUE = settings.ADMISSION_DOOR_QUEUE = 8
    settings.ADMISSION_DOOR_WAIT_MS = 5000
    admission._gate = None
    client = Client()
    client.force_login(resident.user)
    cookie = client.cookies["sessionid"].value
    door = live_server.url + reverse("api-me-code")  # showing a code, the first class
    extras = [live_server.url + reverse(name) for name in ("records:record", "api-me-record")]
    assert fetch(door, cookie)[0] == 200 and fetch(extras[0], cookie)[0] == 200  # warm

    gate = admission.current_gate()
    assert gate.enter(DOOR)  # the surge: the process's one slot is taken
    results = {"door": [], "extra": []}

    def run(kind, url):
        results[kind].append(fetch(url, cookie))

    threads = [threading.Thread(target=run, args=("door", door)) for _ in range(6)]
    threads += [threading.Thread(target=run, args=("extra", extras[i % 2])) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads[6:]:
        thread.join(10)
    # Every extra was refused at once, while the door requests were waiting in line.
    assert [status for status, _r, _t in results["extra"]] == [503] * 6
    assert {retry for _s, retry, _t in results["extra"]} == {"30"}
    assert max(elapsed for _s, _r, elapsed in results["extra"]) < 1.0
    assert results["door"] == []
    time.sleep(0.2)
    gate.leave(DOOR, 0.0)  # the surge eases: the line is served, door first
    for thread in threads[:6]:
        thread.join(10)
    assert [status for status, _r, _t in results["door"]] == [200] * 6
    assert min(elapsed for _s, _r, elapsed in results["door"]) >= 0.2  # they did wait
    assert gate.running == {"code": 0, "door": 0, "normal": 0, "upload": 0, "extra": 0}
    assert gate.waiting == {"code": 0, "door": 0, "normal": 0, "upload": 0, "extra": 0}
    admission._gate = None
