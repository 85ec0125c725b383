"""Celery tasks that keep stored statuses current. Thin: ids in, a service call."""

import datetime as dt
import logging
import time

from celery import current_app, shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from healthcode import selectors, services

logger = logging.getLogger(__name__)

# The sweep takes due codes a page at a time, until none is left or its time is up (the
# lock below lapses at 55 s): a policy switch makes a whole city due at one instant, and
# queueing it a page a minute would take the sweep twenty minutes for 1,000,000 residents.
SWEEP_LIMIT = 50_000
SWEEP_SECONDS = 40
SWEEP_LOCK = "healthcode:recompute-due:lock"
SWEEP_PLACE = "healthcode:recompute-due:place"  # (pass started at, last key queued)


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
)
def recompute_codes(self, resident_ids: list[int], cause: str) -> int:
    """Recompute these residents from their current facts (idempotent, safe to retry)."""
    return services.healthcode_recompute_many(resident_ids=resident_ids, cause=cause)


def enqueue_recompute(resident_ids: list[int], cause: str) -> None:
    """Publish recompute tasks of ``RECOMPUTE_CHUNK`` ids over one broker connection."""
    chunk = services.RECOMPUTE_CHUNK
    with current_app.producer_or_acquire() as producer:
        for start in range(0, len(resident_ids), chunk):
            recompute_codes.apply_async(
                (resident_ids[start : start + chunk], cause), producer=producer
            )


@shared_task(acks_late=True)
def recompute_due(from_start: bool = False) -> int:
    """Every minute (beat): enqueue recomputes for codes whose review time has passed —
    a window lapsing, a flag ending, a policy taking effect — and for codes a change marked
    due whose own task has not run within the lease (a worker killed, a broker down).

    The sweep pages through due codes in (review time, resident) order and keeps its place in
    the cache (``SWEEP_PLACE``) rather than writing a mark on every code it queues: a policy
    switch queues a whole city, and a million extra row versions would cost more than the
    recomputes. A sweep within the lease of the one that started the pass goes on after its
    place; what the pass queued and is still due after the lease (its task lost) is taken
    again from the start. ``from_start``: start a pass now (a policy already in effect brings
    review times back before the place)."""
    # One sweep at a time: a slow sweep must not be overlapped by the next minute's.
    if not cache.add(SWEEP_LOCK, "1", timeout=55):
        return 0
    try:
        now = timezone.now()
        lease = dt.timedelta(seconds=settings.RECOMPUTE_LEASE_SECONDS)
        place = None if from_start else cache.get(SWEEP_PLACE)
        if place is None or place[0] <= now - lease:
            place = (now, None)  # a new pass: everything due is queued again
        pass_started, after = place
        started, total = time.monotonic(), 0
        while True:
            keys = selectors.codes_due(now=now, limit=SWEEP_LIMIT, lease=lease, after=after)
            if keys:
                enqueue_recompute(sorted(resident for _at, resident in keys), "review time")
                after = keys[-1]
                cache.set(SWEEP_PLACE, (pass_started, after), timeout=lease.total_seconds())
            total += len(keys)
            if len(keys) < SWEEP_LIMIT or time.monotonic() - started >= SWEEP_SECONDS:
                break  # the rest, if any, at the next minute's sweep
        if total:
            logger.info("recompute_due enqueued %d residents", total)
        return total
    finally:
        cache.delete(SWEEP_LOCK)
