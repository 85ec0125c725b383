"""API tokens expire after API_TOKEN_TTL_DAYS, die with a password change, and a request
without credentials gets 401 with a WWW-Authenticate challenge."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(days=30)
EXPIRED = "登录已过期，请重新登录。"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def log_in(user, password=PASSWORD) -> str:
    response = APIClient().post(
        reverse("api-token"), {"phone": user.phone, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def my_code(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(reverse("api-me-code"))


def test_a_token_works_until_one_second_before_its_ttl(resident, clock):
    token = log_in(resident.user)
    clock.move_to(NOW + TTL - dt.timedelta(seconds=1))
    assert my_code(token).status_code == 200


def test_a_token_is_refused_at_its_ttl_with_401_and_a_chinese_detail(resident, clock):
    token = log_in(resident.user)
    clock.move_to(NOW + TTL)
    response = my_code(token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"] == EXPIRED


def test_the_ttl_is_a_setting(resident, clock, settings):
    settings.API_TOKEN_TTL_DAYS = 1
    token = log_in(resident.user)
    clock.move_to(NOW + dt.timedelta(days=1))
    assert my_code(token).status_code == 401


def test_logging_in_again_issues_a_fresh_token_and_retires_the_old_one(resident, clock):
    old = log_in(resident.user)
    clock.move_to(NOW + TTL)
    new = log_in(resident.user)
    assert new != old
    assert my_code(new).status_code == 200
    assert my_code(old).status_code == 401
    assert Token.objects.filter(user=resident.user).count() == 1


def test_a_password_change_revokes_the_token(resident, clock):
    token = log_in(resident.user)
    clock.move_to(NOW + dt.timedelta(minutes=5))
    user = resident.user
    user.set_password("New-pass-2026!")
    user.save()
    response = my_code(token)
    assert response.status_code == 401
    assert response.json()["detail"] == "密码已修改，请重新登录。"
    assert my_code(log_in(user, "New-pass-2026!")).status_code == 200


def test_a_password_change_in_the_admin_revokes_the_token(resident, clock, admin_client):
    token = log_in(resident.user)
    clock.move_to(NOW + dt.timedelta(minutes=5))
    url = reverse("admin:auth_user_password_change", args=[resident.user.pk])
    response = admin_client.post(
        url,
        {"password1": "New-pass-2026!", "password2": "New-pass-2026!", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert my_code(token).status_code == 401


def test_the_changepassword_command_revokes_the_token(resident, clock):
    token = log_in(resident.user)
    clock.move_to(NOW + dt.timedelta(minutes=5))
    with mock.patch("getpass.getpass", return_value="New-pass-2026!"):
        call_command("changepassword", resident.user.phone, stdout=mock.MagicMock())
    assert my_code(token).status_code == 401


def test_saving_other_fields_does_not_revoke_the_token(resident, clock):
    token = log_in(resident.user)
    clock.move_to(NOW + dt.timedelta(minutes=5))
    user = resident.user
    user.email = "someone@example.cn"
    user.save()
    assert my_code(token).status_code == 200


def test_no_credentials_get_401_with_a_challenge(resident):
    response = APIClient().get(reverse("api-me-code"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"]


def test_an_unknown_token_gets_401(resident):
    response = my_code("0" * 40)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_signed_in_but_not_allowed_is_still_403(resident):
    response = my_code(log_in(resident.user))
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {log_in(resident.user)}")
    response = client.post(reverse("api-codes-verify"), {"token": "x"}, format="json")
    assert response.status_code == 403


def test_the_schema_builds_with_the_token_scheme_and_the_429s(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    body = schema.json()
    token = body["components"]["securitySchemes"]["tokenAuth"]
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert {"tokenAuth": []} in body["paths"]["/api/v1/me/code"]["get"]["security"]
    assert "429" in body["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "429" in body["paths"]["/api/v1/residents"]["post"]["responses"]


def test_a_staff_members_token_lasts_a_working_day_not_a_month(resident, clock):
    from tests.factories import make_venue
    from venues import services as venue_services

    venue = make_venue()
    venue_services.inspector_bind(user=resident.user, declaration_code=venue.declaration_code)
    token = log_in(resident.user)
    clock.move_to(NOW + dt.timedelta(hours=10) - dt.timedelta(seconds=1))
    assert my_code(token).status_code == 200
    clock.move_to(NOW + dt.timedelta(hours=10))
    response = my_code(token)
    assert response.status_code == 401 and response.json()["detail"] == EXPIRED


def test_a_residents_token_outlives_the_working_day(resident, clock):
    token = log_in(resident.user)
    clock.move_to(NOW + dt.timedelta(days=20))
    assert my_code(token).status_code == 200
