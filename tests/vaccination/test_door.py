"""A venue that requires vaccination (off by default) stops a person with no dose on record,
with its reason, on every door path, and lets the vaccinated in; a venue that does not
require it stops nobody for it. The rule itself is the engine's (test_engine_rule.py)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import Alert, CheckIn, Device
from checkins.services import checkin_record
from healthcode import tokens
from healthcode.models import User
from tests.factories import PASSWORD, give_doses, make_resident, make_venue, post_result
from venues import codes
from venues import services as venue_services

pytestmark = pytest.mark.django_db

REASON = "本场所要求接种新冠疫苗，未查到接种记录，禁止通行"


@pytest.fixture
def strict():
    return make_venue(full_name="文三路体育馆", requires_vaccination=True)


@pytest.fixture
def person(resident):
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )
    return resident


def token_for(resident) -> str:
    return tokens.issue_for(resident.health_code, now=timezone.now()).token


def test_off_by_default():
    assert make_venue().requires_vaccination is False


def test_self_scan_stops_the_unvaccinated_with_the_reason_and_raises_no_alert(
    client, person, strict
):
    client.force_login(person.user)
    code = codes.make(public_id=strict.public_id, version=strict.poster_version)
    response = client.post(reverse("checkins:scan", args=[code]))
    checkin = CheckIn.objects.get()
    assert (checkin.decision, checkin.decision_code) == ("stop", "not_vaccinated")
    page = client.get(response["Location"]).content.decode()
    assert REASON in page and "未接种" in page
    assert not Alert.objects.exists()  # the venue's own rule, not a risk to follow up


def test_the_vaccinated_pass(person, strict):
    give_doses(person, ["2021-04-01"])
    checkin, _new = checkin_record(resident=person, venue=strict, method="self_scan")
    assert (checkin.decision, checkin.decision_text) == ("pass", "绿码，可以通行")


def test_a_venue_not_requiring_it_lets_the_unvaccinated_in(person):
    checkin, _new = checkin_record(resident=person, venue=make_venue(), method="self_scan")
    assert checkin.decision == "pass"


def test_a_red_code_is_stopped_for_its_colour_first(strict):
    from tests.factories import add_flag

    person = make_resident()
    add_flag(person, "close_contact")
    checkin, _new = checkin_record(resident=person, venue=strict, method="self_scan")
    assert checkin.decision_code == "red"


def test_the_inspectors_verify_and_confirm_stop_the_unvaccinated(person, strict):
    user = User.objects.create_user(phone="13522228000", password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=strict.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    body = api.post(
        reverse("api-inspect-verify"), {"venue": strict.pk, "code": token_for(person)}, "json"
    ).json()
    assert (body["passed"], body["decision"]) == (False, REASON)
    assert not CheckIn.objects.exists()
    body = api.post(
        reverse("api-inspect-confirm"),
        {"venue": strict.pk, "code": token_for(person), "temperature_band": "normal"},
        format="json",
    ).json()
    assert (body["passed"], body["decision"]) == (False, REASON)
    give_doses(person, ["2021-04-01"])
    body = api.post(
        reverse("api-inspect-verify"), {"venue": strict.pk, "code": token_for(person)}, "json"
    ).json()
    assert body["passed"] is True


def test_the_device_stops_the_unvaccinated(person, strict):
    _row, key = Device.create_with_key(venue=strict, name="东门闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = api.post(reverse("api-devices-verify"), {"code": token_for(person)}, "json").json()
    assert (body["decision"], body["reason"]) == ("stop", REASON)
    assert body["vaccination"]["text"] == "未接种"


def test_proxy_scan_stops_the_unvaccinated(resident, strict):
    elder = make_resident(name="王秀英")
    now = timezone.now()
    post_result(
        id_number=elder.id_number,
        name=elder.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )
    api = APIClient()
    api.force_authenticate(resident.user)
    body = api.post(
        reverse("api-proxy-checkins"),
        {
            "venue_code": codes.make(public_id=strict.public_id, version=strict.poster_version),
            "way": "id_card",
            "name": "王秀英",
            "id_number": elder.id_number,
        },
        format="json",
    ).json()
    assert (body["passed"], body["decision"]) == (False, REASON)


def test_the_administrator_declares_and_switches_the_requirement(client):
    from tests.factories import credit_code

    admin = User.objects.create_user(phone="13522227000", password=PASSWORD)
    client.force_login(admin)
    form = client.get(reverse("venues:home")).content.decode()
    assert 'name="requires_vaccination"' in form and "要求接种新冠疫苗" in form
    client.post(
        reverse("venues:home"),
        {
            "full_name": "文三路体育馆",
            "region_code": "330106",
            "address": "文三路 200 号",
            "category": "other",
            "credit_code": credit_code(),
            "entry_rule": "policy",
            "requires_vaccination": "on",
        },
    )
    venue = admin.administered_venue
    assert venue.requires_vaccination is True
    # Once approved, the administrator switches it off and on without a new declaration.
    from tests.factories import make_officer

    officer = make_officer(region_codes=["330106"])
    venue_services.venue_approve(venue=venue, officer=officer)
    home = client.get(reverse("venues:home")).content.decode()
    assert 'id="vaccination-requirement"' in home and "要求接种新冠疫苗" in home
    response = client.post(reverse("venues:vaccination-requirement"), {})
    assert response.status_code == 302
    venue.refresh_from_db()
    assert venue.requires_vaccination is False
    assert "已关闭" in client.get(reverse("venues:home")).content.decode()
    client.post(reverse("venues:vaccination-requirement"), {"requires_vaccination": "on"})
    venue.refresh_from_db()
    assert venue.requires_vaccination is True


def test_only_the_venues_administrator_switches_it(client, strict):
    stranger = User.objects.create_user(phone="13522226000", password=PASSWORD)
    client.force_login(stranger)
    client.post(reverse("venues:vaccination-requirement"), {})
    strict.refresh_from_db()
    assert strict.requires_vaccination is True


def test_a_pending_venue_cannot_switch_it_yet(client):
    admin = User.objects.create_user(phone="13522225000", password=PASSWORD)
    venue = make_venue(administrator=admin, status="pending")
    client.force_login(admin)
    client.post(reverse("venues:vaccination-requirement"), {"requires_vaccination": "on"})
    venue.refresh_from_db()
    assert venue.requires_vaccination is False
