"""Benchmark: ingest one nucleic-acid result per resident and recompute every status.

On PostgreSQL with a real Celery worker on Redis:
  1. a fresh database with N registered residents (bulk-loaded: setup, not measured);
  2. baseline: a raw PostgreSQL COPY of the same N result rows into a scratch table;
  3. ingest: the N rows through ``nucleic.services.results_ingest`` (the API's service
     layer: per-record validation, upsert, audit batch) in batches of 10,000;
  4. recompute: the recompute tasks enqueued after each batch's commit wait in Redis; then
     a worker starts and we time it until every stored status shows the new result
     (worker start-up, about a second, is not counted: ping answers before timing starts).

  5. policy switch: a 72 h policy replaces the 48 h one for every resident at an instant a
     little ahead; at that instant a sample of residents is read (``ensure_current``, what a
     door does) and checked against the engine, and the minute sweep (``recompute_due``) is
     sent to the worker: timed until no code is due any more.

    .venv/bin/python bench/ingest_recompute.py --n 100000 [--workers 2] [--db NAME] [--reuse]

``--reuse`` keeps the populated database (residents, codes, lab, the 48 h policy) as a
template ``<db>_tpl<N>`` and clones it on the next run (seconds, where a 1,000,000-resident
setup takes minutes); ``--profile`` runs ingest and ten recompute chunks in-process under
cProfile instead of timing them.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379 (index from
``BENCH_REDIS_URL``); it creates and drops its own database (``--db``, ``healthcode_bench``).
"""

import argparse
import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB = "healthcode_bench"
PG = "postgres://postgres@127.0.0.1:5432"
ENV = {
    "DATABASE_URL": f"{PG}/{DB}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG",
    "ALLOWED_HOSTS": "localhost",
    "LOG_LEVEL": "WARNING",
    # Any Ed25519 key (32 raw bytes, base64): settings require one with DEBUG off.
    "HEALTHCODE_ASSERTION_KEY": "yFYWDBGhab4HKPKV1DTXAzhDbj/749NEuWF9/78nemM=",
}
BATCH = 10_000


def _admin(*statements: str) -> list:
    """Run statements on the server's maintenance database; the last one's rows."""
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    rows = []
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
            rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def fresh_database(db: str = DB, env: dict | None = None) -> None:
    """Drop and create ``db`` and migrate it (shared by the benchmarks in bench/)."""
    _admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", f"CREATE DATABASE {db}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        check=True,
        cwd=ROOT,
        env={**os.environ, **(env or ENV)},
    )


def identities(n: int):
    from healthcode.idnumbers import resident_id_check_char

    day0 = dt.date(1950, 1, 1)
    for i in range(n):
        birth = day0 + dt.timedelta(days=i // 900)
        first17 = f"330106{birth:%Y%m%d}{i % 900 + 100:03d}"
        yield first17 + resident_id_check_char(first17), f"13{i:09d}"


def load_residents(n: int, now) -> list[tuple[str, str]]:
    from django.db import transaction

    from healthcode import engine
    from healthcode.models import HealthCode, Resident, User

    people = list(identities(n))
    green = [engine.Reason("no_abnormality", "green", "未见异常", "", None, None).as_dict()]
    for start in range(0, n, BATCH):
        chunk = people[start : start + BATCH]
        with transaction.atomic():
            users = User.objects.bulk_create(User(phone=p, password="!") for _id, p in chunk)
            residents = Resident.objects.bulk_create(
                Resident(
                    user=u,
                    name="张三",
                    id_type="resident_id",
                    id_number=number,
                    region_code="330106",
                    address="bench",
                    committed_at=now,
                )
                for u, (number, _p) in zip(users, chunk, strict=True)
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
    return people


def load_residents_sql(n: int, now) -> None:
    """The same residents as ``load_residents`` (green, no test), through COPY and
    ``INSERT … SELECT``: a 1,000,000-resident setup in about a minute, not half an hour."""
    from django.db import connection

    from healthcode import engine

    green = json.dumps(
        [engine.Reason("no_abnormality", "green", "未见异常", "", None, None).as_dict()],
        ensure_ascii=False,
    )
    people = io.StringIO(
        "".join(f"{i}\t{number}\t{phone}\n" for i, (number, phone) in enumerate(identities(n)))
    )
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_people (g int, id_number text, phone text)")
        cur.cursor.copy_expert("COPY bench_people FROM STDIN", people)
        cur.execute(
            "INSERT INTO healthcode_user (password, is_superuser, email, is_staff, is_active, "
            "date_joined, phone, care_mode) "
            "SELECT '!', false, '', false, true, %s, phone, false FROM bench_people ORDER BY g",
            [now],
        )
        cur.execute(
            "INSERT INTO healthcode_resident (public_id, user_id, name, id_type, id_number, "
            "nationality, region_code, address, contact_confirmed_case, contact_risk_area, "
            "contact_abroad, contact_note, committed_at, created_at, population_group, "
            "citizen_card) "
            "SELECT gen_random_uuid(), u.id, '张三', 'resident_id', p.id_number, '中国', "
            "'330106', 'bench', false, false, false, '', %s, %s, 'general', '' "
            "FROM bench_people p JOIN healthcode_user u ON u.phone = p.phone ORDER BY p.g",
            [now, now],
        )
        cur.execute(
            "INSERT INTO healthcode_healthcode (resident_id, colour, reasons, test, "
            "rules_version, computed_at) "
            'SELECT r.id, \'green\', %s::jsonb, \'{"state": "none", "valid_now": false}\', '
            "%s, %s FROM healthcode_resident r ORDER BY r.id",
            [green, engine.RULES_VERSION, now],
        )
        cur.execute("DROP TABLE bench_people")


def records_for(people, now):
    sampled = (now - dt.timedelta(hours=20)).isoformat()
    reported = (now - dt.timedelta(hours=8)).isoformat()
    return [
        {
            "barcode": f"BENCH{i:09d}",
            "id_type": "resident_id",
            "id_number": number,
            "name": "张三",
            "sampled_at": sampled,
            "reported_at": reported,
            "result": "negative",
        }
        for i, (number, _phone) in enumerate(people)
    ]


def copy_baseline(records) -> float:
    from django.db import connection

    columns = ["barcode", "id_type", "id_number", "name", "sampled_at", "reported_at", "result"]
    buffer = io.StringIO()
    for r in records:
        buffer.write("\t".join(r[c] for c in columns) + "\n")
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_scratch (barcode varchar(64), id_type varchar(32), "
            "id_number varchar(32), name varchar(64), sampled_at timestamptz, "
            "reported_at timestamptz, result varchar(8))"
        )
        buffer.seek(0)
        started = time.perf_counter()
        cur.cursor.copy_expert(f"COPY bench_scratch ({', '.join(columns)}) FROM STDIN", buffer)
        connection.commit() if not connection.get_autocommit() else None
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE bench_scratch")
    return elapsed


def start_worker(workers: int):
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--queues=recompute",  # where a batch's recompute tasks go (config/settings.py)
            "--pool=prefork",
            f"--concurrency={workers}",
            "--loglevel=WARNING",
            "-n",
            "bench@localhost",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while not app.control.ping(destination=["bench@localhost"], timeout=1.0):
        if time.monotonic() > deadline:
            worker.kill()
            raise SystemExit("worker did not start")
    return worker


def populate(args, now) -> None:
    """A migrated database ``args.db`` with N residents, a lab and the 48 h policy: cloned from
    the template with ``--reuse`` when there is one, else built (and kept as the template)."""
    template = f"{args.db}_tpl{args.n}"
    exists = _admin(f"SELECT 1 FROM pg_database WHERE datname = '{template}'")
    if args.reuse and exists:
        t = time.perf_counter()
        _admin(
            f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)",
            f"CREATE DATABASE {args.db} TEMPLATE {template}",
        )
        print(f"setup: cloned {template} in {time.perf_counter() - t:.1f} s", flush=True)
        return
    fresh_database(args.db, ENV)
    import django

    django.setup()
    from nucleic.models import Lab, LabToken, TestPolicy

    TestPolicy.objects.create(
        group="general", window_hours=48, effective_from=now - dt.timedelta(days=365)
    )
    LabToken.issue(lab=Lab.objects.create(name="bench", region_code="330106"))
    t = time.perf_counter()
    load_residents_sql(args.n, now)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    print(f"setup: {args.n} residents in {time.perf_counter() - t:.1f} s", flush=True)
    if args.reuse:
        connection.close()
        _admin(
            f"DROP DATABASE IF EXISTS {template} WITH (FORCE)",
            f"CREATE DATABASE {template} TEMPLATE {args.db}",
        )


def profile_run(args, token, records, services) -> None:
    """Ingest (the first five batches) and ten recompute chunks in-process under cProfile."""
    import cProfile
    import pstats

    from healthcode.models import Resident
    from healthcode.services import RECOMPUTE_CHUNK, healthcode_recompute_many

    # The last five batches, after the others landed unprofiled: the table sizes at N.
    for start in range(0, len(records) - 5 * BATCH, BATCH):
        services.results_ingest(
            token=token, records=records[start : start + BATCH], content_type="bench"
        )
    batches = records[-5 * BATCH :]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for start in range(0, len(batches), BATCH):
        services.results_ingest(
            token=token, records=batches[start : start + BATCH], content_type="bench"
        )
    profiler.disable()
    print(f"ingest, {len(batches)} records: {time.perf_counter() - started:.2f} s")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    ids = list(
        Resident.objects.order_by("-pk").values_list("pk", flat=True)[: 10 * RECOMPUTE_CHUNK]
    )
    ids.reverse()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for start in range(0, len(ids), RECOMPUTE_CHUNK):
        healthcode_recompute_many(resident_ids=ids[start : start + RECOMPUTE_CHUNK], cause="bench")
    profiler.disable()
    print(f"recompute, {len(ids)} residents: {time.perf_counter() - started:.2f} s")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def policy_switch(args) -> dict:
    """48 h -> 72 h for everyone at an instant ``--switch-lead`` seconds ahead: the policy's
    write (marking every code due at that instant) is timed; at the instant a sample of 1,000
    residents is read as a door reads them and checked against the engine; the minute sweep
    then goes to the worker, timed until no code is due."""
    import random

    from django.utils import timezone

    from healthcode import engine
    from healthcode.models import HealthCode
    from healthcode.selectors import ensure_current, facts_for_residents
    from healthcode.tasks import recompute_due
    from nucleic.services import policy_create

    lead = args.switch_lead or 10 + args.n / 10_000
    effective = timezone.now() + dt.timedelta(seconds=lead)
    started = time.perf_counter()
    policy_create(group="general", window_hours=72, effective_from=effective)
    mark_s = time.perf_counter() - started
    if mark_s >= lead:
        print(f"marking took {mark_s:.1f} s, past the {lead:.0f} s lead", flush=True)
    time.sleep(max(0.0, (effective - timezone.now()).total_seconds()))
    started = time.perf_counter()
    recompute_due.apply_async()  # what beat sends each minute; the first after the instant
    at = timezone.now()
    # Meanwhile, doors read: a sample of 1,000 residents, each through ensure_current (which
    # recomputes a due code inline), checked against the engine at the same instant.
    first = HealthCode.objects.order_by("resident_id").values_list("resident_id", flat=True)[0]
    sample = random.Random(14).sample(range(first, first + args.n), min(1000, args.n))
    reads = {"wrong": 0, "times": []}

    def door():
        from django.db import connection

        try:
            for pk in sample:
                began = time.perf_counter()
                code = ensure_current(
                    HealthCode.objects.select_related("resident").get(resident_id=pk), now=at
                )
                reads["times"].append(time.perf_counter() - began)
                facts = facts_for_residents([code.resident])[pk]
                if code.test != engine.evaluate(facts, at).test.as_dict():
                    reads["wrong"] += 1
                elif code.test["window_hours"] != 72:
                    reads["wrong"] += 1
        finally:
            connection.close()

    reader = threading.Thread(target=door)
    reader.start()
    beat = time.monotonic()
    while HealthCode.objects.filter(review_at__lte=effective).exists():
        if time.monotonic() - beat >= 60:  # as beat does: one sweep takes at most 40 s of work
            recompute_due.apply_async()
            beat = time.monotonic()
        time.sleep(0.2)
    sweep_s = time.perf_counter() - started
    reader.join()
    times = sorted(reads["times"])
    return {
        "switch_lead_s": lead,
        "switch_mark_s": round(mark_s, 2),
        "switch_reads_checked": len(sample),
        "switch_reads_wrong": reads["wrong"],
        "switch_read_median_ms": round(1000 * times[len(times) // 2], 1),
        "switch_read_max_ms": round(1000 * times[-1], 1),
        "switch_sweep_done_s": round(sweep_s, 2),
    }


def table_stats() -> dict:
    """Sizes (MB) of the tables ingest and recompute touch, with their indexes, and the share
    of their block reads served from shared_buffers since the clone."""
    from django.db import connection

    stats = {}
    with connection.cursor() as cur:
        cur.execute("SHOW shared_buffers")
        stats["shared_buffers"] = cur.fetchone()[0]
        for table in ("nucleic_sample", "healthcode_healthcode", "healthcode_resident"):
            cur.execute(
                "SELECT pg_relation_size(%s) / 1048576, pg_indexes_size(%s) / 1048576, "
                "heap_blks_hit, heap_blks_read, idx_blks_hit, idx_blks_read "
                "FROM pg_statio_user_tables WHERE relname = %s",
                [table, table, table],
            )
            heap_mb, idx_mb, heap_hit, heap_read, idx_hit, idx_read = cur.fetchone()
            stats[table] = {
                "heap_mb": heap_mb,
                "indexes_mb": idx_mb,
                "heap_hit": round(heap_hit / max(1, heap_hit + heap_read), 3),
                "index_hit": round(idx_hit / max(1, idx_hit + idx_read), 3),
            }
    return stats


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default=DB)
    parser.add_argument("--reuse", action="store_true", help="keep/clone a populated template")
    parser.add_argument("--profile", action="store_true", help="cProfile instead of timing")
    parser.add_argument("--setup-only", action="store_true", help="build the template and stop")
    parser.add_argument("--no-switch", action="store_true", help="skip the policy switch")
    parser.add_argument("--switch-lead", type=float, default=0.0, help="seconds (default by N)")
    args = parser.parse_args()
    ENV["DATABASE_URL"] = f"{PG}/{args.db}"
    os.environ.update(ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    from_now = dt.datetime.now(dt.UTC)
    populate(args, from_now)
    if args.setup_only:
        return
    django.setup()
    from django.db import connection as django_connection

    django_connection.close()  # the clone was made with no session open; start a fresh one
    from django.utils import timezone

    from healthcode.models import HealthCode
    from nucleic import services
    from nucleic.models import LabToken

    now = timezone.now()
    token = LabToken.objects.select_related("lab").get()
    people = list(identities(args.n))
    records = records_for(people, now)
    if args.profile:
        profile_run(args, token, records, services)
        return

    copy_s = copy_baseline(records)
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("recompute")
    # Phase 1: ingest alone; its recompute tasks wait in Redis (no worker yet).
    started, batch_s = time.perf_counter(), []
    for start in range(0, args.n, BATCH):
        began = time.perf_counter()
        _batch, outcome = services.results_ingest(
            token=token, records=records[start : start + BATCH], content_type="bench"
        )
        batch_s.append(time.perf_counter() - began)
        assert outcome.rejected == 0, outcome.errors[:3]
    ingest_s = time.perf_counter() - started
    print(f"ingest done in {ingest_s:.1f} s", flush=True)
    # What autovacuum does on its own a while after a bulk load, done now: without column
    # statistics for the new samples the planner takes each ID number for 0.5 % of the table
    # and reads all of it for every recompute chunk (docs/benchmarks.md, 2026-11-23).
    started = time.perf_counter()
    with django_connection.cursor() as cur:
        cur.execute("ANALYZE nucleic_sample")
    analyze_s = time.perf_counter() - started
    # Phase 2: the worker drains the queued recomputes; wait until every status is current.
    worker = start_worker(args.workers)
    try:
        started = time.perf_counter()
        # Poll cheaply: first the queue's length in Redis, then (a full scan of the codes)
        # the count of current statuses, only once the queue is drained.
        broker = redis.Redis.from_url(ENV["REDIS_URL"])
        while broker.llen("recompute"):
            time.sleep(0.05)
        while HealthCode.objects.filter(test__state="negative").count() < args.n:
            time.sleep(0.05)
        recompute_s = time.perf_counter() - started
        switch = {} if args.no_switch else policy_switch(args)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    result = {
        "n": args.n,
        "workers": args.workers,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "copy_s": round(copy_s, 3),
        "copy_rows_per_s": round(args.n / copy_s),
        "ingest_s": round(ingest_s, 3),
        "ingest_rows_per_s": round(args.n / ingest_s),
        "ingest_vs_copy_rate": round(copy_s / ingest_s, 3),
        "analyze_s": round(analyze_s, 2),
        "recompute_s": round(recompute_s, 3),
        "recompute_rows_per_s": round(args.n / recompute_s),
        "recompute_vs_copy_time": round(recompute_s / copy_s, 2),
        # Where ingest slows as the tables grow: the first and the last ten batches.
        "ingest_first10_batch_s": round(sum(batch_s[:10]) / len(batch_s[:10]), 3),
        "ingest_last10_batch_s": round(sum(batch_s[-10:]) / len(batch_s[-10:]), 3),
        **table_stats(),
        **switch,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
