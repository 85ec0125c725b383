"""Retention: delete personal data past its period, in chunks, never what still decides."""

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from retention.registry import REGISTRY, DataClass

logger = logging.getLogger(__name__)

# Rows per DELETE: bounded memory (only primary keys are read) and short row locks.
CHUNK = 1000


def retention_purge(*, now: dt.datetime | None = None, chunk: int = CHUNK) -> dict[str, int]:
    """Delete, for every data class in ``REGISTRY``, the rows past its period that nothing
    still decides by; return how many rows of each class went (rows deleted with them, such
    as a check-in's alerts or a result's change history, are logged, not counted). Idempotent:
    a second run at the same instant deletes nothing. Logs counts only."""
    now = now or timezone.now()
    counts = {}
    for data_class in REGISTRY:
        counts[data_class.key] = _purge_class(data_class, now=now, chunk=chunk)
    return counts


def _purge_class(data_class: DataClass, *, now: dt.datetime, chunk: int) -> int:
    period = data_class.period()
    expired = data_class.expired(now, period)
    label = expired.model._meta.label
    deleted, with_them, after = 0, 0, 0
    while True:
        # Walk by primary key so rows kept as deciding are read once, not again each chunk.
        pks = list(expired.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not pks:
            break
        after = pks[-1]
        with transaction.atomic():
            rows = data_class.expired(now, period).filter(pk__in=pks)
            if data_class.deciding is not None:
                rows = rows.exclude(pk__in=data_class.deciding(rows.select_for_update(), now))
            files = list(rows.values(*data_class.files[0])) if data_class.files else []
            # The DELETE re-applies the class's conditions: a row changed meanwhile stays.
            total, by_model = rows.delete()
        for row in files:  # after the commit: a file goes only once its row has
            data_class.files[1](row)
        deleted += by_model.get(label, 0)
        with_them += total - by_model.get(label, 0)
    logger.info(
        "retention %s: deleted %d (with %d dependent rows), period %s",
        data_class.key,
        deleted,
        with_them,
        period,
    )
    return deleted
