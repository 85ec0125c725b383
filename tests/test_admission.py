"""Admission control (config/admission.py): the door first, the extras shed first, refusals
fast with Retry-After, a Chinese page or the API's JSON error, and nothing read or written."""

import threading
import time

import pytest
from django.urls import reverse

from checkins.models import CheckIn
from config import admission
from config.admission import CODE, DOOR, EXEMPT, EXTRA, NORMAL, UPLOAD, Gate, Limits, classify
from tests.factories import make_venue
from venues import codes


def limits(**overrides) -> Limits:
    values = {
        "capacity": 2,
        "running": {CODE: 2, DOOR: 2, NORMAL: 2, UPLOAD: 1, EXTRA: 1},
        "queue": {CODE: 2, DOOR: 2, NORMAL: 1, UPLOAD: 1, EXTRA: 0},
        "wait": {CODE: 5.0, DOOR: 5.0, NORMAL: 5.0, UPLOAD: 5.0, EXTRA: 0.0},
        "retry_after": {CODE: 2, DOOR: 2, NORMAL: 2, UPLOAD: 2, EXTRA: 30},
    }
    values.update(overrides)
    return Limits(**values)


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.005)


def enter_in_thread(gate, klass, results, **kwargs):
    thread = threading.Thread(target=lambda: results.append((klass, gate.enter(klass, **kwargs))))
    thread.start()
    return thread


@pytest.fixture(autouse=True)
def _fresh_gate():
    admission._gate = None
    yield
    admission._gate = None


# --- Classes ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "klass"),
    [
        ("/healthz", EXEMPT),
        # Showing a code first: the code page, its QR, code refresh.
        (reverse("healthcode:code"), CODE),
        (reverse("healthcode:code-qr"), CODE),
        (reverse("api-me-code"), CODE),
        # The door: check-in (its page and result), the verifies, the inspector's page.
        ("/v/AbC-123_x", DOOR),
        ("/checkin/6f1c9a52-1111-4a7e-9c55-2d0f7d3f1a10/", DOOR),
        (reverse("api-codes-verify"), DOOR),
        (reverse("api-devices-verify"), DOOR),
        (reverse("api-inspect-verify"), DOOR),
        (reverse("api-inspect-confirm"), DOOR),
        (reverse("checkins:inspect"), DOOR),
        # Extras: exports, posters, plots, history, the admin, the API schema.
        (reverse("venues:checkins-csv"), EXTRA),
        ("/officer/traces/6f1c9a52-1111-4a7e-9c55-2d0f7d3f1a10/contacts.csv", EXTRA),
        (reverse("venues:poster", args=["pdf"]), EXTRA),
        (reverse("venues:poster", args=["png"]), EXTRA),
        (reverse("proxy_scan:paper-pdf"), EXTRA),
        (reverse("tracing:workbench"), EXTRA),
        (reverse("records:record"), EXTRA),
        (reverse("api-me-record"), EXTRA),
        (reverse("api-me-itinerary"), EXTRA),
        ("/api/v1/me/family/6f1c9a52-1111-4a7e-9c55-2d0f7d3f1a10/record", EXTRA),
        ("/admin/", EXTRA),
        ("/admin/checkins/checkin/", EXTRA),
        (reverse("api-schema"), EXTRA),
        # Everything else is ordinary: log-in, registration, help at a door, family codes.
        (reverse("login"), NORMAL),
        (reverse("healthcode:register"), NORMAL),
        ("/v/AbC-123_x/help/", NORMAL),
        ("/api/v1/me/family/6f1c9a52-1111-4a7e-9c55-2d0f7d3f1a10/code", NORMAL),
        # Uploads: a lab's or a vaccination site's batch holds a slot for seconds.
        (reverse("api-nucleic-results"), UPLOAD),
        (reverse("api-vaccination-doses"), UPLOAD),
        (reverse("api-nucleic-batches"), NORMAL),
        ("/code/care-mode/", NORMAL),
    ],
)
def test_paths_are_classed(path, klass):
    assert classify(path) == klass


def test_the_settings_make_the_door_the_only_class_that_may_take_every_slot(settings):
    settings.ADMISSION_CAPACITY = 3
    settings.ADMISSION_NORMAL_LIMIT = 9  # capped at the capacity
    settings.ADMISSION_EXTRA_LIMIT = 1
    settings.ADMISSION_UPLOAD_LIMIT = 1
    settings.ADMISSION_EXTRA_QUEUE = 2
    settings.ADMISSION_EXTRA_WAIT_MS = 5000
    built = Limits.from_settings()
    assert built.running == {CODE: 3, DOOR: 3, NORMAL: 3, UPLOAD: 1, EXTRA: 1}
    assert built.queue[EXTRA] == 2 and built.wait[EXTRA] == 5.0


def test_showing_a_code_and_the_door_have_lines_of_their_own_lengths(settings):
    settings.ADMISSION_CAPACITY = 1
    settings.ADMISSION_CODE_QUEUE, settings.ADMISSION_DOOR_QUEUE = 3, 1
    gate = Gate(Limits.from_settings())
    assert (gate.limits.queue[CODE], gate.limits.queue[DOOR]) == (3, 1)
    assert gate.enter(DOOR)  # the one slot
    assert gate.screen(DOOR) and not gate.screen(DOOR)  # a line of one
    assert gate.screen(CODE) and gate.screen(CODE) and gate.screen(CODE)
    assert not gate.screen(CODE)  # a line of three


# --- Slots at their edges --------------------------------------------------------------------
def test_extras_run_up_to_their_limit_and_not_one_more():
    gate = Gate(limits())
    assert gate.enter(EXTRA)
    started = time.monotonic()
    assert not gate.enter(EXTRA)  # the one free slot is not for a second extra
    assert time.monotonic() - started < 0.05  # refused at once, never waits
    assert gate.enter(DOOR)  # ...but a door takes it
    gate.leave(EXTRA, 0.0)
    assert gate.enter(EXTRA)
    assert gate.running == {CODE: 0, DOOR: 1, NORMAL: 0, UPLOAD: 0, EXTRA: 1}


def test_a_full_process_refuses_an_extra_even_below_the_extras_limit():
    gate = Gate(limits())
    assert gate.enter(DOOR) and gate.enter(NORMAL)
    assert not gate.enter(EXTRA)
    assert gate.refused[EXTRA] == 1


def test_the_door_line_holds_exactly_its_length():
    gate = Gate(limits(queue={CODE: 2, DOOR: 2, NORMAL: 0, UPLOAD: 0, EXTRA: 0}))
    assert gate.enter(DOOR) and gate.enter(DOOR)  # capacity 2: full
    results = []
    waiters = [enter_in_thread(gate, DOOR, results) for _ in range(2)]
    wait_until(lambda: gate.waiting[DOOR] == 2)
    started = time.monotonic()
    assert not gate.enter(DOOR)  # the third in line is refused at once
    assert time.monotonic() - started < 0.05
    gate.leave(DOOR, 0.0)
    gate.leave(DOOR, 0.0)
    for waiter in waiters:
        waiter.join(5)
    assert results == [(DOOR, True), (DOOR, True)]
    assert gate.running[DOOR] == 2 and gate.waiting[DOOR] == 0


def test_a_class_with_no_line_is_refused_when_full():
    gate = Gate(limits(queue={CODE: 0, DOOR: 0, NORMAL: 0, UPLOAD: 0, EXTRA: 0}))
    assert gate.enter(DOOR) and gate.enter(DOOR)
    assert not gate.enter(DOOR) and not gate.enter(NORMAL)
    assert gate.refused == {CODE: 0, DOOR: 1, NORMAL: 1, UPLOAD: 0, EXTRA: 0}


def test_a_freed_slot_goes_to_the_door_before_an_ordinary_request_that_waited_longer():
    gate = Gate(limits(capacity=1, running={CODE: 1, DOOR: 1, NORMAL: 1, UPLOAD: 0, EXTRA: 1}))
    assert gate.enter(DOOR)
    results = []
    normal = enter_in_thread(gate, NORMAL, results)
    wait_until(lambda: gate.waiting[NORMAL] == 1)
    door = enter_in_thread(gate, DOOR, results)
    wait_until(lambda: gate.waiting[DOOR] == 1)
    gate.leave(DOOR, 0.0)
    door.join(5)
    assert results == [(DOOR, True)]
    assert gate.waiting[NORMAL] == 1  # still in line behind the door
    gate.leave(DOOR, 0.0)
    normal.join(5)
    assert results == [(DOOR, True), (NORMAL, True)]


def test_a_freed_slot_goes_to_showing_a_code_before_a_check_in():
    gate = Gate(limits(capacity=1, running={CODE: 1, DOOR: 1, NORMAL: 1, UPLOAD: 0, EXTRA: 1}))
    assert gate.enter(NORMAL)
    results = []
    door = enter_in_thread(gate, DOOR, results)
    wait_until(lambda: gate.waiting[DOOR] == 1)
    code = enter_in_thread(gate, CODE, results)
    wait_until(lambda: gate.waiting[CODE] == 1)
    gate.leave(NORMAL, 0.0)
    code.join(5)
    assert results == [(CODE, True)] and gate.waiting[DOOR] == 1
    gate.leave(CODE, 0.0)
    door.join(5)
    assert results == [(CODE, True), (DOOR, True)]


def test_an_ordinary_request_does_not_pass_a_waiting_door_to_a_free_slot():
    gate = Gate(limits(capacity=2, running={CODE: 2, DOOR: 2, NORMAL: 2, UPLOAD: 0, EXTRA: 1}))
    gate.waiting[DOOR] = 1  # a door request is in line (as if between wake-ups)
    assert not gate._may_run(NORMAL) and not gate._may_run(EXTRA)
    assert gate._may_run(DOOR)


# --- The waiting budget, from the queue stamp ------------------------------------------------
def test_a_request_that_already_queued_its_whole_budget_is_refused_without_waiting():
    gate = Gate(limits(wait={CODE: 0.2, DOOR: 0.2, NORMAL: 0.2, UPLOAD: 0, EXTRA: 0.0}))
    assert gate.enter(DOOR) and gate.enter(DOOR)
    started = time.monotonic()
    assert not gate.enter(DOOR, queued=0.2)  # exactly the budget: no time left
    assert time.monotonic() - started < 0.05
    assert gate.waiting[DOOR] == 0


def test_a_request_with_budget_left_waits_for_the_rest_of_it_and_no_longer():
    gate = Gate(limits(wait={CODE: 0.3, DOOR: 0.3, NORMAL: 0.3, UPLOAD: 0, EXTRA: 0.0}))
    assert gate.enter(DOOR) and gate.enter(DOOR)
    started = time.monotonic()
    assert not gate.enter(DOOR, queued=0.2)  # 0.1 s left of 0.3
    elapsed = time.monotonic() - started
    assert 0.08 <= elapsed < 0.25
    assert gate.waiting[DOOR] == 0 and gate.refused[DOOR] == 1


def test_a_waiting_request_is_admitted_when_a_slot_frees_within_its_budget():
    gate = Gate(limits(wait={CODE: 2.0, DOOR: 2.0, NORMAL: 2.0, UPLOAD: 0, EXTRA: 0.0}))
    assert gate.enter(DOOR) and gate.enter(DOOR)
    threading.Timer(0.1, gate.leave, args=[DOOR, 0.0]).start()
    started = time.monotonic()
    assert gate.enter(DOOR, queued=0.5)
    assert 0.08 <= time.monotonic() - started < 1.0


def test_a_request_joins_the_line_only_if_a_slot_is_likely_within_its_budget():
    wait = {CODE: 0.5, DOOR: 0.5, NORMAL: 0.5, UPLOAD: 0, EXTRA: 0.0}
    gate = Gate(limits(queue={CODE: 9, DOOR: 9, NORMAL: 9, UPLOAD: 0, EXTRA: 0}, wait=wait))
    assert gate.enter(DOOR) and gate.enter(DOOR)
    gate.leave(DOOR, 10.0)  # the mean slot time is now 1 s (weight 0.1 from 0)
    assert gate.slot_seconds == pytest.approx(1.0)
    assert gate.enter(DOOR)  # full again
    # First in line: a slot expected in 1 s / 2 slots = 0.5 s, exactly the budget: it waits.
    results = []
    first = enter_in_thread(gate, DOOR, results)
    wait_until(lambda: gate.waiting[DOOR] == 1)
    # Second in line: 1 s expected, over the budget: refused at once, never waits.
    started = time.monotonic()
    assert not gate.enter(DOOR)
    # A code request ranks before the waiting door request: first in line, within budget...
    code = enter_in_thread(gate, CODE, results)
    wait_until(lambda: gate.waiting[CODE] == 1)
    # ...an ordinary request would be third (1.5 s): refused at once.
    assert not gate.enter(NORMAL)
    assert time.monotonic() - started < 0.3  # both refusals without waiting
    assert gate.waiting == {CODE: 1, DOOR: 1, NORMAL: 0, UPLOAD: 0, EXTRA: 0}
    gate.leave(DOOR, 0.0)
    code.join(5)
    first.join(5)
    assert results[0] == (CODE, True)  # the freed slot went to the code
    assert results[1] == (DOOR, False)  # the door request's budget ran out
    assert gate.refused == {CODE: 0, DOOR: 2, NORMAL: 1, UPLOAD: 0, EXTRA: 0}


# --- Extras and uploads ----------------------------------------------------------------------
def extras_may_wait(**overrides) -> Limits:
    values = {
        "capacity": 3,
        "queue": {CODE: 2, DOOR: 2, NORMAL: 1, UPLOAD: 1, EXTRA: 1},
        "wait": {CODE: 5.0, DOOR: 5.0, NORMAL: 5.0, UPLOAD: 5.0, EXTRA: 5.0},
    }
    return limits(**{**values, **overrides})


def test_two_extras_in_an_otherwise_idle_process_take_turns_instead_of_a_503():
    gate = Gate(extras_may_wait())
    assert gate.enter(EXTRA)  # an officer's export...
    results = []
    second = enter_in_thread(gate, EXTRA, results)  # ...and the admin page beside it
    wait_until(lambda: gate.waiting[EXTRA] == 1)
    assert gate.refused[EXTRA] == 0
    gate.leave(EXTRA, 0.0)
    second.join(5)
    assert results == [(EXTRA, True)]
    assert gate.running[EXTRA] == 1 and gate.waiting[EXTRA] == 0


def test_an_extra_does_not_wait_while_its_process_serves_anything_else():
    gate = Gate(extras_may_wait())
    assert gate.enter(DOOR) and gate.enter(EXTRA)  # a slot is free, the extras' one is not
    started = time.monotonic()
    assert not gate.enter(EXTRA)
    assert time.monotonic() - started < 0.05
    assert gate.refused[EXTRA] == 1 and gate.waiting[EXTRA] == 0


def test_a_waiting_extra_gives_up_its_place_as_soon_as_a_door_request_waits():
    gate = Gate(extras_may_wait(capacity=2))
    assert gate.enter(EXTRA)
    results = []
    extra = enter_in_thread(gate, EXTRA, results)
    wait_until(lambda: gate.waiting[EXTRA] == 1)
    assert gate.enter(DOOR)  # the last slot; the process is full
    started = time.monotonic()
    door = enter_in_thread(gate, DOOR, results)
    extra.join(5)
    assert results == [(EXTRA, False)]
    assert time.monotonic() - started < 1.0  # long before its 5 s budget
    gate.leave(EXTRA, 0.0)
    door.join(5)
    assert results == [(EXTRA, False), (DOOR, True)]


def test_the_expected_wait_comes_from_code_and_door_slot_times_only():
    gate = Gate(limits())
    assert gate.enter(UPLOAD) and gate.enter(EXTRA)
    gate.leave(UPLOAD, 30.0)  # a lab's batch
    gate.leave(EXTRA, 20.0)  # an export
    assert gate.slot_seconds == 0.0
    assert gate.enter(DOOR)
    gate.leave(DOOR, 1.0)
    assert gate.slot_seconds == pytest.approx(0.1)
    assert gate.enter(CODE)
    gate.leave(CODE, 1.0)
    assert gate.slot_seconds == pytest.approx(0.19)


def test_uploads_run_one_at_a_time_and_the_next_waits_while_the_door_passes():
    gate = Gate(limits(capacity=3))
    assert gate.enter(UPLOAD)
    results = []
    second = enter_in_thread(gate, UPLOAD, results)
    wait_until(lambda: gate.waiting[UPLOAD] == 1)
    assert gate.enter(DOOR) and gate.enter(NORMAL)  # the other slots are not the uploads'
    assert not gate.enter(UPLOAD)  # its line (1) is full
    gate.leave(UPLOAD, 0.0)
    second.join(5)
    assert results == [(UPLOAD, True)]


def test_when_a_waiting_request_gives_up_the_slot_it_was_blocking_goes_to_the_next_class():
    gate = Gate(
        limits(
            capacity=3,
            running={CODE: 3, DOOR: 3, NORMAL: 1, UPLOAD: 1, EXTRA: 1},
            wait={CODE: 5.0, DOOR: 5.0, NORMAL: 0.2, UPLOAD: 3.0, EXTRA: 0.0},
        )
    )
    assert gate.enter(NORMAL) and gate.enter(DOOR) and gate.enter(DOOR)
    results = []
    normal = enter_in_thread(gate, NORMAL, results)  # at its class's limit: cannot run
    wait_until(lambda: gate.waiting[NORMAL] == 1)
    upload = enter_in_thread(gate, UPLOAD, results)  # behind the waiting ordinary request
    wait_until(lambda: gate.waiting[UPLOAD] == 1)
    gate.leave(DOOR, 0.0)  # a free slot, but the ordinary request ranks first and may not
    started = time.monotonic()
    normal.join(5)
    upload.join(5)
    assert results == [(NORMAL, False), (UPLOAD, True)]
    assert time.monotonic() - started < 1.5  # at once, not at the end of its own 3 s


# --- The acceptor's question (Gate.screen) ---------------------------------------------------
def test_screen_counts_requests_let_through_until_they_arrive():
    gate = Gate(limits(capacity=1, queue={CODE: 1, DOOR: 1, NORMAL: 0, UPLOAD: 0, EXTRA: 0}))
    assert gate.screen(DOOR)  # will take the one slot
    assert not gate.screen(EXTRA)  # the slot is spoken for and extras do not wait here
    assert gate.screen(DOOR)  # the door line has one place...
    assert not gate.screen(DOOR)  # ...and it is spoken for too
    assert gate.pending == {CODE: 0, DOOR: 2, NORMAL: 0, UPLOAD: 0, EXTRA: 0}
    assert gate.refused == {CODE: 0, DOOR: 1, NORMAL: 0, UPLOAD: 0, EXTRA: 1}
    gate.arrived(DOOR)
    gate.arrived(DOOR)
    assert gate.screen(EXTRA)  # nothing pending, nothing running: room again
    assert gate.running == {CODE: 0, DOOR: 0, NORMAL: 0, UPLOAD: 0, EXTRA: 0}


def test_screen_refuses_what_enter_would_refuse_and_lets_through_what_it_would_queue():
    gate = Gate(limits())
    assert gate.enter(DOOR) and gate.enter(DOOR)  # full
    assert gate.screen(CODE)  # a place in the code line
    assert gate.screen(NORMAL)  # and in the ordinary line (one place)
    assert not gate.screen(NORMAL)
    assert not gate.screen(EXTRA)  # extras never wait in a busy process
    gate.waiting[DOOR] = 2  # the door line is full
    assert not gate.screen(DOOR)
    assert gate.refused == {CODE: 0, DOOR: 1, NORMAL: 1, UPLOAD: 0, EXTRA: 1}


def test_refusals_are_logged_as_counts_at_most_every_ten_seconds(caplog):
    now = [100.0]
    gate = Gate(
        limits(queue={CODE: 0, DOOR: 0, NORMAL: 0, UPLOAD: 0, EXTRA: 0}), clock=lambda: now[0]
    )
    assert gate.enter(DOOR) and gate.enter(DOOR)
    caplog.set_level("WARNING", logger="config.admission")
    now[0] = 109.999
    assert not gate.enter(EXTRA)
    assert not caplog.records
    now[0] = 110.0
    assert not gate.enter(EXTRA)
    (record,) = caplog.records
    assert "'extra': 2" in record.getMessage()
    assert gate.refused[EXTRA] == 0  # counting starts again


# --- Through the middleware ------------------------------------------------------------------
def fill(settings, *, door_queue=0):
    settings.ADMISSION_CAPACITY = 2
    settings.ADMISSION_CODE_QUEUE = settings.ADMISSION_DOOR_QUEUE = door_queue
    settings.ADMISSION_NORMAL_QUEUE = 0
    gate = admission.current_gate()
    assert gate.enter(DOOR) and gate.enter(DOOR)
    return gate


@pytest.mark.django_db
def test_a_shed_page_is_a_fast_chinese_503_with_retry_after(client, resident, settings, caplog):
    fill(settings)
    client.force_login(resident.user)
    client.get(reverse("venues:checkins-csv"))  # loads the middleware, renders the page once
    started = time.monotonic()
    response = client.get(reverse("venues:checkins-csv"))
    assert time.monotonic() - started < 0.05
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page and "访问人数过多" in page
    assert "当前访问人数过多，请 30 秒后重试。" in page
    assert 'name="viewport"' in page  # mobile-first, like the other error pages
    assert 'http-equiv="refresh"' not in page  # an export does not reload itself
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response
    assert not [r for r in caplog.records if r.name == "django.request"]  # no line per refusal


@pytest.mark.django_db
def test_a_refused_code_page_reloads_itself_after_retry_after(client, resident, settings):
    fill(settings)
    client.force_login(resident.user)
    response = client.get(reverse("healthcode:code"))
    assert response.status_code == 503 and response["Retry-After"] == "2"
    page = response.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "本页将在 2 秒后自动刷新。" in page


@pytest.mark.django_db
def test_a_shed_api_request_gets_the_json_error_shape(client, resident, settings):
    fill(settings)
    client.force_login(resident.user)
    response = client.get(reverse("api-me-record"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "当前访问人数过多，请 30 秒后重试。", "code": "overloaded"}
    code = client.get(reverse("api-me-code"))
    assert code.status_code == 503 and code["Retry-After"] == "2"
    assert code.json()["code"] == "overloaded"


@pytest.mark.django_db
def test_a_refused_checkin_reads_and_writes_nothing(
    client, resident, settings, django_assert_num_queries
):
    venue = make_venue()
    client.force_login(resident.user)
    gate = fill(settings)
    url = reverse(
        "checkins:scan", args=[codes.make(public_id=venue.public_id, version=venue.poster_version)]
    )
    with django_assert_num_queries(0):  # not the session, not the venue, no insert
        response = client.post(url)
    assert response.status_code == 503
    assert not CheckIn.objects.exists()
    assert gate.running == {
        CODE: 0,
        DOOR: 2,
        NORMAL: 0,
        UPLOAD: 0,
        EXTRA: 0,
    }  # the refusal held no slot
    gate.leave(DOOR, 0.0)
    assert client.post(url).status_code == 302  # with a slot free, it records
    assert CheckIn.objects.count() == 1
    assert gate.running == {
        CODE: 0,
        DOOR: 1,
        NORMAL: 0,
        UPLOAD: 0,
        EXTRA: 0,
    }  # and gave its slot back


@pytest.mark.django_db
def test_health_checks_are_never_shed(client, settings):
    gate = fill(settings)
    assert client.get("/healthz").status_code == 200
    assert gate.refused == {CODE: 0, DOOR: 0, NORMAL: 0, UPLOAD: 0, EXTRA: 0}


@pytest.mark.django_db
def test_a_failing_view_gives_its_slot_back(client, settings):
    settings.ADMISSION_CAPACITY = 1
    gate = admission.current_gate()
    client.raise_request_exception = False
    assert client.get("/api/v1/no-such-thing").status_code == 404
    assert gate.running == {CODE: 0, DOOR: 0, NORMAL: 0, UPLOAD: 0, EXTRA: 0}


@pytest.mark.django_db
def test_switched_off_it_sheds_nothing(client, resident, settings):
    settings.ADMISSION_ENABLED = False
    fill(settings)
    client.force_login(resident.user)
    assert client.get(reverse("api-me-record")).status_code == 200


# --- The acceptor's refusal is the middleware's, as bytes ------------------------------------
def parse_raw(raw: bytes) -> tuple[int, dict, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/venue/checkins.csv"),  # an extra's page
        ("GET", "/code/"),  # the code page, which reloads itself
        ("POST", "/v/AbC-123_x"),  # a check-in: a page that does not reload
        ("GET", "/api/v1/me/record"),  # the JSON error
        ("GET", "/api/v1/me/code"),
    ],
)
def test_the_acceptors_refusal_is_the_middlewares_refusal_as_bytes(client, settings, method, path):
    fill(settings)
    response = client.generic(method, path)
    assert response.status_code == 503
    status, headers, body = parse_raw(admission.raw_refusal(method, path, classify(path)))
    assert status == 503
    assert body == response.content
    assert headers["Content-Length"] == str(len(body))
    assert headers["Connection"] == "close" and "GMT" in headers["Date"]
    for name in ("Retry-After", "Content-Type", "Cache-Control", "Content-Security-Policy"):
        assert headers[name] == response[name], name
    kept = admission.raw_refusal(method, path, classify(path), keep_alive=True)
    same = {k: v for k, v in headers.items() if k not in ("Connection", "Date")}
    assert {k: v for k, v in parse_raw(kept)[1].items() if k != "Date"} == same
    assert parse_raw(kept)[2] == body
    head = admission.raw_refusal("HEAD", path, classify(path))
    assert head.endswith(b"\r\n\r\n") and b"Content-Length: " in head  # no body after a HEAD


def test_early_refusal_follows_its_switch_and_admissions(settings):
    assert admission.screening()
    settings.ADMISSION_EARLY_REFUSAL = False
    assert not admission.screening()
    settings.ADMISSION_EARLY_REFUSAL = True
    settings.ADMISSION_ENABLED = False
    assert not admission.screening()
