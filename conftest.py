"""Only for mutation testing (make mutants, docs/testing.md): nothing here applies to a plain
pytest run.

Two things make each mutant's run short:

- mutmut runs each mutant's tests fastest first and stops at the first failure, but
  pytest-django moves the tests that need no database to the end of the run, so a mutant of a
  pure module that its unit tests kill in milliseconds first waited for every database test
  that also reaches it. Under mutmut (``MUTANT_UNDER_TEST`` is set) the tests without a
  database go first again; the database tests keep pytest-django's order among themselves.
- Each mutant runs in a fresh process, which created the SQLite test database by running every
  migration (about 4 s, most of a mutant's time). Under mutmut the first process to need it
  migrates once, with no mutant active, and keeps a copy in a file
  (``.mutmut-testdb-<digest of the migrations>.sqlite3`` beside this file in ``mutants/``);
  every later one copies that file into its in-memory test database with SQLite's backup API
  (milliseconds). The migrations are not among the mutated
  modules, so every mutant would have built the same database.
"""

import fcntl
import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ
ROOT = Path(__file__).resolve().parent


def _migrations_digest() -> str:
    """A digest of every migration file: a changed migration gets a template of its own."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:12]


TEMPLATE = ROOT / f".mutmut-testdb-{_migrations_digest()}.sqlite3"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    if not UNDER_MUTMUT:
        return

    def needs_db(item) -> bool:
        fixtures = getattr(item, "fixturenames", ())
        return item.get_closest_marker("django_db") is not None or bool(
            {"db", "transactional_db", "live_server"} & set(fixtures)
        )

    items.sort(key=needs_db)  # stable: mutmut's order within each group is kept


def _build_template(connection) -> None:
    """Migrate an in-memory test database with no mutant active and save it to TEMPLATE."""
    from django.test.utils import setup_databases
    from mutmut.mutation.trampoline import set_mutant_under_test

    mutant = os.environ["MUTANT_UNDER_TEST"]
    set_mutant_under_test("")  # the original code builds it, whatever mutant this process runs
    try:
        setup_databases(verbosity=0, interactive=False, serialized_aliases=())
    finally:
        set_mutant_under_test(mutant)
    partial = TEMPLATE.with_suffix(f".{os.getpid()}.partial")
    target = sqlite3.connect(partial)
    connection.connection.backup(target)
    target.close()
    partial.replace(TEMPLATE)  # atomic: another process sees the whole file or none


if UNDER_MUTMUT:

    @pytest.fixture(scope="session")
    def django_db_setup(django_db_blocker):
        from django.db import connections

        connection = connections["default"]
        if connection.vendor != "sqlite" or len(connections.all()) != 1:
            # PostgreSQL (MUTANTS_DATABASE_URL) or a replica alias: the usual set-up.
            from django.test.utils import setup_databases, teardown_databases

            with django_db_blocker.unblock():
                old = setup_databases(verbosity=0, interactive=False)
            yield
            with django_db_blocker.unblock():
                teardown_databases(old, verbosity=0)
            return

        with django_db_blocker.unblock():
            with open(TEMPLATE.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not TEMPLATE.exists():
                    _build_template(connection)
                    built = True
                else:
                    built = False
            if not built:
                test_name = connection.creation._get_test_db_name()
                from django.conf import settings

                connection.close()
                settings.DATABASES["default"]["NAME"] = test_name
                connection.settings_dict["NAME"] = test_name
                connection.ensure_connection()
                source = sqlite3.connect(TEMPLATE)
                source.backup(connection.connection)
                source.close()
        yield
        with django_db_blocker.unblock():
            connection.close()  # the in-memory database goes with its last connection
