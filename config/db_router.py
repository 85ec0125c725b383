"""Officers' heavy reads (the workbench's plots, trace pages, exports) from a read replica when
one is configured (``DATABASE_REPLICA_URL``); every write, every transaction and everything
else on the primary. docs/scaling.md says why: the door's reads must be current (a stale
colour is a wrong colour) and stay on the primary; an officer's chart may lag by a second.

- ``@reads_from_replica`` on a GET view runs its reads on the replica — unless the officer
  wrote something in the last ``REPLICA_PIN_SECONDS`` (``@pins_primary`` on their write views
  sets a short cookie), so the page after a POST shows what the POST did.
- Inside a transaction on the primary every read stays there (a transaction reads its own
  writes; it is also why tests, each inside one, never touch the replica unless they ask).
- Migrations run on the primary only; the replica is a copy of it.
"""

import contextvars
import functools
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
PIN_COOKIE = "primary_pin"

_on_replica = contextvars.ContextVar("reads_on_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads():
    """Reads inside this block go to the replica, if there is one."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def reads_from_replica(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or PIN_COOKIE in request.COOKIES:
            return view(request, *args, **kwargs)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapped


def pins_primary(view):
    """After a write (any POST to this view), the writer's reads stay on the primary for
    ``REPLICA_PIN_SECONDS``, longer than a healthy replica lags."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS") and replica_configured():
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _on_replica.get()
            and replica_configured()
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, copied: an object from either may refer to the other

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
