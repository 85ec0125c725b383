"""A check-in is a stay: until 离开 (explicit), a check-in elsewhere, or the venue's default
stay capped at 24 h (assumed)."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import CheckIn, Device, Method, StayEnd
from checkins.services import checkin_checkout, checkin_record
from healthcode import tokens
from healthcode.models import User
from proxy_scan.services import proxy_checkin
from tests.factories import PASSWORD, lookups, make_resident, make_venue
from venues import services as venue_services
from venues.models import Venue

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 4, 14, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def supermarket():
    return make_venue(full_name="西湖区文三路联华超市", category="supermarket")  # 60 min


@pytest.fixture
def hotel():
    return make_venue(full_name="西湖区文三路如家酒店", category="hotel")  # 720 min


def arrive(resident, venue, at, **kwargs) -> CheckIn:
    checkin, _new = checkin_record(
        resident=resident, venue=venue, method=Method.SELF_SCAN, now=at, **kwargs
    )
    return checkin


def fresh(checkin) -> CheckIn:
    return CheckIn.objects.get(pk=checkin.pk)


# --- Assumed ends ------------------------------------------------------------------------------
def test_a_stay_is_assumed_to_last_the_venues_default(resident, supermarket, hotel):
    a = arrive(resident, supermarket, T0)
    assert (a.left_at, a.left_how) == (T0 + 60 * MINUTE, StayEnd.ASSUMED)
    assert not a.left_explicitly
    other = make_resident(name="李四")
    b = arrive(other, hotel, T0)
    assert b.left_at == T0 + 720 * MINUTE


def test_an_assumed_end_is_capped_at_24_hours(resident, supermarket):
    Venue.objects.filter(pk=supermarket.pk).update(default_stay_minutes=24 * 60 + 1)
    supermarket.refresh_from_db()
    assert arrive(resident, supermarket, T0).left_at == T0 + dt.timedelta(hours=24)


# --- A check-in elsewhere ends the open stay -----------------------------------------------------
def test_a_check_in_elsewhere_ends_the_previous_stay_there_and_then(resident, supermarket, hotel):
    first = arrive(resident, supermarket, T0)
    second = arrive(resident, hotel, T0 + 20 * MINUTE)
    first = fresh(first)
    assert (first.left_at, first.left_how) == (T0 + 20 * MINUTE, StayEnd.NEXT_CHECKIN)
    assert not first.left_explicitly
    assert fresh(second).left_how == StayEnd.ASSUMED


def test_a_stay_already_over_is_not_touched(resident, supermarket, hotel):
    first = arrive(resident, supermarket, T0)
    arrive(resident, hotel, T0 + 61 * MINUTE)  # the assumed hour had passed
    assert (fresh(first).left_at, fresh(first).left_how) == (T0 + 60 * MINUTE, StayEnd.ASSUMED)


def test_a_checked_out_stay_keeps_its_check_out(resident, supermarket, hotel):
    first = arrive(resident, supermarket, T0)
    checkin_checkout(checkin=first, now=T0 + 5 * MINUTE)
    arrive(resident, hotel, T0 + 10 * MINUTE)
    assert (fresh(first).left_at, fresh(first).left_how) == (T0 + 5 * MINUTE, StayEnd.CHECKOUT)


def test_scanning_again_at_the_same_venue_does_not_end_the_visit(resident, supermarket):
    first = arrive(resident, supermarket, T0)
    again = arrive(resident, supermarket, T0 + 30 * MINUTE)  # past the repeat window: a new row
    assert again != first
    assert fresh(first).left_how == StayEnd.ASSUMED
    assert fresh(first).left_at == T0 + 60 * MINUTE


def test_back_at_the_first_venue_after_another_is_a_new_visit(resident, supermarket, hotel):
    """A → B → A within the repeat window: the second A is not a repeat of the first (the
    person went elsewhere in between), and it ends the stay at B."""
    a1 = arrive(resident, supermarket, T0)
    b = arrive(resident, hotel, T0 + 2 * MINUTE)
    a2 = arrive(resident, supermarket, T0 + 4 * MINUTE)
    assert a2 not in (a1, b)
    assert (fresh(b).left_at, fresh(b).left_how) == (T0 + 4 * MINUTE, StayEnd.NEXT_CHECKIN)
    assert fresh(a1).left_at == T0 + 2 * MINUTE


def test_another_persons_stay_is_not_ended(resident, supermarket, hotel):
    other = make_resident(name="李四")
    theirs = arrive(other, supermarket, T0)
    arrive(resident, hotel, T0 + 5 * MINUTE)
    assert fresh(theirs).left_how == StayEnd.ASSUMED


def test_a_proxy_check_in_is_the_helped_persons_stay_not_the_helpers(resident, supermarket, hotel):
    helper = resident
    mine = arrive(helper, supermarket, T0)
    elder = make_resident(name="王秀英")
    elders_earlier = arrive(elder, supermarket, T0 - 10 * MINUTE)
    with time_machine.travel(T0 + 5 * MINUTE, tick=False):
        helped = proxy_checkin(
            helper=helper.user,
            venue=hotel,
            way="id_card",
            name="王秀英",
            id_number=elder.id_number,
        )
    assert helped.resident == elder
    assert fresh(mine).left_how == StayEnd.ASSUMED  # the helper is still where they were
    assert fresh(elders_earlier).left_at == T0 + 5 * MINUTE


# --- Check-out ---------------------------------------------------------------------------------
def test_checkout_is_explicit_and_the_first_one_counts(resident, supermarket):
    stay = arrive(resident, supermarket, T0)
    checkin_checkout(checkin=stay, now=T0 + 15 * MINUTE)
    checkin_checkout(checkin=stay, now=T0 + 40 * MINUTE)
    stay = fresh(stay)
    assert (stay.left_at, stay.left_how) == (T0 + 15 * MINUTE, StayEnd.CHECKOUT)
    assert stay.left_explicitly


def test_a_late_checkout_extends_the_stay_up_to_24_hours(resident, supermarket):
    stay = arrive(resident, supermarket, T0)
    checkin_checkout(checkin=stay, now=T0 + 3 * dt.timedelta(hours=1))
    assert fresh(stay).left_at == T0 + dt.timedelta(hours=3)
    other = arrive(make_resident(name="李四"), supermarket, T0)
    checkin_checkout(checkin=other, now=T0 + dt.timedelta(days=2))
    assert fresh(other).left_at == T0 + dt.timedelta(hours=24)


def test_the_leave_button_on_the_result_page(client, resident, supermarket):
    stay = arrive(resident, supermarket, timezone.now() - 10 * MINUTE)
    client.force_login(resident.user)
    url = reverse("checkins:result", args=[stay.public_id])
    page = client.get(url).content.decode()
    assert reverse("checkins:leave", args=[stay.public_id]) in page and "离开" in page
    assert client.get(reverse("checkins:leave", args=[stay.public_id])).status_code == 405
    assert fresh(stay).left_how == StayEnd.ASSUMED  # a GET changes nothing

    response = client.post(reverse("checkins:leave", args=[stay.public_id]))
    assert response.status_code == 302 and response["Location"] == url
    assert fresh(stay).left_how == StayEnd.CHECKOUT
    assert "已离开" in client.get(url).content.decode()


def test_nobody_else_can_end_my_stay(client, resident, supermarket):
    stay = arrive(resident, supermarket, timezone.now())
    client.force_login(make_resident(name="李四").user)
    assert client.post(reverse("checkins:leave", args=[stay.public_id])).status_code == 404
    assert fresh(stay).left_how == StayEnd.ASSUMED
    client.logout()
    response = client.post(reverse("checkins:leave", args=[stay.public_id]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert fresh(stay).left_how == StayEnd.ASSUMED


# --- Exit scans --------------------------------------------------------------------------------
@pytest.fixture
def inspector(supermarket):
    user = User.objects.create_user(phone="13522226666", password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=supermarket.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    return api


def token_for(resident) -> str:
    return tokens.issue_for(resident.health_code, now=timezone.now()).token


def test_the_inspectors_exit_scan_checks_out(inspector, resident, supermarket):
    stay = arrive(resident, supermarket, timezone.now() - 10 * MINUTE)
    body = inspector.post(
        reverse("api-inspect-checkout"),
        {"venue": supermarket.pk, "code": token_for(resident)},
        format="json",
    ).json()
    assert body["checked_out"] is True and body["name"] == resident.masked_name
    assert fresh(stay).left_how == StayEnd.CHECKOUT
    lookup = lookups().get(subject=resident)
    assert lookup.venue_name == supermarket.full_name


def test_an_exit_scan_with_no_open_stay_writes_nothing(inspector, resident, supermarket, hotel):
    elsewhere = arrive(resident, hotel, timezone.now() - 10 * MINUTE)
    body = inspector.post(
        reverse("api-inspect-checkout"),
        {"venue": supermarket.pk, "code": token_for(resident)},
        format="json",
    ).json()
    assert (body["checked_out"], body["left_at"]) == (False, None)
    assert fresh(elsewhere).left_how == StayEnd.ASSUMED


def test_another_venues_inspector_cannot_check_out(inspector, resident, hotel):
    stay = arrive(resident, hotel, timezone.now())
    response = inspector.post(
        reverse("api-inspect-checkout"), {"venue": hotel.pk, "code": token_for(resident)}
    )
    assert response.status_code == 403
    assert fresh(stay).left_how == StayEnd.ASSUMED


def test_a_device_exit_scan_checks_out_at_its_venue(resident, supermarket):
    stay = arrive(resident, supermarket, timezone.now() - 10 * MINUTE)
    _row, key = Device.create_with_key(venue=supermarket, name="出口闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api.post(reverse("api-devices-checkout"), {"code": token_for(resident)})
    assert response.status_code == 200 and response.json()["checked_out"] is True
    assert fresh(stay).left_how == StayEnd.CHECKOUT
    forged = api.post(reverse("api-devices-checkout"), {"code": "forged"})
    assert forged.status_code == 400


def test_my_record_says_how_each_stay_ended(client, resident, supermarket, hotel):
    now = timezone.now()
    first = arrive(resident, supermarket, now - 30 * MINUTE)
    arrive(resident, hotel, now - 10 * MINUTE)
    client.force_login(resident.user)
    visits = client.get(reverse("api-me-record")).json()["checkins"]
    assert [(v["venue"], v["left_how"]) for v in visits] == [
        (hotel.full_name, StayEnd.ASSUMED),
        (supermarket.full_name, StayEnd.NEXT_CHECKIN),
    ]
    assert visits[1]["left_how_label"] == "在其他场所扫码时结束"
    assert fresh(first).left_at == now - 10 * MINUTE


def test_an_exit_scan_with_a_token_used_at_another_venue_is_refused(
    inspector, resident, supermarket, hotel
):
    """A screenshot forwarded from another venue's door must not end anyone's stay."""
    token = token_for(resident)
    at_hotel, _new = checkin_record(
        resident=resident, venue=hotel, method=Method.DEVICE, token=token
    )
    here = arrive(resident, supermarket, timezone.now() - 5 * MINUTE)
    response = inspector.post(
        reverse("api-inspect-checkout"), {"venue": supermarket.pk, "code": token}, format="json"
    )
    assert response.status_code == 409
    assert fresh(here).left_how == StayEnd.ASSUMED
    assert fresh(at_hotel).left_how == StayEnd.ASSUMED
