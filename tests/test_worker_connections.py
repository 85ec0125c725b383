"""A Celery worker keeps its database connection between tasks, as a web process keeps it
between requests, and drops one that is too old or broken (config/celery.py, the
CELERY_DB_REUSE_MAX comment in config/settings.py)."""

import time
from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from config.celery import app

pytestmark = pytest.mark.django_db(transaction=True)  # connections closed outside a transaction


class Task:  # what the signals are sent with: the task, whose request says if it is eager
    def __init__(self, *, eager):
        self.request = SimpleNamespace(is_eager=eager)


def task(*, eager=False):
    return Task(eager=eager)


def opened():
    connection.ensure_connection()
    return connection.connection


def test_the_connection_outlives_a_task():
    first = opened()
    task_prerun.send(sender=task())
    task_postrun.send(sender=task())
    assert connection.connection is first
    # Celery's own fixup, as a worker installs it, does not close it either.
    DjangoWorkerFixup(app).close_database()
    assert connection.connection is first


# SQLite's in-memory test database is never closed by Django (it would be lost): PostgreSQL's CI.
closes = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="an in-memory SQLite database is never closed"
)


@closes
def test_a_connection_past_its_age_is_closed_after_the_task():
    opened()
    connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE has passed
    task_postrun.send(sender=task())
    assert connection.connection is None
    assert opened() is not None  # the next query opens a new one


@closes
def test_a_broken_connection_is_closed_before_the_next_task(monkeypatch):
    first = opened()
    connection.errors_occurred = True
    monkeypatch.setattr(connection, "is_usable", lambda: False)  # the database restarted
    task_prerun.send(sender=task())
    assert connection.connection is None
    monkeypatch.undo()
    assert opened() is not first


def test_an_eager_task_leaves_its_callers_connection_alone():
    first = opened()
    connection.close_at = time.monotonic() - 1
    task_postrun.send(sender=task(eager=True))
    assert connection.connection is first
