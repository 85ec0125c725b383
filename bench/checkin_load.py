"""Load benchmark: check-in POST and device verify against a bare Django JSON endpoint.

A bounded wrk run on loopback against gunicorn on PostgreSQL, all three endpoints in the same
run, so the ratios hold on a shared machine. Also times the poster PDF.

    .venv/bin/python bench/checkin_load.py [--seconds 10] [--connections 16] [--workers 3]

Needs PostgreSQL on 127.0.0.1:5432 and Debian's wrk; creates its own database.
"""

import argparse
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
}
PEOPLE = 20_000

LUA = r"""
-- Each mode takes its own half of the people and each thread its own stride through it, so
-- no person is scanned twice in a run (a repeat within 10 minutes records nothing).
local mode = "%(mode)s"
local items = {}
local n = 0
for line in io.lines("%(data)s") do
  n = n + 1
  if (mode == "device") == (n %% 2 == 0) then
    local a, b, c = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)")
    items[#items + 1] = {a, b, c}
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


def setup_data(data_file: Path) -> tuple[str, str]:
    """People with a green code and a recent negative test, each logged in; a venue; a
    device. Writes one line per person: token, session key, CSRF token."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from bench.ingest_recompute import identities, load_residents
    from checkins.models import Device
    from healthcode import tokens
    from healthcode.models import HealthOfficer, Resident, User
    from nucleic.models import Lab, LabToken, TestPolicy
    from nucleic.services import results_ingest
    from venues import codes, services

    now = timezone.now()
    TestPolicy.objects.create(
        group="general", window_hours=72, effective_from=now - dt.timedelta(days=365)
    )
    load_residents(PEOPLE, now)
    token, _ = LabToken.issue(lab=Lab.objects.create(name="bench", region_code="330106"))
    people = list(identities(PEOPLE))
    for start in range(0, PEOPLE, 10_000):
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
                for i, (number, _p) in enumerate(people[start : start + 10_000], start)
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
    lines = []
    for resident in Resident.objects.select_related("user").exclude(user=None):  # log-ins only
        session = SessionStore()
        session["_auth_user_id"] = str(resident.user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = resident.user.get_session_auth_hash()
        session.create()
        token = tokens.issue_for(resident.health_code, now=now).token
        lines.append(f"{token}\t{session.session_key}\t{secrets.token_hex(16)}")
    data_file.write_text("\n".join(lines) + "\n")
    return device_key, codes.make(public_id=venue.public_id, version=venue.poster_version)


def wrk(
    mode: str, *, seconds: int, connections: int, data: Path, device_key: str, venue_code: str
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            LUA % {"data": data, "mode": mode, "device_key": device_key, "venue_code": venue_code}
        )
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from bench.ingest_recompute import fresh_database

    fresh_database(DB, ENV)
    import django

    django.setup()
    data = Path(tempfile.mkdtemp()) / "people.tsv"
    device_key, venue_code = setup_data(data)
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
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        for mode in ("bare", "device", "checkin", "bare"):  # bare twice: start and end
            results.setdefault(mode, []).append(
                wrk(
                    mode,
                    seconds=args.seconds,
                    connections=args.connections,
                    data=data,
                    device_key=device_key,
                    venue_code=venue_code,
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    from django.db.models import Count

    from checkins.models import CheckIn

    bare = {k: round(sum(r[k] for r in results["bare"]) / 2, 2) for k in ("rps", "p99_ms")}
    summary = {
        "bare": results["bare"],
        "device": results["device"][0],
        "checkin": results["checkin"][0],
        "device_vs_bare_rps": round(results["device"][0]["rps"] / bare["rps"], 3),
        "checkin_vs_bare_rps": round(results["checkin"][0]["rps"] / bare["rps"], 3),
        "device_p99_vs_bare": round(results["device"][0]["p99_ms"] / bare["p99_ms"], 2),
        "checkin_p99_vs_bare": round(results["checkin"][0]["p99_ms"] / bare["p99_ms"], 2),
        "poster_pdf_ms": round(poster_ms(), 2),
        # Proof the load did the work: check-ins recorded by each path (repeat scans of one
        # person within 10 minutes return the first check-in and record nothing).
        "checkins_recorded": dict(
            CheckIn.objects.values_list("method").annotate(n=Count("id")).order_by()
        ),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
