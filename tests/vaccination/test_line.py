"""The vaccination line (四码一屏) — 已接种 3 剂（末次 2022-01-10） / 未接种 — from the selector,
and on each page and API that shows a person's status."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import CheckIn, Device
from checkins.services import checkin_manual, checkin_record
from healthcode import tokens
from healthcode.models import User
from proxy_scan import services as proxy_services
from tests.factories import PASSWORD, give_doses, make_resident, make_venue, post_result, site_key
from vaccination.selectors import Vaccination, vaccination_line, vaccination_of
from venues import codes
from venues import services as venue_services

pytestmark = pytest.mark.django_db

THREE = ["2021-04-01", "2021-05-06", "2022-01-10"]
LINE = "已接种 3 剂（末次 2022-01-10）"


def with_test(resident):
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )


def token_for(resident) -> str:
    return tokens.issue_for(resident.health_code, now=timezone.now()).token


def test_the_line_counts_doses_and_names_the_last(resident):
    assert vaccination_line(resident=resident) == "未接种"
    give_doses(resident, THREE)
    assert vaccination_line(resident=resident) == LINE
    assert vaccination_of(resident=resident) == Vaccination(3, dt.date(2022, 1, 10))


def test_the_same_dose_from_two_sites_counts_once(resident):
    give_doses(resident, ["2021-04-01"])
    give_doses(resident, ["2021-04-01"], key=site_key("另一接种点")[0])
    assert vaccination_line(resident=resident) == "已接种 1 剂（末次 2021-04-01）"


def test_doses_of_another_document_are_not_the_persons(resident):
    give_doses(make_resident(name="李四"), THREE)
    assert vaccination_line(resident=resident) == "未接种"


def unregistered(name: str):
    """The identity a site sends before the person has an account."""
    from tests.factories import registration_data

    data = registration_data(name=name)
    return type("Unregistered", (), {k: data[k] for k in ("id_type", "id_number", "name")})


def test_doses_sent_under_another_name_before_registration_are_not_the_persons():
    sent = unregistered("王五")
    give_doses(sent, ["2021-04-01"])  # lands: nobody is registered with this number yet
    person = make_resident(name="赵敏", id_number=sent.id_number)
    assert vaccination_line(resident=person) == "未接种"


def test_a_dose_sent_before_registration_counts_from_registration():
    sent = unregistered("赵敏")
    give_doses(sent, ["2021-04-01", "2021-05-06"])
    person = make_resident(name="赵敏", id_number=sent.id_number)
    assert vaccination_line(resident=person) == "已接种 2 剂（末次 2021-05-06）"


def test_the_code_page_shows_the_line(client, resident):
    client.force_login(resident.user)
    assert "未接种" in client.get(reverse("healthcode:code")).content.decode()
    give_doses(resident, THREE)
    body = client.get(reverse("healthcode:code")).content.decode()
    assert 'id="vaccination-line"' in body and LINE in body


def test_a_family_members_code_page_shows_the_members_line(client, resident):
    member = proxy_services.family_member_bind(
        holder=resident,
        name="陈桂英",
        id_type="resident_id",
        id_number=make_resident(name="陈桂英").id_number,
        relationship="parent",
    )
    give_doses(member.member, ["2021-08-03"])
    client.force_login(resident.user)
    url = reverse("healthcode:code") + f"?member={member.public_id}"
    body = client.get(url).content.decode()
    assert "已接种 1 剂（末次 2021-08-03）" in body


def test_the_checkin_result_page_shows_the_line_as_the_door_saw_it(client, resident):
    give_doses(resident, THREE)
    checkin, _new = checkin_record(resident=resident, venue=make_venue(), method="self_scan")
    assert checkin.vaccination == {"doses": 3, "last_date": "2022-01-10"}
    give_doses(resident, ["2022-05-01"])  # a later dose does not rewrite what the door saw
    client.force_login(resident.user)
    body = client.get(reverse("checkins:result", args=[checkin.public_id])).content.decode()
    assert LINE in body


def test_the_inspectors_verdict_carries_the_line(resident):
    venue = make_venue()
    user = User.objects.create_user(phone="13522229000", password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    with_test(resident)
    give_doses(resident, THREE)
    body = api.post(
        reverse("api-inspect-verify"), {"venue": venue.pk, "code": token_for(resident)}, "json"
    ).json()
    assert body["vaccination"] == {"doses": 3, "last_date": "2022-01-10", "text": LINE}
    confirmed = api.post(
        reverse("api-inspect-confirm"),
        {"venue": venue.pk, "code": token_for(resident), "temperature_band": "normal"},
        format="json",
    ).json()
    assert confirmed["vaccination"]["text"] == LINE
    page = APIClient()
    page.force_login(user)
    body = page.get(reverse("checkins:inspect")).content.decode()
    assert 'id="p-vaccination"' in body and '"vaccination": "\\u65b0' in body  # the JS label


def test_the_device_api_answers_a_vaccination_object(resident):
    venue = make_venue()
    _row, key = Device.create_with_key(venue=venue, name="东门闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    with_test(resident)
    body = api.post(reverse("api-devices-verify"), {"code": token_for(resident)}, "json").json()
    assert body["vaccination"] == {"doses": 0, "last_date": None, "text": "未接种"}
    other = make_resident(name="李小红")  # by ID card (the same person again would be a repeat)
    with_test(other)
    give_doses(other, THREE)
    by_card = {"id_type": "resident_id", "id_number": other.id_number, "name": other.name}
    body = api.post(reverse("api-devices-verify"), by_card, "json").json()
    assert body["vaccination"] == {"doses": 3, "last_date": "2022-01-10", "text": LINE}


def test_nobody_registered_has_no_line(resident):
    venue = make_venue()
    checkin = checkin_manual(
        venue=venue,
        scanned_by=None,
        machine="device 1",
        method="device",
        name="蒋九",
        id_type="resident_id",
        id_number=resident.id_number[:-4] + "0000",
    )
    assert checkin.vaccination == {} and checkin.vaccination_line == ""


def test_proxy_scan_answers_the_line(resident):
    elder = make_resident(name="王秀英")
    give_doses(elder, ["2021-08-03", "2021-09-01"])
    api = APIClient()
    api.force_authenticate(resident.user)
    venue = make_venue()
    body = api.post(
        reverse("api-proxy-checkins"),
        {
            "venue_code": codes.make(public_id=venue.public_id, version=venue.poster_version),
            "way": "id_card",
            "name": "王秀英",
            "id_number": elder.id_number,
        },
        format="json",
    ).json()
    assert body["vaccination"]["text"] == "已接种 2 剂（末次 2021-09-01）"
    assert CheckIn.objects.get().vaccination == {"doses": 2, "last_date": "2021-09-01"}
