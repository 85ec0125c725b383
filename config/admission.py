"""Admission control: under a surge the door is served first and the extras are shed first.

Every request is put in a priority class by its path, before anything else reads it:

- ``code``: showing one's code — the code page, its QR and code refresh (``/api/v1/me/code``).
  First of all: nothing at a door works without a code on the screen, and it is the cheapest
  door request (one read);
- ``door``: the rest of what a person at a door waits on — the resident's check-in
  (``/v/<code>`` and its result), the device's, the inspector's and the API's verify, the
  inspector's page and confirm, the public keys;
- ``extra``: what can wait minutes — CSV exports, posters and the paper code (PDF/PNG), the
  officers' workbench with its plots, history (records, itinerary), the API schema, the admin;
- ``normal``: everything else (log-in, registration, appeals...);
- ``upload``: the labs' result and the vaccination sites' dose uploads: a batch holds a slot
  for seconds, so they have their own limit and line, after ordinary requests;
- ``/healthz`` is never shed.

Each web process admits at most ``ADMISSION_CAPACITY`` requests to run at once; an ordinary
request only while fewer than ``ADMISSION_NORMAL_LIMIT`` ordinary ones run, an upload and an
extra likewise under their own limits, and none while a higher class waits. A code or door
request that finds no free slot waits in its line (``ADMISSION_CODE_QUEUE``,
``ADMISSION_DOOR_QUEUE``) for up to ``ADMISSION_DOOR_WAIT_MS``, ordinary requests and uploads
likewise with their own knobs. An extra waits (``ADMISSION_EXTRA_QUEUE``,
``ADMISSION_EXTRA_WAIT_MS``) only while its process is otherwise idle — two admin pages at once
are not a surge — and leaves the line refused as soon as a request of another class waits for a
slot. A request that cannot be admitted is refused at once: 503 with ``Retry-After``, a Chinese
page, or the API's JSON error ``{"detail", "code": "overloaded"}``. Nothing has read its
session or the database, so a refusal costs about what ``/healthz`` costs and writes nothing.

Why slots and a line inside the process: a sync gunicorn worker runs one request at a time and
the rest wait, unseen, in the listen backlog, so counting requests in flight tells nothing. The
web service runs gthread workers (gunicorn.conf.py) with more threads than slots, so waiting
requests reach this module and wait here, in order of priority, where they can be counted and
refused. The time a request spent in gunicorn's own thread-pool queue before reaching Django
is stamped by ``config.gunicorn_worker`` and counts against its waiting budget, so a request
that already waited too long there is refused without waiting again.

The first line of refusal is not this middleware but ``config.gunicorn_worker``: its acceptor
(the process's main thread) reads a request's first bytes without consuming them, classes the
path and asks ``Gate.screen`` whether the request would find room; if not, it writes the same
503 (``raw_refusal``), so a refused request never waits for a pool thread.
"""

import io
import logging
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

CODE = "code"
DOOR = "door"
NORMAL = "normal"
UPLOAD = "upload"
EXTRA = "extra"
EXEMPT = "exempt"
# Highest priority first: a class waits behind every class before it.
PRIORITY = (CODE, DOOR, NORMAL, UPLOAD, EXTRA)
# The expected wait in line is predicted from these classes' slot times only: they are what a
# line is mostly made of, and one upload or export holding a slot for seconds must not make
# the gate refuse the door's next hundred requests of a few milliseconds.
TIMED = (CODE, DOOR)

# Prefix match on request.path_info; the first rule that matches decides. Exact paths end
# with "$" semantics by being tested with ==; prefixes end with "/" or a partial name.
_EXACT = {
    "/healthz": EXEMPT,
    "/code/": CODE,
    "/code/qr.png": CODE,
    "/api/v1/me/code": CODE,
    "/inspect/": DOOR,
    "/api/v1/codes/verify": DOOR,
    "/api/v1/devices/verify": DOOR,
    "/api/v1/inspect/verify": DOOR,
    "/api/v1/inspect/confirm": DOOR,
    "/api/v1/keys": DOOR,
    "/api/v1/nucleic/results": UPLOAD,
    "/api/v1/vaccination/doses": UPLOAD,
    "/code/paper.pdf": EXTRA,
    "/officer/": EXTRA,  # the workbench: three plots over days of check-ins and colours
    "/me/record/": EXTRA,
    "/api/v1/me/record": EXTRA,
    "/api/v1/me/itinerary": EXTRA,
}
_EXTRA_PREFIXES = ("/admin/", "/venue/poster.", "/api/v1/schema/", "/api/v1/docs/")


def classify(path: str) -> str:
    """The priority class of a request path (see the module docstring)."""
    found = _EXACT.get(path)
    if found:
        return found
    if path.startswith("/v/") and path.count("/") == 2:  # /v/<code>, not /v/<code>/help/
        return DOOR
    if path.startswith("/checkin/") and path.count("/") == 3:  # /checkin/<id>/: the result
        return DOOR
    if path.endswith(".csv") or path.startswith(_EXTRA_PREFIXES):
        return EXTRA
    if path.startswith("/api/v1/me/family/") and path.endswith("/record"):
        return EXTRA
    return NORMAL


@dataclass(frozen=True)
class Limits:
    capacity: int  # requests running at once in this process, all classes
    running: dict  # class -> at most this many of that class running
    queue: dict  # class -> at most this many of that class waiting for a slot
    wait: dict  # class -> seconds a request may wait, counted from its queue stamp
    retry_after: dict  # class -> seconds named in Retry-After

    @classmethod
    def from_settings(cls) -> "Limits":
        capacity = settings.ADMISSION_CAPACITY
        return cls(
            capacity=capacity,
            running={
                CODE: capacity,
                DOOR: capacity,
                NORMAL: min(settings.ADMISSION_NORMAL_LIMIT, capacity),
                UPLOAD: min(settings.ADMISSION_UPLOAD_LIMIT, capacity),
                EXTRA: min(settings.ADMISSION_EXTRA_LIMIT, capacity),
            },
            queue={
                CODE: settings.ADMISSION_CODE_QUEUE,
                DOOR: settings.ADMISSION_DOOR_QUEUE,
                NORMAL: settings.ADMISSION_NORMAL_QUEUE,
                UPLOAD: settings.ADMISSION_UPLOAD_QUEUE,
                EXTRA: settings.ADMISSION_EXTRA_QUEUE,
            },
            wait={
                CODE: settings.ADMISSION_DOOR_WAIT_MS / 1000,
                DOOR: settings.ADMISSION_DOOR_WAIT_MS / 1000,
                NORMAL: settings.ADMISSION_NORMAL_WAIT_MS / 1000,
                UPLOAD: settings.ADMISSION_UPLOAD_WAIT_MS / 1000,
                EXTRA: settings.ADMISSION_EXTRA_WAIT_MS / 1000,
            },
            retry_after={
                CODE: settings.ADMISSION_RETRY_AFTER_SECONDS,
                DOOR: settings.ADMISSION_RETRY_AFTER_SECONDS,
                NORMAL: settings.ADMISSION_RETRY_AFTER_SECONDS,
                UPLOAD: settings.ADMISSION_RETRY_AFTER_SECONDS,
                EXTRA: settings.ADMISSION_EXTRA_RETRY_AFTER_SECONDS,
            },
        )


class Gate:
    """One process's slots and lines. ``enter`` returns True when the request may run (the
    caller must then ``leave`` with how long it ran), False when it is refused.

    A request joins a line only if it is likely to get a slot within what is left of its
    budget: its place in line (behind every request of its class or a higher one) times the
    recent mean time a code or door request holds a slot, over the slots. Otherwise it is
    refused at once, so refusals stay fast (a refusal after waiting out the budget is the rare
    exception).

    ``screen`` asks the same before a request reaches a pool thread (config.gunicorn_worker's
    acceptor); a request it lets through is *pending* until ``arrived`` and counts meanwhile
    as taking a slot or a place in line."""

    LOG_EVERY_SECONDS = 10.0
    # Weight of the newest request in the mean slot time: about the last ten requests.
    SMOOTHING = 0.1

    def __init__(self, limits: Limits, *, clock=time.monotonic):
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        # One condition a class, on the one lock: a freed slot wakes one request of the class
        # it goes to, not every thread in every line (each woken thread takes the GIL, which
        # the acceptor refusing a surge also needs).
        self._lines = {c: threading.Condition(self._lock) for c in PRIORITY}
        self.running = dict.fromkeys(PRIORITY, 0)
        self.waiting = dict.fromkeys(PRIORITY, 0)
        self.pending = dict.fromkeys(PRIORITY, 0)  # let through by screen, not yet entered
        self.refused = dict.fromkeys(PRIORITY, 0)
        self.slot_seconds = 0.0  # mean time a code or door request holds a slot; 0 until one has
        self._logged_at = clock()

    def _above(self, klass: str) -> tuple:
        return PRIORITY[: PRIORITY.index(klass)]

    def _expected_wait(self, klass: str, waiting: dict) -> float:
        ahead = sum(waiting[c] for c in PRIORITY[: PRIORITY.index(klass) + 1])
        return (ahead + 1) * self.slot_seconds / self.limits.capacity

    def _may_run(self, klass: str) -> bool:
        if sum(self.running.values()) >= self.limits.capacity:
            return False
        if self.running[klass] >= self.limits.running[klass]:
            return False
        # A free slot goes to the highest class waiting for it.
        return not any(self.waiting[higher] for higher in self._above(klass))

    def _otherwise_idle(self) -> bool:
        """Nothing but extras running, waiting or on the way: an extra may wait its turn."""
        busy = (self.running, self.waiting, self.pending)
        return not any(counts[c] for counts in busy for c in PRIORITY if c != EXTRA)

    def _may_wait(self, klass: str, waiting: dict, left: float) -> bool:
        if left <= 0 or waiting[klass] >= self.limits.queue[klass]:
            return False
        if klass == EXTRA and not self._otherwise_idle():
            return False
        return self._expected_wait(klass, waiting) <= left

    def enter(self, klass: str, *, queued: float = 0.0) -> bool:
        with self._lock:
            if self._may_run(klass):
                self.running[klass] += 1
                return True
            left = self.limits.wait[klass] - queued
            if not self._may_wait(klass, self.waiting, left):
                return self._refuse(klass)
            deadline = self.clock() + left
            self.waiting[klass] += 1
            if klass != EXTRA and self.waiting[EXTRA]:
                self._lines[EXTRA].notify_all()  # an extra in line gives up its place (below)
            try:
                while True:
                    remaining = deadline - self.clock()
                    if remaining <= 0:
                        return self._refuse(klass)
                    self._lines[klass].wait(remaining)
                    if self._may_run(klass):
                        self.running[klass] += 1
                        return True
                    if klass == EXTRA and any(self.waiting[c] for c in self._above(EXTRA)):
                        return self._refuse(klass)  # no longer idle: the thread is wanted
            finally:
                self.waiting[klass] -= 1
                # Our leaving the line (or taking a slot with more free) may let the next run.
                self._wake()

    def screen(self, klass: str) -> bool:
        """Before a pool thread reads the request: would it find a slot or a place in line?
        Requests let through and not yet ``arrived`` count as running (as many as there are
        free slots) and the rest as waiting. False is a refusal, counted like one; True makes
        the request pending until the caller says ``arrived``."""
        with self._lock:
            free = self.limits.capacity - sum(self.running.values())
            pending_total = sum(self.pending.values())
            if (
                pending_total < free
                and self.running[klass] + self.pending[klass] < self.limits.running[klass]
                and not any(self.waiting[higher] for higher in self._above(klass))
            ):
                self.pending[klass] += 1
                return True
            # Pending requests beyond the free slots will be in line by the time this one is.
            # Which of them is not known (a thread takes them first come); counting the highest
            # classes' as the ones in line errs towards refusing the lower classes.
            overflow = max(0, pending_total - max(0, free))
            waiting = dict(self.waiting)
            for c in PRIORITY:
                moved = min(overflow, self.pending[c])
                waiting[c] += moved
                overflow -= moved
            if not self._may_wait(klass, waiting, self.limits.wait[klass]):
                return self._refuse(klass)
            self.pending[klass] += 1
            return True

    def arrived(self, klass: str) -> None:
        """A request ``screen`` let through has reached a thread (and goes on to ``enter``)."""
        with self._lock:
            self.pending[klass] -= 1

    def leave(self, klass: str, seconds: float) -> None:
        with self._lock:
            self.running[klass] -= 1
            if klass in TIMED:
                self.slot_seconds += self.SMOOTHING * (seconds - self.slot_seconds)
            self._wake()

    def _wake(self) -> None:
        # A free slot goes to the highest class waiting (``_may_run``): wake one of that class
        # if it may run now. Lower classes cannot run while it waits; when it stops waiting,
        # its ``finally`` wakes the next.
        for klass in PRIORITY:
            if self.waiting[klass]:
                if self._may_run(klass):
                    self._lines[klass].notify()
                return

    def _refuse(self, klass: str) -> bool:
        # Counted, and logged as counts every LOG_EVERY_SECONDS at most: a surge refuses
        # thousands a second and a line each would be a load of its own.
        self.refused[klass] += 1
        now = self.clock()
        if now - self._logged_at >= self.LOG_EVERY_SECONDS:
            logger.warning(
                "admission: refused %s in the last %.0f s (running %s)",
                dict(self.refused),
                now - self._logged_at,
                dict(self.running),
            )
            self.refused = dict.fromkeys(PRIORITY, 0)
            self._logged_at = now
        return False


_gate: Gate | None = None
_gate_lock = threading.Lock()


def current_gate() -> Gate:
    """The process's gate, built from settings on first use (and again after a test changes
    an ADMISSION_* setting)."""
    global _gate
    if _gate is None:
        with _gate_lock:
            if _gate is None:
                _gate = Gate(Limits.from_settings())
    return _gate


@receiver(setting_changed)
def _reset_gate(*, setting, **kwargs):
    global _gate
    if setting.startswith("ADMISSION_"):
        _gate = None
    _raw_parts.cache_clear()
    _outer_middleware.cache_clear()


def screening() -> bool:
    """Whether config.gunicorn_worker's acceptor refuses early (``Gate.screen``)."""
    return settings.ADMISSION_ENABLED and settings.ADMISSION_EARLY_REFUSAL


# --- The queue stamp ---------------------------------------------------------------------
# config.gunicorn_worker sets, in the thread that handles a request, how long the request
# waited in gunicorn's thread-pool queue; without it (sync workers, tests) it is 0.
_stamp = threading.local()


def set_queued(seconds: float) -> None:
    _stamp.queued = seconds


def queued() -> float:
    return getattr(_stamp, "queued", 0.0)


# --- Refusals ----------------------------------------------------------------------------
def refusal(request, klass: str) -> HttpResponse:
    """503 with Retry-After: the API's JSON error under /api/, a Chinese page elsewhere."""
    retry_after = current_gate().limits.retry_after[klass]
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"detail": _busy_message(retry_after), "code": "overloaded"},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        reload = klass in (CODE, DOOR) and request.method == "GET"  # the code page reloads itself
        body = _busy_page(translation.get_language(), retry_after, reload)
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    # Django logs every 5xx answer as an error, a line per refusal under a surge; the gate
    # logs refusals as counts instead (Gate._refuse). This is the flag Django's own
    # django.utils.log.log_response sets to skip a response it has logged.
    response._has_been_logged = True
    return response


def raw_refusal(method: str, path: str, klass: str, *, keep_alive: bool = False) -> bytes:
    """The whole HTTP/1.1 response ``refusal`` gives the same request, as bytes, for
    config.gunicorn_worker's acceptor to write before any thread or Django reads the request:
    the same status, body and headers (Retry-After, Content-Security-Policy, no-store...), plus
    Date, Content-Length and, unless the connection is kept for the next request
    (``keep_alive``), ``Connection: close``. Built once per kind of refusal and process; only
    the date changes."""
    api = path.startswith("/api/")
    reload = not api and klass in (CODE, DOOR) and method == "GET"
    retry_after = current_gate().limits.retry_after[klass]
    head, body = _raw_parts(api, reload, klass, retry_after)
    connection = b"" if keep_alive else b"Connection: close\r\n"
    return head + connection + _date_line() + (b"" if method == "HEAD" else body)


_date = (0, b"")


def _date_line() -> bytes:
    # The Date header changes once a second; formatting it was an eighth of a refusal's cost.
    global _date
    second = int(time.time())
    if _date[0] != second:
        _date = (second, b"Date: " + formatdate(second, usegmt=True).encode() + b"\r\n\r\n")
    return _date[1]


@lru_cache(maxsize=32)
def _raw_parts(api: bool, reload: bool, klass: str, retry_after: int) -> tuple[bytes, bytes]:
    # A refusal as the middleware gives it, passed through the middleware before the gate
    # (security headers, CSP, no-store), for a request that stands for every one of its kind.
    environ = {
        "REQUEST_METHOD": "GET" if reload else "POST",
        "PATH_INFO": "/api/v1/" if api else "/code/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "443",
        "wsgi.url_scheme": "https",  # what the proxy in front terminates (HSTS as on any page)
        "wsgi.input": io.BytesIO(b""),
    }
    with translation.override(settings.LANGUAGE_CODE):
        response = _outer_middleware()(WSGIRequest(environ), klass)
    status = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
    headers = [(k, v) for k, v in response.items() if k.lower() != "content-length"]
    headers += [("Content-Length", str(len(response.content)))]
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (status + lines).encode("latin-1"), response.content


@lru_cache(maxsize=1)
def _outer_middleware():
    """settings.MIDDLEWARE up to this gate, around ``refusal``: (request, klass) -> response."""
    klass_of = threading.local()

    def refuse(request):
        return refusal(request, klass_of.klass)

    handler = refuse
    names = settings.MIDDLEWARE
    for name in reversed(names[: names.index(f"{__name__}.AdmissionMiddleware")]):
        handler = import_string(name)(handler)

    def call(request, klass):
        klass_of.klass = klass
        return handler(request)

    return call


def warm() -> None:
    """Build every refusal once (config.gunicorn_worker calls it as a process starts), so the
    first refusals of a surge cost no template render in the acceptor."""
    for klass in PRIORITY:
        for method, path in (("GET", "/code/"), ("POST", "/code/"), ("GET", "/api/v1/")):
            raw_refusal(method, path, klass)


def _busy_message(retry_after: int) -> str:
    return _("当前访问人数过多，请 %(n)s 秒后重试。") % {"n": retry_after}


@lru_cache(maxsize=32)
def _busy_page(language: str, retry_after: int, reload: bool) -> bytes:
    # Rendered once per process and language, without the request: a refusal must not cost
    # a template render (or a session read for the page's header) under a surge.
    with translation.override(language):
        return loader.render_to_string(
            "503.html",
            {"detail": _busy_message(retry_after), "retry_after": retry_after, "reload": reload},
        ).encode()


class AdmissionMiddleware:
    """Admits or refuses each request by its class (see the module docstring). Placed before
    the session, authentication and every view, so a refused request reads and writes
    nothing."""

    def __init__(self, get_response):
        if not settings.ADMISSION_ENABLED:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        klass = classify(request.path_info)
        if klass == EXEMPT:
            return self.get_response(request)
        gate = current_gate()
        if not gate.enter(klass, queued=queued()):
            return refusal(request, klass)
        started = time.monotonic()
        try:
            return self.get_response(request)
        finally:
            # The slot covers the whole work: exports and posters are built in their views,
            # not streamed (only an appeal's photo is, a file read, in the normal class).
            gate.leave(klass, time.monotonic() - started)
