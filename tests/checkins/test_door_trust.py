"""What the door may do and see (issue 8, item 2): nothing at an unapproved venue, never the
medical reason, 手工登记 throttled, and unmatched names recorded as lookups."""

import datetime as dt
import json
import logging

import pytest
import time_machine
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.services import audit_lookup
from checkins.models import Alert, CheckIn
from healthcode import tokens
from healthcode.models import User
from tests.factories import PASSWORD, add_flag, credit_code, lookups, make_officer, make_venue
from venues import services as venue_services
from venues.models import VenueInspector

pytestmark = pytest.mark.django_db

REASON = "隔离医学观察的密切接触者"
STRANGER_ID = "11010519491231002X"


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def door_requests(api, venue, resident):
    """verify, confirm and 手工登记 of ``resident`` at ``venue``: (name, response)."""
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    scan = {"venue": venue.pk, "code": token}
    manual = {
        "venue": venue.pk,
        "name": resident.name,
        "id_number": resident.id_number,
        "temperature_band": "normal",
    }
    return [
        ("verify", api.post(reverse("api-inspect-verify"), scan, format="json")),
        (
            "confirm",
            api.post(
                reverse("api-inspect-confirm"),
                {**scan, "temperature_band": "normal"},
                format="json",
            ),
        ),
        ("manual", api.post(reverse("api-inspect-manual"), manual, format="json")),
    ]


def test_a_self_declared_venue_reads_nobody_until_an_officer_approves_it(client, resident):
    """The attack of issue 8: a resident declares a venue, binds themself as its inspector
    and looks up a red person by name and ID number."""
    add_flag(resident, "close_contact")
    attacker = User.objects.create_user(phone="13500000201", password=PASSWORD)
    client.force_login(attacker)
    client.post(
        reverse("venues:home"),
        {
            "full_name": "某某小卖部",
            "region_code": "330106",
            "address": "某路 1 号",
            "category": "other",
            "entry_rule": "policy",
            "credit_code": credit_code(),
        },
    )
    venue = attacker.administered_venue
    assert venue.status == "pending"
    bind = client.post(reverse("venues:bind"), {"declaration_code": venue.declaration_code})
    assert "尚未通过审核" in bind.content.decode()
    assert not VenueInspector.objects.exists()
    # Even a binding that exists (made before approval existed) reads nothing while pending.
    VenueInspector.objects.create(venue=venue, user=attacker)
    api = api_for(attacker)
    for name, response in door_requests(api, venue, resident):
        assert response.status_code == 403, name
        assert response.json()["detail"] == "该场所尚未通过审核，暂不能使用。"
        assert REASON not in response.content.decode() and "红码" not in response.content.decode()
    assert not CheckIn.objects.exists() and not Alert.objects.exists()
    assert not lookups().exists()

    venue_services.venue_approve(venue=venue, officer=make_officer(region_codes=["330100"]))
    statuses = {
        name: response.status_code for name, response in door_requests(api, venue, resident)
    }
    assert statuses == {"verify": 200, "confirm": 201, "manual": 201}
    assert CheckIn.objects.filter(venue=venue).count() == 2
    assert Alert.objects.filter(venue=venue, kind="red").count() == 2


def test_a_rejected_venue_says_why(resident):
    venue = make_venue(status="rejected")
    user = User.objects.create_user(phone="13500000202", password=PASSWORD)
    VenueInspector.objects.create(venue=venue, user=user)
    for _name, response in door_requests(api_for(user), venue, resident):
        assert response.status_code == 403
        assert response.json()["detail"] == "该场所申报已被驳回：名称与执照不符"
    assert not CheckIn.objects.exists() and not lookups().exists()


def test_the_inspect_page_offers_only_usable_venues_and_says_why_not(client):
    approved, pending = make_venue(full_name="已审核超市"), make_venue(status="pending")
    user = User.objects.create_user(phone="13500000203", password=PASSWORD)
    VenueInspector.objects.create(venue=approved, user=user)
    VenueInspector.objects.create(venue=pending, user=user)
    client.force_login(user)
    page = client.get(reverse("checkins:inspect")).content.decode()
    assert f'<option value="{approved.pk}" ' in page
    assert f'<option value="{pending.pk}" ' not in page
    assert "该场所尚未通过审核" in page


@pytest.fixture
def bound(db):
    venue = make_venue()
    user = User.objects.create_user(phone="13500000204", password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    api = api_for(user)
    api.user, api.venue = user, venue
    return api


def test_the_door_never_sees_the_reason_but_the_person_does(bound, resident):
    add_flag(resident, "close_contact")
    for name, response in door_requests(bound, bound.venue, resident):
        body = response.json()
        assert response.status_code in (200, 201), name
        assert body["colour"] == "red" and body["passed"] is False and body["test_line"]
        assert "reasons" not in body, name
        assert REASON not in response.content.decode(), name
    own = api_for(resident.user).get("/api/v1/me/code").json()
    assert own["reasons"][0]["text"] == REASON
    # Nor does the venue's administrator: not on the page, not in the export.
    admin = APIClient()
    admin.force_login(bound.venue.administrator)
    assert REASON not in admin.get(reverse("venues:home")).content.decode()
    assert REASON not in admin.get(reverse("venues:checkins-csv")).content.decode()


def test_the_inspectors_script_does_not_show_reasons():
    from django.contrib.staticfiles import finders

    script = open(finders.find("js/inspect.js"), encoding="utf-8").read()
    assert "reasons" not in script


def manual(api, venue, *, id_number=STRANGER_ID, name="周老伯"):
    body = {"venue": venue.pk, "name": name, "id_number": id_number, "temperature_band": "normal"}
    return api.post(reverse("api-inspect-manual"), body, format="json")


def test_an_unmatched_manual_registration_is_a_masked_lookup(bound):
    assert manual(bound, bound.venue).status_code == 201
    lookup = lookups().get()
    assert (lookup.actor, lookup.subject, lookup.action) == (
        bound.user,
        None,
        "inspector_manual",
    )
    assert lookup.subject_masked_id == "1101**********002X"
    assert STRANGER_ID not in json.dumps(model_to_dict(lookup), default=str)
    assert "周老伯" not in json.dumps(model_to_dict(lookup), default=str)


def test_a_lookup_names_a_resident_or_a_masked_subject():
    viewer = User.objects.create_user(phone="13500000205", password=PASSWORD)
    with pytest.raises(ValueError, match="names a resident"):
        audit_lookup(actor=viewer, action="inspector_manual")
    assert not lookups().exists()


def test_the_inspector_throttle_edge(bound, settings):
    settings.MANUAL_CHECKIN_RATE_PER_INSPECTOR = "3/hour"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for n in range(3):
            assert manual(bound, bound.venue, name=f"周老{'伯叔爷'[n]}").status_code == 201
        refused = manual(bound, bound.venue, name="周老太")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "3600"
        assert "手工登记过于频繁" in refused.json()["detail"]
        assert "3600 秒后再试" in refused.json()["detail"]
        assert CheckIn.objects.count() == 3 and lookups().count() == 3
        assert not CheckIn.objects.filter(manual_name="周老太").exists()
        clock.shift(dt.timedelta(seconds=3599))
        assert manual(bound, bound.venue, name="周老太").status_code == 429
        clock.shift(dt.timedelta(seconds=1))  # the first of the three is an hour old
        assert manual(bound, bound.venue, name="周老太").status_code == 201


def test_the_venue_throttle_counts_all_its_inspectors_and_nobody_else(bound, settings):
    settings.MANUAL_CHECKIN_RATE_PER_VENUE = "2/hour"
    second = User.objects.create_user(phone="13500000206", password=PASSWORD)
    venue_services.inspector_bind(user=second, declaration_code=bound.venue.declaration_code)
    outsider = api_for(User.objects.create_user(phone="13500000207", password=PASSWORD))
    for _ in range(3):  # someone who is not its inspector cannot use up its allowance
        assert manual(outsider, bound.venue).status_code == 403
    assert manual(bound, bound.venue).status_code == 201
    assert manual(api_for(second), bound.venue, name="周老叔").status_code == 201
    refused = manual(api_for(second), bound.venue, name="周老爷")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert CheckIn.objects.count() == 2
    other_venue = make_venue()
    venue_services.inspector_bind(user=second, declaration_code=other_venue.declaration_code)
    assert manual(api_for(second), other_venue, name="周老爷").status_code == 201


def test_the_throttle_fails_open_when_the_cache_is_down(bound, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ReusingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/3",  # nothing listens there
        }
    }
    settings.MANUAL_CHECKIN_RATE_PER_INSPECTOR = "1/hour"
    with caplog.at_level(logging.WARNING, logger="healthcode.throttling"):
        assert manual(bound, bound.venue).status_code == 201
        assert manual(bound, bound.venue, name="周老叔").status_code == 201
    warnings = [r.getMessage() for r in caplog.records if r.name == "healthcode.throttling"]
    assert warnings and all("cache unavailable" in w for w in warnings)
    assert not any(STRANGER_ID in w or "周老" in w or bound.user.phone in w for w in warnings)


def test_the_schema_documents_no_reasons_for_the_door(client):
    schemas = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    components = schemas["components"]["schemas"]
    for name in ("PersonStatus", "DeviceVerifyOutput"):
        assert "reasons" not in components[name]["properties"], name
    assert "reasons" in components["MyCodeOutput"]["properties"]  # the person's own
    manual = schemas["paths"]["/api/v1/inspect/manual"]["post"]["responses"]
    assert {"201", "403", "429"} <= set(manual)


@pytest.mark.parametrize("spelling", ["{pk}.0", " {pk} ", "{pk}"])
def test_no_spelling_of_the_venue_id_escapes_the_venue_throttle(bound, settings, spelling):
    settings.MANUAL_CHECKIN_RATE_PER_VENUE = "1/hour"
    settings.MANUAL_CHECKIN_RATE_PER_INSPECTOR = "100/hour"
    assert manual(bound, bound.venue).status_code == 201
    body = {
        "venue": spelling.format(pk=bound.venue.pk),
        "name": "周老叔",
        "id_number": STRANGER_ID,
        "temperature_band": "normal",
    }
    response = bound.post(reverse("api-inspect-manual"), body, format="json")
    assert response.status_code == 429
    assert CheckIn.objects.count() == 1
