"""Load benchmark: the door's scan paths against a bare Django JSON endpoint and the floor.

A bounded wrk run on loopback against gunicorn on PostgreSQL (and Redis, the cache, when
--redis names it), every endpoint in the same run, so the ratios hold on a shared machine:

- bare: ``GET /healthz``, which touches nothing (run first and last, averaged);
- floor: ``POST /bench/floor``, the least any recorded scan must do — plain Django, one
  indexed SELECT and one INSERT in a transaction (bench/urls.py; only in the bench's URLconf,
  selected by DJANGO_SETTINGS_MODULE=bench.settings; run second and second to last, averaged);
- checkin: a resident's ``POST /v/<code>`` (session cookie and CSRF, as a phone sends it);
- device: ``POST /api/v1/devices/verify`` with a health-code token (records a check-in);
- inspect: the inspector's ``POST /api/v1/inspect/verify`` (session, records the lookup);
- code: ``GET /api/v1/me/code``, the code page's QR refresh (session, issues a token).

Also times the poster PDF.

    .venv/bin/python bench/checkin_load.py [--seconds 10] [--connections 16] [--workers 3] \\
        [--db healthcode_bench_load] [--redis redis://127.0.0.1:6379/N] [--people 20000] \\
        [--lock /tmp/bench.lock]

Needs PostgreSQL on 127.0.0.1:5432 and Debian's wrk; drops and creates its own database (and
empties the Redis database it is given).
"""

import argparse
import base64
import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "healthcode_bench_load"
PG = "postgres://postgres@127.0.0.1:5432"
PORT = 8123
ENV = {
    "DATABASE_URL": f"{PG}/{DB}",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "LOG_LEVEL": "WARNING",
    "HEALTHCODE_TOKEN_TTL_SECONDS": "3600",  # tokens made before the run must outlive it
    "HEALTHCODE_TOKEN_REFRESH_SECONDS": "60",
    # Each person's session and account are cached at fill time, as the page each scan
    # follows (the poster page's GET before its POST, the code page before its refresh)
    # leaves them in production seconds before; those copies must outlive the run.
    "SESSION_CACHE_SECONDS": "3600",
    "DOOR_ROW_CACHE_SECONDS": "3600",
    "HEALTHCODE_ASSERTION_KEY": base64.b64encode(os.urandom(32)).decode(),  # this run's own
    "DJANGO_SETTINGS_MODULE": "bench.settings",  # production's, plus the floor's route
    # This bench measures what each path costs at full load, not shedding (bench/surge.py
    # measures that, with admission on and off): nothing is refused.
    "ADMISSION_ENABLED": "0",
}
PEOPLE = 20_000

LUA = r"""
-- The check-in and device modes take their own half of the people and each thread its own
-- stride through it, so no person is scanned twice in a run (a repeat within 10 minutes
-- records nothing); the others (which record no check-in) take everyone.
local mode = "%(mode)s"
local items = {}
local n = 0
for line in io.lines("%(data)s") do
  n = n + 1
  local half = (mode == "device") == (n %% 2 == 0)
  if half or (mode ~= "device" and mode ~= "checkin") then
    local a, b, c, d = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)")
    items[#items + 1] = {a, b, c, d}
  end
end
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local counter = 0
request = function()
  counter = counter + 1
  local index = (counter * 2 + wrk.thread:get("id")) %% #items + 1
  local item = items[index]
  if mode == "bare" then
    return wrk.format("GET", "/healthz")
  elseif mode == "floor" then
    return wrk.format("POST", "/bench/floor", {["Content-Type"] = "text/plain"}, item[4])
  elseif mode == "inspect" then
    return wrk.format("POST", "/api/v1/inspect/verify",
      {["Cookie"] = "sessionid=%(inspector_session)s; csrftoken=%(inspector_csrf)s",
       ["X-CSRFToken"] = "%(inspector_csrf)s", ["Content-Type"] = "application/json"},
      '{"venue": %(venue_id)s, "code": "' .. item[1] .. '"}')
  elseif mode == "code" then
    return wrk.format("GET", "/api/v1/me/code", {["Cookie"] = "sessionid=" .. item[2]})
  elseif mode == "device" then
    return wrk.format("POST", "/api/v1/devices/verify",
      {["Authorization"] = "Bearer %(device_key)s", ["Content-Type"] = "application/json"},
      '{"code": "' .. item[1] .. '"}')
  else
    return wrk.format("POST", "/v/%(venue_code)s",
      {["Cookie"] = "sessionid=" .. item[2] .. "; csrftoken=" .. item[3],
       ["X-CSRFToken"] = item[3], ["Content-Type"] = "application/x-www-form-urlencoded"}, "")
  end
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %%d, "seconds": %%.3f, "errors": %%d, ' ..
    '"p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f}\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def _session(user) -> str:
    """A logged-in session for ``user`` in the configured session store; its key."""
    from importlib import import_module

    from django.conf import settings

    from healthcode.usercache import CachedModelBackend

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "healthcode.usercache.CachedModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()  # kept in the cache too (healthcode.sessions)
    CachedModelBackend().get_user(user.pk)  # the account's copy (healthcode.usercache)
    return session.session_key


def setup_data(data_file: Path, people: int) -> dict:
    """People with a green code and a recent negative test, each logged in; a venue; a
    device; an inspector of the venue. Writes one line per person: token, session key, CSRF
    token, public id. Returns what the wrk script needs besides."""
    from django.db import connection
    from django.utils import timezone

    from bench.ingest_recompute import identities, load_residents
    from bench.urls import FLOOR_TABLE
    from checkins.models import Device
    from healthcode import tokens
    from healthcode.models import HealthOfficer, Resident, User
    from nucleic.models import Lab, LabToken, TestPolicy
    from nucleic.services import results_ingest
    from venues import codes, services
    from venues.models import VenueInspector

    now = timezone.now()
    TestPolicy.objects.create(
        group="general", window_hours=72, effective_from=now - dt.timedelta(days=365)
    )
    load_residents(people, now)
    token, _ = LabToken.issue(lab=Lab.objects.create(name="bench", region_code="330106"))
    identity_list = list(identities(people))
    for start in range(0, people, 10_000):
        results_ingest(
            token=token,
            content_type="bench",
            records=[
                {
                    "barcode": f"L{i:08d}",
                    "id_number": number,
                    "name": "张三",
                    "sampled_at": (now - dt.timedelta(hours=20)).isoformat(),
                    "reported_at": (now - dt.timedelta(hours=8)).isoformat(),
                    "result": "negative",
                }
                for i, (number, _p) in enumerate(identity_list[start : start + 10_000], start)
            ],
        )
    from healthcode.services import healthcode_recompute_many

    ids = list(Resident.objects.values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        healthcode_recompute_many(resident_ids=ids[start : start + 500], cause="bench")
    admin = User.objects.create_user(phone="19900000000", password="x")
    venue = services.venue_register(
        administrator=admin,
        full_name="压测场所",
        region_code="330106",
        address="bench",
        category="supermarket",
        credit_code="91330106MA28XY0A1T",
    )
    # Only an approved venue's poster, devices and inspectors work.
    officer_user = User.objects.create_user(phone="19900000001", password="x")
    officer = HealthOfficer.objects.create(user=officer_user, region_codes=["330106"])
    venue = services.venue_approve(venue=venue, officer=officer)
    _device, device_key = Device.create_with_key(venue=venue, name="bench")
    inspector = User.objects.create_user(phone="19900000002", password="x")
    VenueInspector.objects.create(venue=venue, user=inspector)
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE)
    lines = []
    for resident in Resident.objects.select_related("user").exclude(user=None):  # log-ins only
        token = tokens.issue_for(resident.health_code, now=now).token
        session_key = _session(resident.user)
        lines.append(f"{token}\t{session_key}\t{secrets.token_hex(16)}\t{resident.public_id}")
    data_file.write_text("\n".join(lines) + "\n")
    return {
        "device_key": device_key,
        "venue_code": codes.make(public_id=venue.public_id, version=venue.poster_version),
        "venue_id": venue.pk,
        "inspector_session": _session(inspector),
        "inspector_csrf": secrets.token_hex(16),
    }


def prepare(db: str, people: int, env: dict) -> tuple[Path, dict]:
    """A fresh database ``db`` with ``people`` (``setup_data``), the static files' manifest
    (with DEBUG off pages name their static files through it, as in production) and Django set
    up in this process with ``env``: the people's file and what the requests need besides."""
    os.environ.update(env)
    from bench.ingest_recompute import fresh_database

    fresh_database(db, env)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        check=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    import django

    django.setup()
    data = Path(tempfile.mkdtemp()) / "people.tsv"
    return data, setup_data(data, people)


def wrk(mode: str, *, seconds: int, connections: int, data: Path, fill: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"data": data, "mode": mode, **fill})
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",  # a slow answer is measured, not dropped as an error
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(re.findall(r"^\{.*\}$", out, re.M)[-1])
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def poster_ms() -> float:
    from venues.models import Venue
    from venues.posters import poster_pdf

    venue = Venue.objects.get()
    poster_pdf(venue, "http://127.0.0.1/v/warm-up")
    started = time.perf_counter()
    for _ in range(50):
        poster_pdf(venue, "http://127.0.0.1:8000/v/" + "x" * 90)
    return (time.perf_counter() - started) / 50 * 1000


def profile(data: Path, fill: dict, *, count: int, top: int) -> None:
    """Each path ``count`` times in this process through Django's test client (the same WSGI
    handler and middleware as gunicorn's, no network), under cProfile: mean time, the SQL
    each request sends, and where the time goes (cumulative, the first ``top`` lines)."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client

    rows = [line.split("\t") for line in data.read_text().splitlines()]
    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")

    def request(mode: str, row: list[str]):
        if mode == "bare":
            return client.get("/healthz")
        if mode == "floor":
            return client.post("/bench/floor", row[3], content_type="text/plain")
        if mode == "checkin":
            client.cookies.load({"sessionid": row[1], "csrftoken": row[2]})
            return client.post(f"/v/{fill['venue_code']}", HTTP_X_CSRFTOKEN=row[2])
        if mode == "device":
            return client.post(
                "/api/v1/devices/verify",
                {"code": row[0]},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {fill['device_key']}",
            )
        if mode == "inspect":
            csrf = fill["inspector_csrf"]
            client.cookies.load({"sessionid": fill["inspector_session"], "csrftoken": csrf})
            return client.post(
                "/api/v1/inspect/verify",
                {"venue": fill["venue_id"], "code": row[0]},
                content_type="application/json",
                HTTP_X_CSRFTOKEN=csrf,
            )
        client.cookies.load({"sessionid": row[1]})
        return client.get("/api/v1/me/code")

    people = iter(rows)
    for mode in ("bare", "floor") + PATHS:
        request(mode, next(people))  # warm: imports, connections, caches
        batch = [next(people) for _ in range(count)]
        queries = []

        def keep(execute, sql, params, many, context, queries=queries):
            queries.append({"sql": sql})
            return execute(sql, params, many, context)

        with connection.execute_wrapper(keep):
            answer = request(mode, batch[0])
        assert answer.status_code < 400, (mode, answer.status_code, answer.content[:300])
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for row in batch:
            request(mode, row)
        profiler.disable()
        mean_ms = (time.perf_counter() - started) / count * 1000
        print(f"=== {mode}: {mean_ms:.2f} ms a request in-process, {len(queries)} queries")
        for query in queries:
            print("   ", query["sql"][:160])
        stats = pstats.Stats(profiler)
        calls = sum(entry[1] for entry in stats.stats.values())  # primitive and recursive
        redis = sum(entry[1] for key, entry in stats.stats.items() if key[2] == "execute_command")
        print(f"    {calls / count:,.0f} function calls a request (the same on a busy machine)")
        print(f"    {redis / count:.1f} Redis commands a request")
        for part, share in _shares(stats):
            print(f"    {share:5.1%}  {part}")
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats("cumulative").print_stats(top)
        print(out.getvalue())


# Where a request's own time (cProfile's tottime) goes, by the code it is spent in: the first
# part whose marker is in the function's file (or name, for C functions) takes it.
PARTS = (
    ("SQL on the wire (psycopg2 execute, commit)", ("psycopg2", "'commit'", "'rollback'")),
    # The socket calls are Redis's: psycopg2 talks to PostgreSQL inside its C execute.
    ("Redis (session, account, rows)", ("redis/", "django/core/cache", "_socket.socket")),
    ("ORM: building and compiling statements", ("django/db/models",)),
    ("database layer (cursors, transactions)", ("django/db/",)),
    ("DRF (parsers, authentication, serializers)", ("rest_framework",)),
    ("templates", ("django/template",)),
    ("sessions, auth, CSRF", ("django/contrib/sessions", "django/contrib/auth", "csrf")),
    ("signing (tokens: HMAC, Ed25519)", ("cryptography", "hmac", "hashlib", "signing")),
    (
        "the project's own code",
        tuple(f"{ROOT}/{app}/" for app in ("healthcode", "checkins", "venues", "audit", "config")),
    ),
    ("Django request handling and middleware", ("django/",)),
    ("other (stdlib, C builtins)", ("",)),
)


def _shares(stats) -> list[tuple[str, float]]:
    total = sum(entry[2] for entry in stats.stats.values()) or 1.0
    spent = dict.fromkeys([name for name, _ in PARTS], 0.0)
    for (filename, _line, function), entry in stats.stats.items():
        where = f"{filename} {function!r}"
        name = next(n for n, markers in PARTS if any(m in where for m in markers))
        spent[name] += entry[2]
    return [(name, t / total) for name, t in spent.items() if t]


# The order of the runs: bare and floor open and close it (each averaged), so a drift of the
# shared machine during the run shows as a gap between their two runs.
MODES = ("bare", "floor", "checkin", "device", "inspect", "code", "floor", "bare")
PATHS = ("checkin", "device", "inspect", "code")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--db", default=DB, help="PostgreSQL database (dropped and created)")
    parser.add_argument("--redis", default="", help="Redis URL for the cache (emptied)")
    parser.add_argument("--people", type=int, default=PEOPLE)
    parser.add_argument("--poster", action="store_true", help="also time the poster PDF")
    parser.add_argument(
        "--profile", type=int, default=0, help="instead of wrk: each path N times under cProfile"
    )
    parser.add_argument("--top", type=int, default=45, help="profile lines shown per path")
    parser.add_argument(
        "--lock",
        default="",
        help="a file to flock(1)-lock for the timed part only (gunicorn and wrk), so that the "
        "set-up does not hold a lock other benchmarks wait on",
    )
    args = parser.parse_args()
    ENV["DATABASE_URL"] = f"{PG}/{args.db}"
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        ENV["REDIS_URL"] = args.redis
    data, fill = prepare(args.db, args.people, ENV)
    if args.profile:
        return profile(data, fill, count=args.profile, top=args.top)
    if args.lock:
        import fcntl

        lock = open(args.lock, "a")  # held until this process ends
        fcntl.flock(lock, fcntl.LOCK_EX)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
        # gunicorn.conf.py's access log (a line a request, as in production) goes nowhere.
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        for mode in MODES:
            results.setdefault(mode, []).append(
                wrk(mode, seconds=args.seconds, connections=args.connections, data=data, fill=fill)
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    from django.db.models import Count

    from checkins.models import CheckIn

    def mean(mode):
        return {k: round(sum(r[k] for r in results[mode]) / 2, 2) for k in ("rps", "p99_ms")}

    bare, floor = mean("bare"), mean("floor")
    table = {
        "bare": {**bare, "runs": results["bare"]},
        "floor": {
            **floor,
            "rps_vs_bare": round(floor["rps"] / bare["rps"], 3),
            "p99_vs_bare": round(floor["p99_ms"] / bare["p99_ms"], 2),
            "runs": results["floor"],
        },
    }
    for mode in PATHS:
        run = results[mode][0]
        table[mode] = {
            "rps": run["rps"],
            "p99_ms": run["p99_ms"],
            "rps_vs_bare": round(run["rps"] / bare["rps"], 3),
            "rps_vs_floor": round(run["rps"] / floor["rps"], 3),
            "p99_vs_bare": round(run["p99_ms"] / bare["p99_ms"], 2),
            "run": run,
        }
    summary = {
        "paths": table,
        "load_average": os.getloadavg(),
        # Proof the load did the work: check-ins recorded by each path (repeat scans of one
        # person within 10 minutes return the first check-in and record nothing).
        "checkins_recorded": dict(
            CheckIn.objects.values_list("method").annotate(n=Count("id")).order_by()
        ),
    }
    if args.poster:
        summary["poster_pdf_ms"] = round(poster_ms(), 2)
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
