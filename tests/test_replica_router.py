"""Officers' heavy reads go to the read replica when one is configured, everything else to the
primary (config/db_router.py). The replica here is a second database alias on the same server,
pointing at the test database (as a mirror would): which connection served a query is what is
asserted."""

import json

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from config import db_router
from healthcode.models import Resident
from tests.factories import make_officer, make_resident
from tests.test_settings_and_deploy import manage

REPLICA = db_router.REPLICA


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup):
    """A second alias for the test database, for this module only. Module-scoped so that it
    exists before each test's database access is set up (pytest-django lets a test reach only
    the aliases it names, and checks them then)."""
    connections.settings[REPLICA] = dict(connections["default"].settings_dict)
    yield
    connections[REPLICA].close()
    del connections.settings[REPLICA]
    delattr(connections._connections, REPLICA)


replica_db = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def officer_client(client):
    officer = make_officer(phone="13611112222", region_codes=("110105", "330106"))
    client.force_login(officer.user)
    return client


def queries_on(alias, request):
    with CaptureQueriesContext(connections[alias]) as replica_queries:
        response = request()
    return response, [q["sql"] for q in replica_queries.captured_queries]


@replica_db
def test_the_workbench_reads_its_plots_from_the_replica(officer_client):
    response, on_replica = queries_on(REPLICA, lambda: officer_client.get("/officer/"))
    assert response.status_code == 200
    assert any("checkins_checkin" in sql for sql in on_replica)
    assert any("tracing_colourcount" in sql for sql in on_replica)
    # The session and the log-in are read before the view, on the primary.
    assert not any("django_session" in sql for sql in on_replica)


@replica_db
def test_after_a_write_the_officer_reads_the_primary(officer_client):
    person = make_resident()
    response, on_replica = queries_on(
        REPLICA,
        lambda: officer_client.post(
            "/officer/cases/new/",
            {
                "id_type": person.id_type,
                "id_number": person.id_number,
                "onset_at": "2026-11-20T08:00",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert on_replica == []  # a write view never reads the replica
    assert response.cookies[db_router.PIN_COOKIE]["max-age"] == 10
    # The page the POST led to, and the workbench while pinned: all on the primary.
    response, on_replica = queries_on(REPLICA, lambda: officer_client.get(response["Location"]))
    assert response.status_code == 200 and on_replica == []
    response, on_replica = queries_on(REPLICA, lambda: officer_client.get("/officer/"))
    assert response.status_code == 200 and on_replica == []


@replica_db
def test_inside_a_transaction_reads_stay_on_the_primary():
    make_resident()
    with db_router.replica_reads():
        assert db_router.ReplicaRouter().db_for_read(Resident) == REPLICA
        with transaction.atomic():
            assert db_router.ReplicaRouter().db_for_read(Resident) == "default"
            with CaptureQueriesContext(connections[REPLICA]) as on_replica:
                assert Resident.objects.count() == 1
            assert on_replica.captured_queries == []


def test_writes_and_migrations_go_to_the_primary_only():
    router = db_router.ReplicaRouter()
    with db_router.replica_reads():
        assert router.db_for_write(Resident) == "default"
    assert router.allow_migrate("default", "healthcode") is True
    assert router.allow_migrate(REPLICA, "healthcode") is False


def test_database_replica_url_adds_a_mirrored_alias():
    code = (
        "import json; from django.conf import settings; d = settings.DATABASES; "
        "print(json.dumps({k: d[k]['TEST'].get('MIRROR') for k in d}))"
    )
    result = manage(
        "shell", "-c", code, DEBUG="1", DATABASE_REPLICA_URL="postgres://reader@replica.internal/hc"
    )
    databases = json.loads(result.stdout.strip().splitlines()[-1])
    assert databases == {"default": None, "replica": "default"}, result.stderr
