import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import Alert, CheckIn, GridWorker
from checkins.services import checkin_manual, checkin_record
from healthcode import tokens
from healthcode.models import User
from tests.factories import (
    PASSWORD,
    add_flag,
    lookups,
    make_resident,
    make_venue,
    post_result,
    tampered_token,
)
from venues import services as venue_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector(db):
    venue = make_venue()
    user = User.objects.create_user(phone="13522220000", password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = APIClient()
    api.force_authenticate(user)
    api.user, api.venue = user, venue
    return api


def token_for(resident, **kwargs):
    return tokens.issue_for(resident.health_code, now=kwargs.get("now", timezone.now())).token


def recent_test(resident):
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )


def test_verify_shows_masked_identity_and_status_and_records_the_lookup_only(inspector, resident):
    recent_test(resident)
    body = inspector.post(
        reverse("api-inspect-verify"),
        {"venue": inspector.venue.pk, "code": token_for(resident)},
        format="json",
    ).json()
    assert (body["name"], body["id_number"]) == (resident.masked_name, resident.masked_id_number)
    assert body["colour"] == "green" and body["passed"] is True
    assert resident.id_number not in str(body)
    assert lookups(actor=inspector.user, action="inspector_scan").count() == 1
    assert not CheckIn.objects.exists()


def test_confirm_with_fever_stops_and_alerts(inspector, resident):
    recent_test(resident)
    response = inspector.post(
        reverse("api-inspect-confirm"),
        {"venue": inspector.venue.pk, "code": token_for(resident), "temperature_band": "fever"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["passed"] is False and "体温异常" in response.json()["decision"]
    checkin = CheckIn.objects.get()
    assert (checkin.method, checkin.scanned_by, checkin.temperature_band) == (
        "inspector_scan",
        inspector.user,
        "fever",
    )
    alert = Alert.objects.get()
    assert (alert.kind, alert.venue, alert.region_code) == ("fever", inspector.venue, "110105")
    assert lookups().get().action == "inspector_confirm"


def test_confirm_normal_green_passes_without_alert(inspector, resident):
    recent_test(resident)
    body = inspector.post(
        reverse("api-inspect-confirm"),
        {"venue": inspector.venue.pk, "code": token_for(resident), "temperature_band": "normal"},
        format="json",
    ).json()
    assert body["passed"] is True
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("make_token", "problem", "text"),
    [
        (lambda r: "garbage", "malformed", "无效码"),
        (lambda r: tampered_token(token_for(r)), "bad_signature", "无效码"),
        (
            lambda r: token_for(r, now=timezone.now() - dt.timedelta(seconds=301)),
            "expired",
            "已过期",
        ),
    ],
)
def test_forged_and_expired_codes_record_nothing(inspector, resident, make_token, problem, text):
    for url in ("api-inspect-verify", "api-inspect-confirm"):
        response = inspector.post(
            reverse(url),
            {
                "venue": inspector.venue.pk,
                "code": make_token(resident),
                "temperature_band": "normal",
            },
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["problem"] == problem and text in response.json()["code"][0]
    assert not CheckIn.objects.exists() and not lookups().exists()


def test_an_inspector_of_another_venue_gets_403(inspector, resident):
    other = make_venue()
    for url in ("api-inspect-verify", "api-inspect-confirm"):
        response = inspector.post(
            reverse(url),
            {"venue": other.pk, "code": token_for(resident), "temperature_band": "normal"},
            format="json",
        )
        assert response.status_code == 403
    assert not CheckIn.objects.exists() and not lookups().exists()


def test_red_and_yellow_and_overdue_check_ins_alert_once(resident):
    venue = make_venue()
    add_flag(resident, "close_contact")
    checkin_record(resident=resident, venue=venue, method="self_scan")
    checkin_record(resident=resident, venue=venue, method="self_scan")  # the same visit
    assert list(Alert.objects.values_list("kind", flat=True)) == ["red"]
    late = make_resident()
    checkin_record(resident=late, venue=make_venue(entry_rule="24"), method="self_scan")
    assert Alert.objects.filter(resident=late).get().kind == "test_overdue"


def test_manual_registration(resident):
    venue = make_venue()
    inspector = User.objects.create_user(phone="13522220009", password=PASSWORD)
    known = checkin_manual(
        venue=venue,
        scanned_by=inspector,
        name=resident.name,
        id_type=resident.id_type,
        id_number=resident.id_number,
    )
    assert known.resident == resident and known.method == "manual"
    stranger = checkin_manual(
        venue=venue,
        scanned_by=inspector,
        name="周老伯",
        id_type="resident_id",
        id_number="11010519491231002X",
        phone="13900001111",
    )
    assert stranger.resident is None and stranger.decision_code == "unregistered"
    assert stranger.masked_name == "周*伯"


def test_alerts_reach_the_administrator_and_the_grid_worker_of_the_area(client, resident):
    venue = make_venue()
    add_flag(resident, "fever_clinic")
    checkin_record(resident=resident, venue=venue, method="self_scan")
    alert = Alert.objects.get()
    client.force_login(venue.administrator)
    page = client.get(reverse("venues:home")).content.decode()
    assert "黄码" in page and resident.masked_name in page and resident.name not in page
    worker = User.objects.create_user(phone="13522220001", password=PASSWORD)
    GridWorker.objects.create(user=worker, region_codes=["110100"])  # covers 110105
    elsewhere = User.objects.create_user(phone="13522220002", password=PASSWORD)
    GridWorker.objects.create(user=elsewhere, region_codes=["330106"])
    client.force_login(elsewhere)
    assert resident.masked_name not in client.get(reverse("checkins:alerts")).content.decode()
    assert client.post(reverse("checkins:alert-ack", args=[alert.pk])).status_code == 404
    client.force_login(worker)
    assert resident.masked_name in client.get(reverse("checkins:alerts")).content.decode()
    client.post(reverse("checkins:alert-ack", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.acknowledged_by == worker and alert.acknowledged_at is not None


def test_inspect_page(client):
    user = User.objects.create_user(phone="13522220003", password=PASSWORD)
    client.force_login(user)
    assert "绑定" in client.get(reverse("checkins:inspect")).content.decode()
    venue = make_venue()
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    assert venue.full_name in client.get(reverse("checkins:inspect")).content.decode()


def test_inspector_verify_query_count(inspector, resident, django_assert_num_queries):
    recent_test(resident)
    token = token_for(resident)
    verify = {"venue": inspector.venue.pk, "code": "warm-up"}
    inspector.post(reverse("api-inspect-verify"), verify, format="json")  # caches the binding
    # (the inspector's binding to this venue, with the venue, comes from the row cache)
    # 1 the resident with health code and account, by the token's public id
    # 2 INSERT the audit read (the lookup)
    # 3 has this token checked the person in at another venue? (no), with the person's doses
    #   (dose_identity index): the vaccination line and the venue's rule — one query
    with django_assert_num_queries(3):
        inspector.post(
            reverse("api-inspect-verify"),
            {"venue": inspector.venue.pk, "code": token},
            format="json",
        )


def test_manual_registration_api(inspector, resident):
    body = inspector.post(
        reverse("api-inspect-manual"),
        {
            "venue": inspector.venue.pk,
            "name": "周老伯",
            "id_number": "11010519491231002x",
            "phone": "139 0000 1111",
            "temperature_band": "normal",
        },
        format="json",
    )
    assert body.status_code == 201
    assert body.json()["name"] == "周*伯" and body.json()["colour_label"] == "未注册"
    checkin = CheckIn.objects.get()
    assert (checkin.manual_id_number, checkin.manual_phone, checkin.scanned_by) == (
        "11010519491231002X",
        "13900001111",
        inspector.user,
    )
    bad = inspector.post(
        reverse("api-inspect-manual"),
        {
            "venue": inspector.venue.pk,
            "name": "周老伯",
            "id_number": "123",
            "phone": "1",
            "temperature_band": "normal",
        },
        format="json",
    )
    assert bad.status_code == 400 and {"id_number", "phone"} <= set(bad.json())
    other = inspector.post(
        reverse("api-inspect-manual"),
        {
            "venue": make_venue().pk,
            "name": "周老伯",
            "id_number": "11010519491231002X",
            "temperature_band": "normal",
        },
        format="json",
    )
    assert other.status_code == 403
    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    "endpoint", ["api-inspect-verify", "api-inspect-confirm", "api-inspect-manual"]
)
def test_a_venue_id_beyond_the_database_is_a_field_error(inspector, resident, endpoint):
    body = {
        "venue": 2**63,
        "code": token_for(resident),
        "name": resident.name,
        "id_number": resident.id_number,
        "temperature_band": "normal",
    }
    response = inspector.post(reverse(endpoint), body, format="json")
    assert response.status_code == 400 and "venue" in response.json()
    assert not CheckIn.objects.exists() and not lookups().exists()
