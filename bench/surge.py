"""Surge benchmark: find the sustainable rate of a realistic mix, then drive 3x it.

An open-loop load generator (asyncio, HTTP/1.1 keep-alive on loopback): requests are sent on
a fixed schedule whatever the answers, and each one's time is counted from when it was due,
so a slow server cannot slow the load down (wrk without -R is closed-loop and would). Against
gunicorn with gunicorn.conf.py (gthread, the queue stamp) on PostgreSQL:

1. a ramp of rates, each for --step seconds, up to the first rate that is not sustained (fewer
   than 99 % of code and door requests answered successfully, or code display p99 over 1 s);
   the last
   sustained rate is R, the highest goodput seen in the ramp is the maximum;
2. 3R for --seconds with admission control on, then (unless --no-baseline) 3R again with
   ADMISSION_ENABLED=0, the same server otherwise, as the baseline of the same run.

Reports per run: goodput (successful answers a second) against the maximum, refusals (503
with Retry-After) per class, how many the acceptor wrote (no gunicorn Server header, see
config/gunicorn_worker.py) and their p50/p99, code display errors (code refresh and the code
page: anything but 200, refusals included), timeouts (no answer within --timeout) and other
errors, and p50/p99 of the door requests. Last, the issue's figures as a Markdown table
(admission on, and off as the baseline) for docs/benchmarks.md.

    flock /tmp/bench.lock .venv/bin/python bench/surge.py [--seconds 20] [--workers 3]

``--rate R`` skips the ramp (R given, the maximum measured as one step at R); ``--db`` and
``--port`` keep two runs apart. ADMISSION_* and GUNICORN_* variables in the environment reach
the server (with ADMISSION_ENABLED set by each run).

Needs PostgreSQL on 127.0.0.1:5432; creates its own database (hc_surge_bench). The people,
sessions, venue and device come from bench/checkin_load.py's setup.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import checkin_load  # noqa: E402

DB = "hc_surge_bench"
PORT = 8124
ENV = {
    **checkin_load.ENV,
    "DATABASE_URL": f"{checkin_load.PG}/{DB}",
    # With DEBUG off the code tokens' assertion key must be set (the Makefile's test key).
    "HEALTHCODE_ASSERTION_KEY": "8mgo8cop0ZYJg9/p76eaIT0RWSI2Yy4T4cI4LI+P/DU=",
}

# The mix, in parts of 100: mostly codes shown and scanned, a few officers' and venues' extras.
MIX = {
    "code_refresh": 35,  # GET /api/v1/me/code: the code page's QR refresh
    "code_page": 5,  # GET /code/
    "checkin": 20,  # POST /v/<code>: a resident scans a venue's poster
    "device_verify": 20,  # POST /api/v1/devices/verify: a gate scans a resident's code
    "record_page": 6,  # GET /me/record/: a resident's history (extra)
    "csv_export": 3,  # GET /venue/checkins.csv: today's check-ins (extra)
    "poster_png": 3,  # GET /venue/poster.png (extra)
    "workbench": 3,  # GET /officer/: the officers' plots (extra)
    "healthz": 5,  # the load balancer's health check, never shed
}
CLASS = {
    "code_refresh": "code",
    "code_page": "code",
    "checkin": "door",
    "device_verify": "door",
    "record_page": "extra",
    "csv_export": "extra",
    "poster_png": "extra",
    "workbench": "extra",
    "healthz": "exempt",
}
CODE_DISPLAY = ("code_refresh", "code_page")
# A kept-alive connection idle longer than this is not reused: gunicorn closes it after its
# keepalive (2 s), and a request sent as it closes would fail for the client's sake alone.
KEEPALIVE_REUSE_SECONDS = 1.0


class Load:
    """The people and keys the requests carry, and the request bytes for each kind."""

    def __init__(self, data: Path, device_key: str, venue_code: str, admin: str, officer: str):
        self.people = [line.split("\t") for line in data.read_text().splitlines() if line]
        self.device_key, self.venue_code = device_key, venue_code
        self.admin, self.officer = admin, officer
        self.schedule = [kind for kind, parts in MIX.items() for _ in range(parts)]
        # Spread the kinds through the cycle instead of 35 code refreshes in a row.
        self.schedule = [self.schedule[(i * 37) % 100] for i in range(100)]
        self.next_person = 0

    def request(self, i: int) -> tuple[str, bytes]:
        kind = self.schedule[i % 100]
        token, session, csrf, _public_id = self.people[self.next_person % len(self.people)]
        self.next_person += 1
        cookie = f"sessionid={session}"
        if kind == "code_refresh":
            return kind, get("/api/v1/me/code", cookie)
        if kind == "code_page":
            return kind, get("/code/", cookie)
        if kind == "record_page":
            return kind, get("/me/record/", cookie)
        if kind == "csv_export":
            return kind, get("/venue/checkins.csv", f"sessionid={self.admin}")
        if kind == "poster_png":
            return kind, get("/venue/poster.png", f"sessionid={self.admin}")
        if kind == "workbench":
            return kind, get("/officer/", f"sessionid={self.officer}")
        if kind == "healthz":
            return kind, get("/healthz", "")
        if kind == "checkin":
            headers = (
                f"Cookie: {cookie}; csrftoken={csrf}\r\nX-CSRFToken: {csrf}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
            )
            return kind, post(f"/v/{self.venue_code}", headers, b"")
        body = json.dumps({"code": token}).encode()
        headers = f"Authorization: Bearer {self.device_key}\r\nContent-Type: application/json\r\n"
        return kind, post("/api/v1/devices/verify", headers, body)


def get(path: str, cookie: str) -> bytes:
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def post(path: str, headers: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(reader, writer, payload: bytes) -> tuple[int | str, bool]:
    """Send one request, read its answer; returns the status and whether to keep the
    connection. A 503 without gunicorn's Server header was written by the acceptor
    (config/gunicorn_worker.py), before any thread: its status is "503-early"."""
    writer.write(payload)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.read()
        return status, False
    if status == 503 and "server" not in headers:
        status = "503-early"
    return status, headers.get("connection") != "close"


class Generator:
    def __init__(self, load: Load, *, timeout: float, max_connections: int):
        self.load, self.timeout = load, timeout
        self.idle: list = []
        self.slots = asyncio.Semaphore(max_connections)

    async def one(self, kind: str, payload: bytes, due: float, results: list):
        loop = asyncio.get_running_loop()
        async with self.slots:
            # From here the request is the server's: what came before (the event loop late on
            # its schedule, a connection slot not free) is the generator's own lateness.
            started = loop.time()
            conn = None
            while self.idle and conn is None:
                conn, idle_since = self.idle.pop()
                if loop.time() - idle_since > KEEPALIVE_REUSE_SECONDS:
                    conn[1].close()  # gunicorn may be closing it (keepalive 2 s): not reused
                    conn = None
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", PORT)
                status, keep = await asyncio.wait_for(
                    exchange(*conn, payload), self.timeout - (loop.time() - due)
                )
                outcome = status
            except TimeoutError:
                outcome, keep = "timeout", False
            except (OSError, asyncio.IncompleteReadError, ValueError):
                outcome, keep = "error", False
            if conn is not None:
                if keep:
                    self.idle.append((conn, loop.time()))
                else:
                    conn[1].close()
        end = loop.time()
        results.append((kind, outcome, end - due, end - started, started - due))

    async def run(self, rate: float, seconds: float) -> dict:
        loop = asyncio.get_running_loop()
        results: list = []
        tasks = []
        start = loop.time() + 0.05
        n = int(rate * seconds)
        for i in range(n):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            kind, payload = self.load.request(i)
            tasks.append(asyncio.create_task(self.one(kind, payload, due, results)))
        await asyncio.gather(*tasks)
        return summarise(results, rate=rate, seconds=seconds)

    def close(self):
        while self.idle:
            self.idle.pop()[0][1].close()


def pct(values: list, p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p / 100))] * 1000, 1)


def summarise(results: list, *, rate: float, seconds: float) -> dict:
    ok = [r for r in results if isinstance(r[1], int) and r[1] < 400]
    refused = [r for r in results if r[1] in (429, 503, "503-early")]
    timeouts = [r for r in results if r[1] == "timeout"]
    errors = [r for r in results if r not in ok and r not in refused and r not in timeouts]
    code = [r for r in results if r[0] in CODE_DISPLAY]
    code_bad = [r for r in code if r[1] != 200]
    door_ok = [r[2] for r in ok if CLASS[r[0]] in ("code", "door")]
    door_all = [r for r in results if CLASS[r[0]] in ("code", "door")]
    return {
        "offered_rps": round(rate, 1),
        "requests": len(results),
        "goodput_rps": round(len(ok) / seconds, 1),
        "success_share": round(len(ok) / max(1, len(results)), 4),
        "door_success_share": round(len(door_ok) / max(1, len(door_all)), 4),
        "refused": len(refused),
        "refused_by_class": dict(Counter(CLASS[r[0]] for r in refused)),
        "refused_by_kind": dict(Counter(r[0] for r in refused)),
        "refused_early": sum(1 for r in refused if r[1] == "503-early"),
        "refusal_p50_ms": pct([r[2] for r in refused], 50),
        "refusal_p99_ms": pct([r[2] for r in refused], 99),
        # The same, counted from when the generator took the request up (its lateness left
        # out), and that lateness itself over every request.
        "refusal_server_p50_ms": pct([r[3] for r in refused], 50),
        "refusal_server_p99_ms": pct([r[3] for r in refused], 99),
        "refusal_late_p99_ms": pct([r[4] for r in refused], 99),
        "generator_late_p50_ms": pct([r[4] for r in results], 50),
        "generator_late_p99_ms": pct([r[4] for r in results], 99),
        "timeouts": len(timeouts),
        "errors": dict(Counter(f"{r[0]}:{r[1]}" for r in errors)),
        "code_display_error_rate": round(len(code_bad) / max(1, len(code)), 4),
        "door_ok_p50_ms": pct(door_ok, 50),
        "door_ok_p99_ms": pct(door_ok, 99),
        # Every door request, refusals and timeouts included (a timeout counts as the limit).
        "door_p99_ms": pct([r[2] for r in door_all], 99),
        "code_ok_p99_ms": pct([r[2] for r in ok if CLASS[r[0]] == "code"], 99),
        "served_by_kind": dict(Counter(r[0] for r in ok)),
    }


def table(out: dict) -> str:
    """The issue's figures as a Markdown table: admission on, and the baseline without it."""
    runs = [("admission on", out["surge"])]
    if "surge_without_admission" in out:
        runs.append(("admission off (baseline)", out["surge_without_admission"]))

    def ms(value):
        return "—" if value is None else f"{value:,.0f} ms"

    rows = [
        ("goodput / maximum (goal ≥ 0.8)", lambda r: f"{r['goodput_vs_max']:.2f}"),
        ("goodput", lambda r: f"{r['goodput_rps']:.1f}/s of {r['offered_rps']:.1f}/s offered"),
        (
            "refused (429/503 + Retry-After)",
            lambda r: (
                f"{r['refused']} ({r['refused_early']} by the acceptor)"
                + "".join(f", {k} {v}" for k, v in sorted(r["refused_by_class"].items()))
            ),
        ),
        (
            "refusal p50 / p99 (goal p99 < 50 ms)",
            lambda r: f"{ms(r['refusal_p50_ms'])} / {ms(r['refusal_p99_ms'])}",
        ),
        (
            "refusal p50 / p99 after the generator took it up",
            lambda r: f"{ms(r['refusal_server_p50_ms'])} / {ms(r['refusal_server_p99_ms'])}",
        ),
        (
            "generator late on its schedule p50 / p99",
            lambda r: f"{ms(r['generator_late_p50_ms'])} / {ms(r['generator_late_p99_ms'])}",
        ),
        ("timeouts (goal 0)", lambda r: str(r["timeouts"])),
        ("other errors", lambda r: str(sum(r["errors"].values()))),
        (
            "code display errors (goal < 1 %)",
            lambda r: f"{100 * r['code_display_error_rate']:.2f} %",
        ),
        (
            "successful code and door p50 / p99",
            lambda r: f"{ms(r['door_ok_p50_ms'])} / {ms(r['door_ok_p99_ms'])}",
        ),
        ("every code and door request p99", lambda r: ms(r["door_p99_ms"])),
    ]
    head = f"| at 3R = {out['surge']['offered_rps']}/s | " + " | ".join(n for n, _ in runs) + " |"
    lines = [
        f"R (sustained) = {out['sustainable_rps']}/s, maximum goodput = {out['max_goodput_rps']}/s",
        "",
        head,
        "|---|" + "---|" * len(runs),
    ]
    lines += [f"| {label} | " + " | ".join(cell(r) for _, r in runs) + " |" for label, cell in rows]
    return "\n".join(lines)


def sustained(run: dict) -> bool:
    # Judged on the code and door classes: a shed extra is the design working, not a limit.
    return run["door_success_share"] >= 0.99 and (run["code_ok_p99_ms"] or 0) <= 1000


def start_server(workers: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--access-logfile",
            "/dev/null",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        # The server at the niceness of PostgreSQL and Redis, whatever --nice gave the generator.
        preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, 0),
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=45)  # gunicorn's graceful timeout is 30 s
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def session_for(phone: str) -> str:
    from django.contrib.sessions.backends.db import SessionStore

    from healthcode.models import User

    user = User.objects.get(phone=phone)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "healthcode.usercache.CachedModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return session.session_key


async def measure(load: Load, args, env: dict) -> dict:
    out: dict = {"ramp": []}
    server = start_server(args.workers, {**env, "ADMISSION_ENABLED": "1"})
    try:
        generator = Generator(load, timeout=args.timeout, max_connections=args.connections)
        await generator.run(args.start_rate, 3)  # warm-up: connections, caches
        rate = args.start_rate
        while not args.rate:
            run = await generator.run(rate, args.step)
            out["ramp"].append(run)
            print(json.dumps(run, ensure_ascii=False), file=sys.stderr)
            if not sustained(run) or rate > 5000:
                break
            rate *= args.factor
        if args.rate:  # no ramp: R is given, the maximum is one step's goodput at R
            out["ramp"].append(await generator.run(args.rate, args.step))
        good = [r for r in out["ramp"] if sustained(r)]
        out["sustainable_rps"] = args.rate or (good[-1]["offered_rps"] if good else args.start_rate)
        out["max_goodput_rps"] = max(r["goodput_rps"] for r in out["ramp"])
        await asyncio.sleep(2)
        out["surge"] = await generator.run(3 * out["sustainable_rps"], args.seconds)
        out["surge"]["goodput_vs_max"] = round(
            out["surge"]["goodput_rps"] / out["max_goodput_rps"], 3
        )
        generator.close()
    finally:
        stop_server(server)
    if not args.no_baseline:
        server = start_server(args.workers, {**env, "ADMISSION_ENABLED": "0"})
        try:
            generator = Generator(load, timeout=args.timeout, max_connections=args.connections)
            await generator.run(args.start_rate, 3)
            base = await generator.run(3 * out["sustainable_rps"], args.seconds)
            base["goodput_vs_max"] = round(base["goodput_rps"] / out["max_goodput_rps"], 3)
            out["surge_without_admission"] = base
            generator.close()
        finally:
            stop_server(server)
    return out


def main():
    global PORT
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--step", type=float, default=8)
    parser.add_argument("--start-rate", type=float, default=40)
    parser.add_argument("--factor", type=float, default=1.25)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=400)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--db", default=DB, help="the database it creates afresh")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument(
        "--rate", type=float, default=0, help="skip the ramp: R is this, measured for --step s"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="the generator's own niceness (negative needs root): -10 gives its small share of "
        "CPU first, as a generator on its own machine would have it",
    )
    args = parser.parse_args()
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # the server, started after, resets it
    ENV["DATABASE_URL"] = f"{checkin_load.PG}/{args.db}"
    data, fill = checkin_load.prepare(args.db, args.people, ENV)
    load = Load(
        data,
        fill["device_key"],
        fill["venue_code"],
        session_for("19900000000"),
        session_for("19900000001"),
    )
    env = {**os.environ, **ENV}
    started = time.time()
    out = asyncio.run(measure(load, args, env))
    out["mix"] = MIX
    out["load_average"] = os.getloadavg()
    out["wall_seconds"] = round(time.time() - started)
    print(json.dumps(out, indent=2, ensure_ascii=False))
    print(table(out))


if __name__ == "__main__":
    main()
