"""Schemathesis over /api/v1/schema/: every operation, fed generated input as every kind of
client, never answers with a server error. Runs in-process against the WSGI app and the test
database, so it runs on SQLite and on PostgreSQL (.ci/run)."""

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from checkins.models import Device
from config.wsgi import application
from healthcode.models import User
from tests.factories import lab_token, make_resident, make_venue, site_key
from venues import services as venue_services

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

# Bounded: each operation gets this many generated cases, each sent as every client.
EXAMPLES = 25


def _token(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


@pytest.fixture
def keep_the_test_connection():
    """Django closes the database connection at the end of each request; the test client
    stops that, and so must we, or the test's transaction on PostgreSQL is gone."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def client_headers(db, keep_the_test_connection):
    """Authorization headers for each kind of client the API serves."""
    resident = make_resident()
    officer = User.objects.create_user(phone="13600000000", password="x", is_staff=True)
    officer.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_riskflag", "add_testpolicy"])
    )
    venue = make_venue()
    inspector = User.objects.create_user(phone="13600000001", password="x")
    venue_services.inspector_bind(user=inspector, declaration_code=venue.declaration_code)
    _lab, lab_key = lab_token()
    _device, device_key = Device.create_with_key(venue=venue, name="东门闸机")
    _site, site_key_value = site_key()
    return {
        "anonymous": {},
        "resident": _token(resident.user),
        "officer": _token(officer),
        "inspector": _token(inspector),
        "lab": {"Authorization": f"Bearer {lab_key}"},
        "device": {"Authorization": f"Bearer {device_key}"},
        "site": {"Authorization": f"Bearer {site_key_value}"},
    }


# Which clients an operation is meant for, by the security schemes the schema gives it: person
# sessions and tokens (cookieAuth, tokenAuth) are tried as each kind of person; machine keys
# as the lab, the device or the vaccination site; an open operation as an anonymous caller.
PEOPLE = ("resident", "officer", "inspector")
SCHEMES = {
    "cookieAuth": PEOPLE,
    "tokenAuth": PEOPLE,
    "LabTokenAuthentication": ("lab",),
    "DeviceAuthentication": ("device",),
    "SiteKeyAuthentication": ("site",),
}


def kinds_for(operation) -> list[str]:
    kinds = []
    for requirement in operation.definition.raw.get("security", [{}]):
        for name in requirement or {"": None}:
            for kind in SCHEMES.get(name, ("anonymous",)):
                if kind not in kinds:
                    kinds.append(kind)
    return kinds


def test_every_operation_is_reached_by_a_client():
    for result in schema.get_all_operations():
        operation = result.ok()
        assert kinds_for(operation), operation.label
        assert all(
            kind in ("anonymous", *PEOPLE, "lab", "device", "site") for kind in kinds_for(operation)
        )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a CI failure reproduces
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_error_for_any_client(case, client_headers):
    for kind in kinds_for(case.operation):
        headers = client_headers[kind]
        response = case.call(headers=headers)
        assert response.status_code < 500, (kind, case.as_curl_command(headers=headers))
