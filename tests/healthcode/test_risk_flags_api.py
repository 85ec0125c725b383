import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from healthcode.models import HealthCode, RiskFlag
from nucleic.models import TestPolicy
from tests.factories import make_resident, resident_id

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2022, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def officer(django_user_model):
    user = django_user_model.objects.create_user(phone="13600000000", password="x", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="add_riskflag"),
        Permission.objects.get(codename="add_testpolicy"),
    )
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


def flag(n, **overrides):
    data = {
        "source": "cdc",
        "external_id": f"E{n}",
        "id_type": "resident_id",
        "id_number": resident_id(seq=n, birth="19850101"),
        "name": "李四",
        "kind": "close_contact",
        "starts_at": "2022-06-01 08:00",
        "reason": "流调",
    }
    data.update(overrides)
    return data


def post(client, records):
    return client.post(reverse("api-risk-flags"), {"records": records}, format="json")


def test_import_lands_flags_and_recomputes_the_registered(
    officer, django_capture_on_commit_callbacks
):
    resident = make_resident(name="李四", id_number=flag(1)["id_number"])
    with django_capture_on_commit_callbacks(execute=True):
        body = post(officer, [flag(1), flag(2, kind="fever_clinic")]).json()
    assert (body["created"], body["rejected"]) == (2, 0)
    code = HealthCode.objects.get(resident=resident)
    assert code.colour == "red" and code.reasons[0]["text"] == "隔离医学观察的密切接触者"
    stored = RiskFlag.objects.get(external_id="E1")
    assert stored.entered_by == officer.user and stored.reason == "流调"
    assert stored.ends_at is None  # red: until lifted


def test_yellow_kinds_default_to_14_days(officer):
    post(officer, [flag(1, kind="fever_clinic")])
    stored = RiskFlag.objects.get()
    assert stored.ends_at - stored.starts_at == dt.timedelta(days=14)


def test_idempotent_by_source_and_external_id(officer):
    post(officer, [flag(1)])
    body = post(officer, [flag(1)]).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 1)
    body = post(officer, [flag(1, ends_at="2022-06-10 08:00")]).json()  # lifted later
    assert body["updated"] == 1
    assert RiskFlag.objects.get().ends_at == dt.datetime(2022, 6, 10, 0, 0, tzinfo=dt.UTC)
    post(officer, [flag(1, source="other")])
    assert RiskFlag.objects.count() == 2


def test_bad_records_are_rejected_with_field_errors(officer):
    body = post(
        officer,
        [flag(1, kind="purple"), flag(2, ends_at="2022-05-01 00:00"), flag(3, source=""), flag(4)],
    ).json()
    assert (body["created"], body["rejected"]) == (1, 3)
    errors = {e["index"]: e["errors"] for e in body["errors"]}
    assert "kind" in errors[0] and "ends_at" in errors[1] and "source" in errors[2]
    assert "晚于开始时间" in errors[1]["ends_at"][0]


def test_csv_import(officer):
    csv_body = (
        "source,external_id,id_type,id_number,name,kind,starts_at,ends_at,reason\r\n"
        f"cdc,E1,resident_id,{flag(1)['id_number']},李四,symptoms,2022-06-01 08:00,,发热\r\n"
    ).encode("gbk")
    response = officer.generic("POST", reverse("api-risk-flags"), csv_body, content_type="text/csv")
    assert response.json()["created"] == 1
    assert RiskFlag.objects.get().kind == "symptoms"


def test_only_officers_import(resident):
    client = APIClient()
    client.force_authenticate(resident.user)
    assert post(client, [flag(1)]).status_code == 403
    anonymous = post(APIClient(), [flag(1)])
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    assert not RiskFlag.objects.exists()


def test_policy_api(officer):
    response = officer.post(
        reverse("api-policies"),
        {
            "group": "general",
            "window_hours": 72,
            "counts_from": "sampling",
            "pending_counts": True,
            "effective_from": "2022-05-27T00:00:00+08:00",
        },
        format="json",
    )
    assert response.status_code == 201
    assert TestPolicy.objects.get().window_hours == 72
    again = officer.post(
        reverse("api-policies"),
        {"group": "general", "window_hours": 48, "effective_from": "2022-05-27T00:00:00+08:00"},
        format="json",
    )
    assert again.status_code == 400 and "effective_from" in again.json()
    bad = officer.post(
        reverse("api-policies"),
        {"group": "general", "window_hours": 0, "effective_from": "2022-06-27T00:00:00+08:00"},
        format="json",
    )
    assert bad.status_code == 400 and "window_hours" in bad.json()
    assert TestPolicy.objects.count() == 1
    assert [p["window_hours"] for p in officer.get(reverse("api-policies")).json()] == [72]


def test_policy_api_is_for_officers(resident):
    client = APIClient()
    client.force_authenticate(resident.user)
    assert client.get(reverse("api-policies")).status_code == 403
