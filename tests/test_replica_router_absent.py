"""Without DATABASE_REPLICA_URL (the embedded default, and most deployments) the router sends
everything to the one database, and the officers' pages work as before."""

import pytest

from config import db_router
from healthcode.models import Resident
from tests.factories import make_officer


@pytest.mark.django_db
def test_without_a_replica_everything_reads_the_primary(client):
    assert not db_router.replica_configured()
    with db_router.replica_reads():
        assert db_router.ReplicaRouter().db_for_read(Resident) == "default"
    officer = make_officer(phone="13611113333", region_codes=("330106",))
    client.force_login(officer.user)
    assert client.get("/officer/").status_code == 200
