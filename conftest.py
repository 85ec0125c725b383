"""Only for mutation testing (make mutants, docs/testing.md): nothing here applies to a plain
pytest run.

mutmut runs each mutant's tests fastest first and stops at the first failure, but
pytest-django moves the tests that need no database to the end of the run, so a mutant of a
pure module that its unit tests kill in milliseconds first waits for every database test that
also reaches it. Under mutmut (``MUTANT_UNDER_TEST`` is set) the tests without a database go
first again; the database tests keep pytest-django's order among themselves.
"""

import os

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    if "MUTANT_UNDER_TEST" not in os.environ:
        return

    def needs_db(item) -> bool:
        fixtures = getattr(item, "fixturenames", ())
        return item.get_closest_marker("django_db") is not None or bool(
            {"db", "transactional_db", "live_server"} & set(fixtures)
        )

    items.sort(key=needs_db)  # stable: mutmut's order within each group is kept
