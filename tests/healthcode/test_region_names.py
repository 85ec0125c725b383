"""Region names from the vendored GB/T 2260 table, and the forms' check of a code against it."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from healthcode import regions
from healthcode.models import Resident, User
from tests.factories import PASSWORD, credit_code, make_officer, make_venue, registration_data
from venues.models import Venue


@pytest.mark.parametrize(
    ("code", "full", "short"),
    [
        ("330106", "浙江省杭州市西湖区", "杭州市西湖区"),
        ("110105", "北京市朝阳区", "北京市朝阳区"),  # 市辖区 is no place; Beijing stays
        ("441900", "广东省东莞市", "东莞市"),  # a city with no counties, not 东莞市东莞市
        ("429004", "湖北省仙桃市", "湖北省仙桃市"),  # 省直辖县级行政区划 left out
        ("330100", "浙江省杭州市", "杭州市"),
        ("330000", "浙江省", "浙江省"),
        ("810000", "香港特别行政区", "香港特别行政区"),
    ],
)
def test_region_name_full_and_short(code, full, short):
    assert regions.region_name(code) == full
    assert regions.region_name(code, short=True) == short
    assert regions.is_known(code)


@pytest.mark.parametrize("code", ["330199", "999999", "330171", "33010", "", "33010a"])
def test_a_code_not_in_the_table_is_shown_as_it_is(code):
    # 330171-style codes are statistics-only zones, dropped when vendoring.
    assert regions.region_name(code) == code
    assert not regions.is_known(code)


def test_the_table_is_read_once(monkeypatch):
    regions._table.cache_clear()
    regions._names.cache_clear()
    reads = []
    real_load = json.load
    monkeypatch.setattr(json, "load", lambda f: reads.append(f.name) or real_load(f))
    for code in ["330106", "110105", "330106", "441900"]:
        regions.region_name(code)
    assert len(reads) == 1 and reads[0].endswith("regions_gbt2260.json")


def test_the_table_has_every_province_and_a_plausible_number_of_counties():
    table = regions._table()
    assert len(table["provinces"]) == 34
    assert 2800 < len(table["counties"]) < 3000
    assert all(len(c) == 6 and c[4] != "7" for c in table["counties"])


@pytest.mark.parametrize(
    ("raw", "expected"), [("330106", "330106"), ("３３０１０６", "330106"), ("441900", "441900")]
)
def test_clean_county_code_accepts_counties_in_the_table(raw, expected):
    assert regions.clean_county_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("330199", "行政区划代码 330199 不在国家行政区划代码表中"),
        ("330100", "区县一级"),  # a city, though in the table
        ("1101", "6位数字"),
    ],
)
def test_clean_county_code_refuses(raw, message):
    with pytest.raises(ValidationError) as exc:
        regions.clean_county_code(raw)
    assert message in exc.value.messages[0]


@pytest.mark.django_db
def test_registration_page_refuses_a_code_not_in_the_table_and_saves_nothing(client):
    data = registration_data(region_code="330199")
    response = client.post(reverse("healthcode:register"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "行政区划代码 330199 不在国家行政区划代码表中" in body
    assert not Resident.objects.exists() and not User.objects.exists()
    ok = client.post(reverse("healthcode:register"), registration_data(region_code="441900"))
    assert ok.status_code == 302
    assert Resident.objects.get().region_code == "441900"


@pytest.mark.django_db
def test_registration_api_refuses_a_code_not_in_the_table():
    api = APIClient()
    data = registration_data(region_code="330199")
    response = api.post(reverse("api-residents"), data, format="json")
    assert response.status_code == 400
    assert "不在国家行政区划代码表中" in json.dumps(response.json(), ensure_ascii=False)
    assert not Resident.objects.exists()


@pytest.mark.django_db
def test_venue_declaration_refuses_a_code_not_in_the_table_and_shows_names(client):
    admin = User.objects.create_user(phone="13500000077", password=PASSWORD)
    client.force_login(admin)
    declaration = {
        "full_name": "文三路小学",
        "region_code": "330199",
        "address": "文三路 1 号",
        "category": "school",
        "credit_code": credit_code(),
        "entry_rule": "48",
    }
    page = client.post(reverse("venues:home"), declaration)
    assert "行政区划代码 330199 不在国家行政区划代码表中" in page.content.decode()
    assert not Venue.objects.exists()
    client.post(reverse("venues:home"), {**declaration, "region_code": "330106"})
    assert Venue.objects.get().region_code == "330106"
    assert "浙江省杭州市西湖区" in client.get(reverse("venues:home")).content.decode()


@pytest.mark.django_db
def test_officer_queue_names_regions(client):
    officer = make_officer(region_codes=["330100"])
    make_venue(status="pending", region_code="330105")
    client.force_login(officer.user)
    body = client.get(reverse("venues:officer-queue")).content.decode()
    assert "负责区域：浙江省杭州市" in body
    assert "浙江省杭州市拱墅区" in body
