"""Staff, inspector and officer sessions end STAFF_SESSION_HOURS after log-in (absolute, not
renewed by activity); residents' sessions are unchanged."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import reverse

from checkins.models import GridWorker
from healthcode.models import HealthOfficer, User
from healthcode.roles import STAFF_SESSION_ENDS_KEY, has_staff_role, limit_session_if_staff
from tests.factories import PASSWORD, make_resident, make_venue
from venues import services as venue_services

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=10)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def bind_as_inspector(user):
    venue = make_venue()
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)


def logged_in_client(user) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": user.phone, "password": PASSWORD})
    assert response.status_code == 302
    return client


def sees_own_code(client) -> bool:
    response = client.get(reverse("healthcode:code"))
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_an_inspectors_session_is_alive_one_second_before_ten_hours(resident, clock):
    bind_as_inspector(resident.user)
    client = logged_in_client(resident.user)
    clock.move_to(NOW + DAY - SECOND)
    assert sees_own_code(client)


def test_an_inspectors_session_is_gone_at_ten_hours_however_active(resident, clock):
    bind_as_inspector(resident.user)
    client = logged_in_client(resident.user)
    for hours in (2, 5, 9):  # activity, even activity that writes the session, is no renewal
        clock.move_to(NOW + dt.timedelta(hours=hours))
        assert sees_own_code(client)
        session = client.session
        session["seen_at"] = hours
        session.save()
    clock.move_to(NOW + DAY)
    response = client.get(reverse("healthcode:code"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_admin_log_in_is_limited_too(staff_user, clock):
    client = Client()
    client.post(
        reverse("admin:login"),
        {"username": staff_user.phone, "password": "Staff-pass-2026!", "next": "/admin/"},
    )
    clock.move_to(NOW + DAY - SECOND)
    assert client.get(reverse("admin:index")).status_code == 200
    clock.move_to(NOW + DAY)
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_working_day_is_a_setting(resident, clock, settings):
    settings.STAFF_SESSION_HOURS = 2
    bind_as_inspector(resident.user)
    client = logged_in_client(resident.user)
    clock.move_to(NOW + dt.timedelta(hours=2))
    assert not sees_own_code(client)


def test_a_residents_session_is_unchanged(resident, clock):
    client = logged_in_client(resident.user)
    clock.move_to(NOW + dt.timedelta(days=13))  # Django's two weeks still apply
    assert sees_own_code(client)
    assert STAFF_SESSION_ENDS_KEY not in client.session


def _officer():
    user = User.objects.create_user(phone="13600000001", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="add_testpolicy"))
    return user


@pytest.mark.parametrize(
    "make_staff",
    [
        lambda u: User.objects.filter(pk=u.pk).update(is_staff=True),
        lambda u: User.objects.filter(pk=u.pk).update(is_superuser=True),
        bind_as_inspector,
        lambda u: make_venue(administrator=u),
        lambda u: GridWorker.objects.create(user=u, region_codes=["110100"]),
        lambda u: u.user_permissions.add(Permission.objects.get(codename="add_riskflag")),
        lambda u: u.user_permissions.add(Permission.objects.get(codename="add_testpolicy")),
        lambda u: HealthOfficer.objects.create(user=u, region_codes=["330100"]),
    ],
    ids=[
        "is_staff",
        "superuser",
        "inspector",
        "venue_admin",
        "grid_worker",
        "officer",
        "policy",
        "health_officer",
    ],
)
def test_each_staff_role_counts(make_staff):
    user = make_resident().user
    assert not has_staff_role(user)
    make_staff(user)
    assert has_staff_role(User.objects.get(pk=user.pk))


def test_an_inactive_account_has_no_staff_role():
    user = _officer()
    user.is_active = False
    assert not has_staff_role(user)


def _request_with_session_of(client, user):
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = user
    return request


def test_a_session_that_becomes_staff_midway_ends_a_working_day_later(resident, clock):
    client = logged_in_client(resident.user)
    clock.move_to(NOW + dt.timedelta(hours=20))
    bind_as_inspector(resident.user)
    request = _request_with_session_of(client, resident.user)
    limit_session_if_staff(request)  # what the bind view calls
    request.session.save()
    clock.move_to(NOW + dt.timedelta(hours=20) + DAY - SECOND)
    assert sees_own_code(client)
    clock.move_to(NOW + dt.timedelta(hours=20) + DAY)
    assert not sees_own_code(client)


def test_binding_again_does_not_extend_a_limited_session(resident, clock):
    bind_as_inspector(resident.user)
    client = logged_in_client(resident.user)
    clock.move_to(NOW + dt.timedelta(hours=5))
    bind_as_inspector(resident.user)
    request = _request_with_session_of(client, resident.user)
    limit_session_if_staff(request)
    request.session.save()
    clock.move_to(NOW + DAY)
    assert not sees_own_code(client)


def test_limiting_a_residents_session_does_nothing(resident, clock):
    client = logged_in_client(resident.user)
    request = _request_with_session_of(client, resident.user)
    limit_session_if_staff(request)
    request.session.save()
    clock.move_to(NOW + dt.timedelta(days=2))
    assert sees_own_code(client)


def test_binding_a_venue_on_the_page_limits_the_session(resident, clock):
    client = logged_in_client(resident.user)
    clock.move_to(NOW + dt.timedelta(hours=3))
    venue = make_venue()
    response = client.post(reverse("venues:bind"), {"declaration_code": venue.declaration_code})
    assert response.status_code == 302
    clock.move_to(NOW + dt.timedelta(hours=3) + DAY - SECOND)
    assert sees_own_code(client)
    clock.move_to(NOW + dt.timedelta(hours=3) + DAY)
    assert not sees_own_code(client)
