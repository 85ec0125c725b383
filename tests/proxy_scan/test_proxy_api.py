"""帮扫 through the API (POST /api/v1/proxy-checkins): the same four ways and refusals as the
page, as field errors; the reasons only for a bound member."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from checkins.models import CheckIn, Method
from healthcode.models import Resident
from proxy_scan import services
from tests.factories import add_flag, make_resident, make_venue, resident_id
from venues import codes
from venues import services as venue_services

pytestmark = pytest.mark.django_db

ELDER_ID = resident_id(region="330106", birth="19480305", seq=81)
URL = "/api/v1/proxy-checkins"


@pytest.fixture
def venue():
    return make_venue()


@pytest.fixture
def elder():
    elder = make_resident(name="王秀英", id_number=ELDER_ID)
    Resident.objects.filter(pk=elder.pk).update(citizen_card="A3301009")
    add_flag(elder, "fever_clinic")
    return elder


@pytest.fixture
def api(resident):
    client = APIClient()
    client.force_authenticate(resident.user)
    client.user = resident.user
    return client


def poster(venue) -> str:
    return codes.make(public_id=venue.public_id, version=venue.poster_version)


def test_the_url_is_where_the_docs_say():
    assert reverse("api-proxy-checkins") == URL


def test_by_id_number_checks_that_person_in_without_telling_the_reason(api, elder, venue):
    response = api.post(
        URL,
        {"venue_code": poster(venue), "way": "id_card", "name": "王秀英", "id_number": ELDER_ID},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    (checkin,) = CheckIn.objects.all()
    assert (checkin.resident, checkin.helper, checkin.method) == (
        elder,
        api.user,
        Method.PROXY_ID_CARD,
    )
    assert (body["name"], body["colour"], body["passed"]) == ("王*英", "yellow", False)
    assert body["checkin_id"] == str(checkin.public_id)
    assert "reasons" not in body and ELDER_ID not in str(body)


def test_by_citizen_card(api, elder, venue):
    response = api.post(
        URL,
        {
            "venue_code": poster(venue),
            "way": "citizen_card",
            "name": "王秀英",
            "citizen_card": "a3301009",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert CheckIn.objects.get().method == Method.PROXY_CITIZEN_CARD


def test_a_bound_member_with_the_reason(api, resident, venue):
    binding = services.family_member_bind(
        holder=resident,
        name="王小宝",
        id_type="resident_id",
        id_number=resident_id(region="330106", birth="20170910", seq=82),
        relationship="child",
    )
    add_flag(binding.member, "symptoms")
    response = api.post(
        URL,
        {"venue_code": poster(venue), "way": "family", "binding_id": str(binding.public_id)},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [r["code"] for r in response.json()["reasons"]] == ["symptoms"]
    assert CheckIn.objects.get().resident == binding.member


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"way": "id_card", "name": "王秀兰", "id_number": ELDER_ID}, 400, "detail"),
        ({"way": "id_card", "name": "王秀英", "id_number": ELDER_ID[:-1] + "0"}, 400, "id_number"),
        ({"way": "by_magic"}, 400, "way"),
        ({"way": "family", "binding_id": "00000000-0000-0000-0000-000000000000"}, 404, "detail"),
        ({"way": "paper_code", "token": "HP1.forged"}, 400, "token"),
    ],
)
def test_refusals_are_field_errors_and_record_nothing(api, elder, venue, body, status, field):
    response = api.post(URL, {"venue_code": poster(venue), **body}, format="json")
    assert response.status_code == status, response.content
    assert field in response.json()
    assert not CheckIn.objects.exists()


def test_a_mismatch_says_xinxi_bufu_without_saying_which_part(api, elder, venue):
    response = api.post(
        URL,
        {"venue_code": poster(venue), "way": "id_card", "name": "王秀兰", "id_number": ELDER_ID},
        format="json",
    )
    assert response.json()["detail"] == "信息不符，请核对姓名和身份证号码。"


def test_a_forged_or_replaced_venue_code_is_404_on_the_field(api, elder, venue):
    old = poster(venue)
    venue_services.poster_reissue(venue=venue)
    for code in ("not-a-code", old[:-2] + "xx", old):
        response = api.post(
            URL,
            {"venue_code": code, "way": "id_card", "name": "王秀英", "id_number": ELDER_ID},
            format="json",
        )
        assert response.status_code == 404 and "venue_code" in response.json()
    assert not CheckIn.objects.exists()


def test_an_unapproved_venue_is_403(api, elder):
    venue = make_venue(status="pending")
    response = api.post(
        URL,
        {"venue_code": poster(venue), "way": "id_card", "name": "王秀英", "id_number": ELDER_ID},
        format="json",
    )
    assert response.status_code == 403
    assert not CheckIn.objects.exists()


def test_anonymous_is_refused(elder, venue):
    response = APIClient().post(
        URL,
        {"venue_code": poster(venue), "way": "id_card", "name": "王秀英", "id_number": ELDER_ID},
        format="json",
    )
    assert response.status_code in (401, 403)
    assert not CheckIn.objects.exists()
