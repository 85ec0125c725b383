import datetime as dt
import json

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from checkins.models import Alert, CheckIn, Device
from healthcode import tokens
from tests.factories import add_flag, lookups, make_venue, post_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(db):
    venue = make_venue()
    row, key = Device.create_with_key(venue=venue, name="东门闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    api.row, api.venue = row, venue
    return api


def post(api, body):
    return api.post(reverse("api-devices-verify"), body, format="json")


def with_test(resident):
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )


def test_a_scanned_code_passes_and_is_recorded(device, resident):
    with_test(resident)
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    body = post(device, {"code": token, "temperature": "36.5"}).json()
    assert body["decision"] == "pass" and body["colour"] == "green"
    assert body["person"] == {"name": resident.masked_name, "id_number": resident.masked_id_number}
    assert body["test"]["state"] == "negative" and "line" in body["test"]
    checkin = CheckIn.objects.get(public_id=body["checkin_id"])
    assert (checkin.method, checkin.venue, checkin.temperature_band) == (
        "device",
        device.venue,
        "normal",
    )
    lookup = lookups().get()
    assert (lookup.actor, lookup.machine, lookup.action) == (
        None,
        f"device {device.row.pk}",
        "device",
    )


def test_fever_stops_at_37_3_exactly(device, resident):
    with_test(resident)
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    body = post(device, {"code": token, "temperature": "37.3"}).json()
    assert body["decision"] == "stop" and "体温异常" in body["reason"]
    assert Alert.objects.get().kind == "fever"


def test_an_id_card_read(device, resident):
    add_flag(resident, "close_contact")
    body = post(
        device,
        {"id_type": "resident_id", "id_number": resident.id_number.lower(), "name": resident.name},
    ).json()
    assert body["decision"] == "stop" and body["colour"] == "red"
    # The door sees red and 禁止通行, never the medical reason (it is the person's).
    assert "reasons" not in body
    assert "隔离医学观察的密切接触者" not in json.dumps(body, ensure_ascii=False)
    assert lookups().get().subject == resident
    unknown = post(
        device, {"id_type": "resident_id", "id_number": "11010519491231002X", "name": "周老伯"}
    ).json()
    assert unknown["decision"] == "stop" and unknown["person"]["name"] == "周*伯"
    assert unknown["person"]["id_number"] == "1101**********002X"
    # An ID card that matches nobody is a lookup too, masked.
    lookup = lookups().get(subject=None)
    assert (lookup.machine, lookup.action) == (f"device {device.row.pk}", "device")
    assert lookup.subject_masked_id == "1101**********002X"
    assert "11010519491231002X" not in repr(model_to_dict(lookup))


def test_a_pending_or_rejected_venues_device_does_nothing_and_says_why(resident):
    for status, message in [("pending", "尚未通过审核"), ("rejected", "已被驳回：名称与执照不符")]:
        _row, key = Device.create_with_key(venue=make_venue(status=status), name="闸机")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        token = tokens.issue_for(resident.health_code, now=timezone.now()).token
        for body in (
            {"code": token},
            {"id_type": "resident_id", "id_number": resident.id_number, "name": resident.name},
        ):
            response = post(api, body)
            assert response.status_code == 403
            assert message in response.json()["detail"]
    assert not CheckIn.objects.exists() and not lookups().exists()
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "id_type"),
        ({"id_type": "resident_id", "id_number": "123", "name": "张三"}, "id_number"),
        ({"code": "x", "temperature": "99"}, "temperature"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(device, body, field):
    response = post(device, body)
    assert response.status_code == 400 and field in response.json()
    assert not CheckIn.objects.exists()


def test_a_bad_code_is_refused(device):
    response = post(device, {"code": "not-a-code"})
    assert response.status_code == 400 and response.json()["problem"] == "malformed"
    assert not CheckIn.objects.exists()


def test_revoked_device_and_people_are_refused(device, resident):
    device.row.revoked_at = timezone.now()
    device.row.save()
    assert post(device, {"code": "x"}).status_code == 401
    person = APIClient()
    person.force_authenticate(resident.user)
    assert post(person, {"code": "x"}).status_code == 403
    assert not CheckIn.objects.exists()


def test_device_verify_query_count(device, resident, django_assert_num_queries):
    with_test(resident)
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    post(device, {"code": "warm-up"})  # 400; reads the device (and its venue) into the cache
    # (the device and its venue come from the row cache: checkins.selectors)
    # 1 the resident with health code and account, by the token's public id
    # 2 SAVEPOINT (the check-in's transaction, nested in the test's; in production its BEGIN,
    #   not a statement: the lookup is written inside it, so there is no savepoint of its own)
    # 3 INSERT the audit read (the device saw this person's status), in the check-in's commit
    # 4 the health code, locked (current: no recompute), carrying the person's doses
    #   (dose_identity index: the venue's vaccination rule and the answer's vaccination
    #   object, kept on the check-in)
    # 5 the person's latest check-in in the last 24 h (none: what a scan repeats or ends) and
    #   whether this token checked them in at another venue (no), in one statement after the
    #   lock: a subquery of the locking statement would miss a concurrent scan's row
    # 6 INSERT the check-in
    # 7 RELEASE SAVEPOINT (in production: the one COMMIT)
    with django_assert_num_queries(7):
        assert post(device, {"code": token}).json()["decision"] == "pass"


def test_id_card_reads_are_limited_per_device_and_codes_are_not(device, resident, settings):
    from tests.factories import resident_id

    settings.DEVICE_ID_CARD_RATE = "2/hour"

    def card(n):  # people nobody registered: each read is a new, unmatched check-in
        number = resident_id(birth="19700101", seq=900 + n)
        return {"id_type": "resident_id", "id_number": number, "name": "蒋九"}

    assert [post(device, card(n)).status_code for n in range(2)] == [200, 200]
    refused = post(device, card(2))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "证件查验过于频繁" in refused.json()["detail"]
    assert CheckIn.objects.count() == 2 and lookups().count() == 2
    token = tokens.issue_for(resident.health_code, now=timezone.now()).token
    assert post(device, {"code": token}).status_code == 200  # scanned codes still pass
    assert CheckIn.objects.count() == 3
