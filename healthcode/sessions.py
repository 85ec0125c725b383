"""Sessions read from the cache (Redis in production), kept in the database too.

Every signed-in request used to read its session row from PostgreSQL; on the door's paths
(a resident's check-in, the inspector's verify, the code page's refresh) that was one query in
four to ten. Django's ``cached_db`` reads the cache first and the database on a miss; this
store changes three things so that it keeps the guarantees of plain database sessions:

- Revocation comes first: logging out deletes the cached copy *before* the row, and if the
  cache cannot be reached the log-out fails loudly (500) with both still in place, rather
  than leave a copy in Redis that a logged-out cookie could use again once Redis is back.
- A cached copy lives at most ``SESSION_CACHE_SECONDS`` (and never past the session's own
  expiry), so no copy outlives a change by more than that, whatever happened to Redis.
- With the cache unreachable a request reads (and writes) the database alone, with a logged
  warning, as the throttles fail open: the door keeps working while Redis is down.

A password change still ends every other session at once: the account row is read on every
request (``django.contrib.auth.get_user``) and its password hash compared with the session's.
"""

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.utils import timezone

log = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    cache_key_prefix = "healthcode.session:"

    def _cache_seconds(self, age: int) -> int:
        return max(0, min(age, settings.SESSION_CACHE_SECONDS))

    def load(self):
        try:
            kept = self._cache.get(self.cache_key)
        except Exception:
            log.warning("session cache unreachable: reading the database")
            kept = None
        # A cached copy carries the row's expiry and is refused past it by this clock, not
        # only by Redis's: a staff session ends at its hour however recently it was cached.
        if kept is not None and kept["expires"] > timezone.now():
            return kept["data"]
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        self._keep(data, row.expire_date)
        return data

    def _keep(self, data, expires) -> None:
        try:
            seconds = self._cache_seconds(self.get_expiry_age(expiry=expires))
            self._cache.set(self.cache_key, {"data": data, "expires": expires}, seconds)
        except Exception:
            log.warning("session cache unreachable: not cached")

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        # The row is saved; a copy left from before in an unreachable cache is older than
        # this save by at most SESSION_CACHE_SECONDS when it comes back.
        self._keep(self._session, self.get_expiry_date())

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            log.warning("session cache unreachable: asking the database")
        return DBStore.exists(self, session_key)

    def cycle_key(self):
        """Log-in keeps the data under a new key (against session fixation). The old key held
        no log-in of this user, so with the cache unreachable its row goes and a cached copy
        is left to expire: log-in works with Redis down."""
        data, key = self._session, self.session_key
        self.create()
        self._session_cache = data
        if key:
            try:
                self.delete(key)
            except Exception:
                log.warning("session cache unreachable: the old key's copy expires by itself")
                DBStore.delete(self, key)

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache.delete(self.cache_key_prefix + session_key)  # first, and it may raise
        DBStore.delete(self, session_key)
