import datetime as dt
import uuid

import pytest
import time_machine
from django.http import HttpRequest
from django.urls import reverse
from rest_framework.test import APIClient

from healthcode import tokens
from tests.factories import PASSWORD, add_flag, lookups, make_resident, tampered_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_me_code_with_a_token_from_log_in(api, resident):
    response = api.post(
        reverse("api-token"), {"phone": resident.user.phone, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        body = api.get(reverse("api-me-code")).json()
    assert body["colour"] == "green"
    assert body["colour_label"] == "绿码"
    assert [(r["code"], r["text"]) for r in body["reasons"]] == [("no_abnormality", "未见异常")]
    assert body["test"]["state"] == "none" and body["test"]["line"] == "暂无核酸检测记录"
    assert body["refresh_seconds"] == 60
    assert dt.datetime.fromisoformat(body["token_expires_at"]) == now + dt.timedelta(seconds=300)
    assert tokens.read(body["token"], now=now) == resident.public_id


def test_token_log_in_with_a_wrong_password(api, resident):
    response = api.post(
        reverse("api-token"), {"phone": resident.user.phone, "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "不正确" in response.json()["detail"]


def test_me_code_with_a_session(api, resident):
    api.force_authenticate(user=None)
    # django-axes needs the request every authentication comes with; a bare one will do.
    assert api.login(request=HttpRequest(), phone=resident.user.phone, password=PASSWORD)
    assert api.get(reverse("api-me-code")).json()["colour"] == "green"


def test_me_code_needs_authentication(api):
    response = api.get(reverse("api-me-code"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def _token_for(resident, now):
    return tokens.issue_for(resident.health_code, now=now).token


def _status(resident):
    return tokens.status_of(resident.health_code)


def test_verify_returns_the_masked_person_and_live_status_and_records_the_lookup(
    api, resident, staff_user
):
    add_flag(resident, "fever_clinic")
    api.force_authenticate(staff_user)
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        response = api.post(
            reverse("api-codes-verify"), {"token": _token_for(resident, now)}, format="json"
        )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == resident.masked_name
    assert body["id_number"] == resident.masked_id_number
    assert body["colour"] == "yellow"
    assert body["reasons"][0]["code"] == "fever_clinic"
    assert resident.id_number not in response.content.decode()
    lookup = lookups().get()
    assert (lookup.actor, lookup.subject, lookup.action) == (staff_user, resident, "api_verify")


@pytest.mark.parametrize(
    ("make_token", "problem"),
    [
        (lambda r, now: "not-a-code", "malformed"),
        (lambda r, now: tampered_token(_token_for(r, now)), "bad_signature"),
        (
            lambda r, now: (
                tokens.issue(public_id=r.public_id, now=now, status=_status(r), key="x" * 50).token
            ),
            "bad_signature",
        ),
        (lambda r, now: _token_for(r, now - dt.timedelta(seconds=300)), "expired"),
        (
            lambda r, now: tokens.issue(public_id=uuid.uuid4(), now=now, status=_status(r)).token,
            "unknown",
        ),
    ],
)
def test_verify_refuses_bad_tokens_with_the_reason_and_records_nothing(
    api, resident, staff_user, make_token, problem
):
    api.force_authenticate(staff_user)
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        response = api.post(
            reverse("api-codes-verify"), {"token": make_token(resident, now)}, format="json"
        )
    assert response.status_code == 400
    assert response.json()["code"] == problem
    assert response.json()["token"][0]
    assert lookups().count() == 0


def test_verify_is_staff_only(api, resident):
    other = make_resident()
    api.force_authenticate(other.user)
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        response = api.post(
            reverse("api-codes-verify"), {"token": _token_for(resident, now)}, format="json"
        )
    assert response.status_code == 403
    assert lookups().count() == 0


def test_openapi_schema_and_docs(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/residents", "/api/v1/me/code", "/api/v1/codes/verify"):
        assert path in paths
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn.jsdelivr" not in docs.content  # served locally, works offline
