"""A health-code token works at one venue: a forwarded screenshot checks in once.

A token that has checked its holder in at a venue (an inspector's confirmation, a gate
device's pass or stop) is refused at every other venue for the rest of its life; at the same
venue a second scan is the idempotent repeat it always was. Tokens dated in the future beyond
the clock skew are refused everywhere.
"""

import datetime as dt
import threading

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import CheckIn, Device
from checkins.services import checkin_record
from healthcode import tokens
from healthcode.errors import DomainError
from healthcode.models import User
from tests.factories import PASSWORD, make_venue
from venues import services as venue_services

pytestmark = pytest.mark.django_db
USED = "已在其他场所使用，请本人刷新健康码。"


def inspector_at(venue, phone):
    user = User.objects.create_user(phone=phone, password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    return api


def device_at(venue):
    _row, key = Device.create_with_key(venue=venue, name="闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api


def confirm(api, venue, token):
    return api.post(
        reverse("api-inspect-confirm"),
        {"venue": venue.pk, "code": token, "temperature_band": "normal"},
        format="json",
    )


def verify(api, venue, token):
    return api.post(
        reverse("api-inspect-verify"), {"venue": venue.pk, "code": token}, format="json"
    )


def device_scan(api, token):
    return api.post(reverse("api-devices-verify"), {"code": token}, format="json")


@pytest.fixture
def two_venues(db):
    first, second = make_venue(full_name="甲超市"), make_venue(full_name="乙餐厅")
    return first, second


@pytest.fixture
def token(resident):
    return tokens.issue_for(resident.health_code, now=timezone.now()).token


def test_a_token_confirmed_at_one_venue_is_refused_at_another(two_venues, resident, token):
    first, second = two_venues
    assert confirm(inspector_at(first, "13511110001"), first, token).status_code == 201
    other = inspector_at(second, "13511110002")

    preview = verify(other, second, token)
    confirmed = confirm(other, second, token)
    at_gate = device_scan(device_at(second), token)

    for response in (preview, confirmed, at_gate):
        assert response.status_code == 409
        assert response.json() == {"detail": USED, "code": "token_used_elsewhere"}
    assert list(CheckIn.objects.values_list("venue", flat=True)) == [first.pk]


def test_a_token_that_passed_a_gate_is_refused_at_another_venue(two_venues, resident, token):
    first, second = two_venues
    assert device_scan(device_at(first), token).json()["decision"] == "pass"
    response = confirm(inspector_at(second, "13511110003"), second, token)
    assert response.status_code == 409
    assert CheckIn.objects.filter(venue=second).count() == 0


def test_the_same_venue_again_is_the_idempotent_repeat(two_venues, resident, token):
    first, _second = two_venues
    inspector = inspector_at(first, "13511110004")
    one = confirm(inspector, first, token).json()
    again = confirm(inspector, first, token).json()
    assert verify(inspector, first, token).status_code == 200
    assert device_scan(device_at(first), token).status_code == 200
    assert one["checkin_id"] == again["checkin_id"]
    assert CheckIn.objects.filter(venue=first, method="inspector_scan").count() == 1


def test_a_fresh_token_of_the_same_person_works_at_the_other_venue(two_venues, resident, token):
    first, second = two_venues
    confirm(inspector_at(first, "13511110005"), first, token)
    later = timezone.now() + dt.timedelta(seconds=61)  # the code page refreshes every 60 s
    with time_machine.travel(later, tick=False):
        fresh = tokens.issue_for(resident.health_code, now=later).token
        response = confirm(inspector_at(second, "13511110006"), second, fresh)
    assert response.status_code == 201


def test_the_refusal_lasts_exactly_the_tokens_life(two_venues, resident):
    first, second = two_venues
    issued = timezone.now().replace(microsecond=0)
    token = tokens.issue_for(resident.health_code, now=issued).token
    checkin_record(resident=resident, venue=first, method="device", token=token, now=issued)
    last = issued + dt.timedelta(seconds=settings.HEALTHCODE_TOKEN_TTL_SECONDS - 1)
    with pytest.raises(DomainError) as refused:
        checkin_record(resident=resident, venue=second, method="device", token=token, now=last)
    assert refused.value.status == 409
    # Past its life the token itself is refused as expired before it reaches a venue.
    with pytest.raises(tokens.TokenInvalid) as expired:
        tokens.read(token, now=last + dt.timedelta(seconds=1))
    assert expired.value.problem == tokens.TokenProblem.EXPIRED


def test_check_ins_without_a_token_are_not_bound_to_a_venue(two_venues, resident, token):
    first, second = two_venues
    checkin_record(resident=resident, venue=first, method="self_scan")
    assert confirm(inspector_at(second, "13511110007"), second, token).status_code == 201


@pytest.mark.parametrize(("ahead", "accepted"), [(30, True), (31, False)])
def test_a_token_dated_in_the_future_beyond_30_seconds_is_refused(resident, ahead, accepted):
    now = timezone.now().replace(microsecond=0)
    token = tokens.issue_for(resident.health_code, now=now + dt.timedelta(seconds=ahead)).token
    if accepted:
        assert tokens.read(token, now=now) == resident.public_id
        return
    with pytest.raises(tokens.TokenInvalid) as refused:
        tokens.read(token, now=now)
    assert refused.value.problem == tokens.TokenProblem.FUTURE


def test_a_future_token_is_refused_at_the_door_and_records_nothing(two_venues, resident):
    first, _second = two_venues
    future = timezone.now() + dt.timedelta(minutes=10)
    token = tokens.issue_for(resident.health_code, now=future).token
    response = confirm(inspector_at(first, "13511110008"), first, token)
    assert response.status_code == 400 and response.json()["problem"] == "future"
    assert "签发时间晚于当前时间" in response.json()["code"][0]
    assert not CheckIn.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_one_token_at_two_venues_at_the_same_instant_checks_in_once(resident):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; SQLite serialises whole-database writes")
    venues = [make_venue(full_name="丙商场"), make_venue(full_name="丁影院")]
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    devices = [device_at(venue) for venue in venues]
    barrier = threading.Barrier(2)
    statuses = []

    def scan(api):
        barrier.wait()
        statuses.append(device_scan(api, token).status_code)
        connection.close()

    threads = [threading.Thread(target=scan, args=(api,)) for api in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    assert CheckIn.objects.count() == 1


def test_many_later_check_ins_do_not_hide_the_tokens_first_use(two_venues, resident, token):
    first, second = two_venues
    assert confirm(inspector_at(first, "13511110009"), first, token).status_code == 201
    # 120 newer check-ins of the same person at the second venue (a gate reading their ID
    # card, the band changing each time so each is a new row).
    for n in range(120):
        checkin_record(
            resident=resident,
            venue=second,
            method="device",
            temperature_band="fever" if n % 2 else "normal",
        )
    response = device_scan(device_at(second), token)
    assert response.status_code == 409
    assert not CheckIn.objects.filter(venue=second).exclude(token_digest="").exists()
