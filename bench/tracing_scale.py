"""Benchmark: the close-contact query of a trace at a city's scale.

On PostgreSQL: 1,000,000 residents, 100,000 venues and 10,000,000 stays over 30 days (loaded
with INSERT … SELECT generate_series, indexes dropped during the load and rebuilt after, as a
bulk loader would: setup, not measured). Then, for each of ``--cases`` people given 20 stays
each over the last 4 days at random venues, time the first round of a trace — the query of
every other stay overlapping one of theirs by ≥ 15 minutes and the matching in Python
(``tracing.services._overlapping``) — and report min / median / max, with the EXPLAIN
(ANALYZE, BUFFERS) of one query. Baseline in the same run: the same number of primary-key
lookups of 20 stays (``SELECT … WHERE id = ANY``), the least a query touching 20 rows costs.

    .venv/bin/python bench/tracing_scale.py [--residents 1000000] [--venues 100000]
        [--stays 10000000] [--cases 20]

Creates and drops its own database ``healthcode_trace_bench`` (PostgreSQL on 127.0.0.1:5432).
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_recompute import PG, fresh_database  # noqa: E402

DB = "healthcode_trace_bench"
ENV = {
    "DATABASE_URL": f"{PG}/{DB}",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG",
    "ALLOWED_HOSTS": "localhost",
    "LOG_LEVEL": "WARNING",
}
CHUNK = 1_000_000


def load(cur, *, residents: int, venues: int, stays: int, now: dt.datetime) -> None:
    started = time.perf_counter()
    cur.execute(
        "INSERT INTO healthcode_user (password, is_superuser, email, is_staff, is_active, "
        "date_joined, phone, care_mode) "
        "SELECT '!', false, '', false, true, now(), '15' || lpad(g::text, 9, '0'), false "
        "FROM generate_series(1, %s) g",
        [venues],
    )
    cur.execute(
        "INSERT INTO venues_venue (public_id, full_name, region_code, address, category, "
        "entry_rule, default_stay_minutes, declaration_code, poster_version, poster_issued_at, "
        "created_at, administrator_id, credit_code, rejection_reason, status, submitted_at) "
        "SELECT gen_random_uuid(), '场所' || u.id, '330106', 'bench', 'supermarket', 'policy', "
        "60, 'D' || lpad(u.id::text, 9, '0'), 1, now(), now(), u.id, '', '', 'approved', now() "
        "FROM healthcode_user u"
    )
    cur.execute(
        "INSERT INTO healthcode_resident (public_id, name, id_type, id_number, nationality, "
        "region_code, address, contact_confirmed_case, contact_risk_area, contact_abroad, "
        "contact_note, committed_at, created_at, population_group, citizen_card) "
        "SELECT gen_random_uuid(), '张三', 'resident_id', 'B' || lpad(g::text, 17, '0'), '中国', "
        "'330106', 'bench', false, false, false, '', now(), now(), 'general', '' "
        "FROM generate_series(1, %s) g",
        [residents],
    )
    print(f"  residents and venues: {time.perf_counter() - started:.0f} s", flush=True)
    cur.execute("SELECT min(id), max(id) FROM healthcode_resident")
    r_min, r_max = cur.fetchone()
    cur.execute("SELECT min(id), max(id) FROM venues_venue")
    v_min, v_max = cur.fetchone()
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'checkins_checkin' "
        "AND indexname NOT LIKE '%%pkey'"
    )
    indexes = cur.fetchall()
    for name, _definition in indexes:
        cur.execute(f'ALTER TABLE checkins_checkin DROP CONSTRAINT IF EXISTS "{name}"')
        cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    span = 30 * 24 * 3600
    for start in range(0, stays, CHUNK):
        count = min(CHUNK, stays - start)
        began = time.perf_counter()
        cur.execute(
            "INSERT INTO checkins_checkin (public_id, checked_in_at, left_at, left_how, method, "
            "colour, reasons, test, decision, decision_code, decision_text, temperature_band, "
            "manual_name, manual_id_number, manual_phone, venue_id, resident_id, token_digest) "
            "SELECT gen_random_uuid(), t, t + interval '60 minutes', 'assumed', 'self_scan', "
            "'green', '[]', '{}', 'pass', 'ok', '', '', '', '', '', "
            "%s + floor(random() * %s)::bigint, %s + floor(random() * %s)::bigint, '' "
            "FROM (SELECT %s::timestamptz - random() * interval '1 second' * %s AS t "
            "      FROM generate_series(1, %s)) s",
            [v_min, v_max - v_min + 1, r_min, r_max - r_min + 1, now, span, count],
        )
        print(f"  stays {start + count:,}: {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    for _name, definition in indexes:
        cur.execute(definition)
    cur.execute("ANALYZE")
    print(f"  indexes rebuilt and analysed: {time.perf_counter() - began:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--venues", type=int, default=100_000)
    parser.add_argument("--stays", type=int, default=10_000_000)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    args = parser.parse_args()

    os.environ.update(ENV)
    if not args.reuse:
        fresh_database(DB, ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from checkins.models import CheckIn
    from healthcode.models import Resident, User
    from tracing import services
    from tracing.models import Case, Trace

    now = timezone.now()
    if not args.reuse:
        print(
            f"loading {args.residents:,} residents, {args.venues:,} venues, {args.stays:,} stays …",
            flush=True,
        )
        with connection.cursor() as cur:
            load(cur, residents=args.residents, venues=args.venues, stays=args.stays, now=now)

    import random

    rng = random.Random(2026)
    officer = User.objects.create_user(phone="19900000000", password="!")
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM venues_venue")
        v_min, v_max = cur.fetchone()
        cur.execute("SELECT min(id), max(id) FROM healthcode_resident")
        r_min, _r_max = cur.fetchone()
    timings, baseline, found = [], [], []
    for n in range(args.cases):
        person = Resident.objects.get(pk=r_min + n)
        CheckIn.objects.filter(resident=person).delete()
        stays = []
        for _ in range(20):
            at = now - dt.timedelta(seconds=rng.randrange(4 * 24 * 3600))
            stays.append(
                CheckIn(
                    resident=person,
                    venue_id=rng.randint(v_min, v_max),
                    checked_in_at=at,
                    left_at=at + dt.timedelta(minutes=60),
                    method="self_scan",
                    colour="green",
                    decision="pass",
                    decision_code="ok",
                    decision_text="",
                )
            )
        CheckIn.objects.bulk_create(stays)
        case = Case.objects.create(
            resident=person,
            onset_at=now - dt.timedelta(days=1),
            lookback_from=now - dt.timedelta(days=5),
            lookback_to=now,
            registered_by=officer,
        )
        trace = Trace.objects.create(case=case, created_by=officer)
        anchors = [
            (person.pk, s.venue_id, s.checked_in_at, s.left_at, False)
            for s in CheckIn.objects.filter(resident=person)
        ]
        ids = list(CheckIn.objects.filter(resident=person).values_list("pk", flat=True))
        began = time.perf_counter()
        list(CheckIn.objects.filter(pk__in=ids).values_list("resident_id", "left_at"))
        baseline.append(time.perf_counter() - began)
        began = time.perf_counter()
        matches = services._overlapping(
            anchors, exclude={person.pk}, threshold=trace.threshold, trace=trace, share=1
        )
        timings.append(time.perf_counter() - began)
        found.append(len({m.resident_id for m in matches}))

    def fmt(values):
        return (
            f"min {min(values) * 1000:.1f} ms, median {statistics.median(values) * 1000:.1f} ms, "
            f"max {max(values) * 1000:.1f} ms"
        )

    print(f"\nclose-contact query, {args.cases} cases of 20 stays: {fmt(timings)}")
    print(f"baseline (20 stays by primary key):           {fmt(baseline)}")
    print(f"ratio of medians: {statistics.median(timings) / statistics.median(baseline):.1f}×")
    print(f"contacts found per case: median {statistics.median(found)}")

    # The EXPLAIN of the last case's query, as Django sends it.
    from django.db.models import Q

    from checkins.models import MAX_STAY

    query = Q()
    for _who, venue_id, start, end, _e in anchors:
        query |= Q(
            venue_id=venue_id,
            checked_in_at__gt=start - MAX_STAY,
            checked_in_at__lte=end - trace.threshold,
            left_at__gte=start + trace.threshold,
        )
    qs = (
        CheckIn.objects.filter(query)
        .exclude(resident_id__in=[person.pk])
        .exclude(resident_id=None)
        .values_list("resident_id", "venue_id", "checked_in_at", "left_at", "left_how")
    )
    print("\n" + qs.explain(analyze=True, buffers=True))


if __name__ == "__main__":
    main()
