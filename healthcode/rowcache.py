"""Rows the door reads on every scan (a venue by its poster's id, a scan device by its key, an
inspector's binding), kept in the cache (Redis in production) and dropped the moment they
change, so a scan costs no query for them and still sees a change at once.

``cached`` reads through: a miss loads the row from the database and keeps it for
``DOOR_ROW_CACHE_SECONDS``; an unreachable cache is read past (the database answers, with a
logged warning). ``forget`` drops keys when their row is saved or deleted (the apps connect it
to post_save/post_delete): at once, and again when the transaction commits, in case a scan
re-read the old row in between. Only rows are cached,
never a person's status: a health code is read from the database on every scan."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)


def cached(key: str, load):
    """The cached value at ``key``, or ``load()`` (kept if not None)."""
    try:
        row = cache.get(key)
    except Exception:
        log.warning("row cache unreachable: reading the database")
        return load()
    if row is None:
        row = load()
        if row is not None:
            try:
                cache.set(key, row, settings.DOOR_ROW_CACHE_SECONDS)
            except Exception:
                log.warning("row cache unreachable: not cached")
    return row


def forget(*keys: str) -> None:
    """Drop ``keys`` now and again after commit. With the cache unreachable the change goes
    through with a logged warning: scans read the database meanwhile, and a copy Redis still
    holds expires by itself at most ``DOOR_ROW_CACHE_SECONDS`` after it was written."""
    if not keys:
        return

    def drop():
        try:
            cache.delete_many(list(keys))
        except Exception:
            log.warning("row cache unreachable: a cached copy expires by itself")

    drop()
    transaction.on_commit(drop)
