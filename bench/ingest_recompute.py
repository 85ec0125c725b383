"""Benchmark: ingest one nucleic-acid result per resident and recompute every status.

On PostgreSQL with a real Celery worker on Redis:
  1. a fresh database with N registered residents (bulk-loaded: setup, not measured);
  2. baseline: a raw PostgreSQL COPY of the same N result rows into a scratch table;
  3. ingest: the N rows through ``nucleic.services.results_ingest`` (the API's service
     layer: per-record validation, upsert, audit batch) in batches of 10,000;
  4. recompute: the recompute tasks enqueued after each batch's commit wait in Redis; then
     a worker starts and we time it until every stored status shows the new result
     (worker start-up, about a second, is not counted: ping answers before timing starts).

    .venv/bin/python bench/ingest_recompute.py --n 100000 [--workers 2]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 127.0.0.1:6379; it creates
and drops its own database ``healthcode_bench``.
"""

import argparse
import datetime as dt
import io
import json
import os
import subprocess
import sys
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
}
BATCH = 10_000


def fresh_database(db: str = DB, env: dict | None = None) -> None:
    """Drop and create ``db`` and migrate it (shared by the benchmarks in bench/)."""
    import psycopg2

    conn = psycopg2.connect(f"{PG}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {db}")
    conn.close()
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ.update(ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    fresh_database()
    import django

    django.setup()
    from django.utils import timezone

    from healthcode.models import HealthCode
    from nucleic import services
    from nucleic.models import Lab, LabToken, TestPolicy

    now = timezone.now()
    TestPolicy.objects.create(
        group="general", window_hours=72, effective_from=now - dt.timedelta(days=365)
    )
    token, _key = LabToken.issue(lab=Lab.objects.create(name="bench", region_code="330106"))
    t = time.perf_counter()
    people = load_residents(args.n, now)
    print(f"setup: {args.n} residents in {time.perf_counter() - t:.1f} s", flush=True)
    records = records_for(people, now)

    copy_s = copy_baseline(records)
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge("recompute")
    # Phase 1: ingest alone; its recompute tasks wait in Redis (no worker yet).
    started = time.perf_counter()
    for start in range(0, args.n, BATCH):
        _batch, outcome = services.results_ingest(
            token=token, records=records[start : start + BATCH], content_type="bench"
        )
        assert outcome.rejected == 0, outcome.errors[:3]
    ingest_s = time.perf_counter() - started
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
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    result = {
        "n": args.n,
        "workers": args.workers,
        "copy_s": round(copy_s, 3),
        "copy_rows_per_s": round(args.n / copy_s),
        "ingest_s": round(ingest_s, 3),
        "ingest_rows_per_s": round(args.n / ingest_s),
        "ingest_vs_copy_rate": round(copy_s / ingest_s, 3),
        "recompute_s": round(recompute_s, 3),
        "recompute_rows_per_s": round(args.n / recompute_s),
        "recompute_vs_copy_time": round(recompute_s / copy_s, 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
