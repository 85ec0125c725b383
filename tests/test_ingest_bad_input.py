"""Batches with characters a database column cannot hold, and CSV line numbers in errors.

PostgreSQL's text and jsonb refuse NUL (U+0000) and UTF-8 cannot carry a lone surrogate: such a
value is a field error of its record, and neither the stored batch nor the answer echoes it.
Run on PostgreSQL too (DATABASE_URL): SQLite stores NUL and would hide the failure.
"""

import csv
import datetime as dt
import io
import json

import pytest
import time_machine
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from healthcode.models import RiskFlag
from nucleic.models import ResultBatch, Sample
from tests.factories import lab_token, resident_id

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2022, 6, 1, 12, 0, tzinfo=dt.UTC)
LAB_URL = "/api/v1/nucleic/results"
FLAG_URL = "/api/v1/health/risk-flags"
LAB_COLUMNS = ["barcode", "id_type", "id_number", "name", "sampled_at", "reported_at", "result"]
FLAG_COLUMNS = [
    "source",
    "external_id",
    "id_type",
    "id_number",
    "name",
    "kind",
    "starts_at",
    "ends_at",
    "reason",
]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lab():
    _token, key = lab_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def officer(django_user_model):
    user = django_user_model.objects.create_user(phone="13600000000", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_riskflag"))
    client = APIClient()
    client.force_authenticate(user)
    return client


def result(n, **overrides):
    data = {
        "barcode": f"BC{n:06d}",
        "id_type": "resident_id",
        "id_number": resident_id(seq=n, birth="19900101"),
        "name": "张三",
        "sampled_at": "2022-06-01 08:30",
        "reported_at": "2022-06-01 18:00",
        "result": "negative",
    }
    return {**data, **overrides}


def flag(n, **overrides):
    data = {
        "source": "cdc",
        "external_id": f"E{n}",
        "id_type": "resident_id",
        "id_number": resident_id(seq=n, birth="19850101"),
        "name": "李四",
        "kind": "close_contact",
        "starts_at": "2022-06-01 08:00",
        "ends_at": "",
        "reason": "流调",
    }
    return {**data, **overrides}


def json_body(records) -> bytes:
    # ensure_ascii escapes NUL and surrogates as \u0000 / \ud800, as a real client would send.
    return json.dumps({"records": records}).encode()


def csv_body(records, columns) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().encode()


def send(client, url, body, kind):
    content_type = "application/json" if kind == "json" else "text/csv"
    return client.generic("POST", url, body, content_type=content_type)


def assert_clean(value):
    text = json.dumps(value, ensure_ascii=False)
    assert "\x00" not in text and "\\u0000" not in text and "\\ud800" not in text
    text.encode("utf-8")  # no lone surrogate either


# A CSV's bytes decode to text without lone surrogates: those come only through JSON.
@pytest.mark.parametrize(
    ("kind", "bad"),
    [("json", "\x00"), ("json", "\ud800"), ("csv", "\x00")],
    # Readable ids: a raw NUL or surrogate in a test id cannot be selected by name (mutmut).
    ids=["json-nul", "json-surrogate", "csv-nul"],
)
@pytest.mark.parametrize("field", ["barcode", "name", "id_number"])
def test_a_lab_record_with_an_unstorable_character_is_rejected_not_a_500(lab, kind, bad, field):
    records = [result(1), result(2, **{field: result(2)[field] + bad})]
    body = json_body(records) if kind == "json" else csv_body(records, LAB_COLUMNS)
    response = send(lab, LAB_URL, body, kind)
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    [error] = report["errors"]
    assert error["index"] == 1
    assert "无法保存的字符" in error["errors"][field][0]
    assert error["barcode"] == (None if field == "barcode" else "BC000002")
    if kind == "csv":
        assert error["line"] == 3
    assert_clean(report)
    assert_clean(ResultBatch.objects.get().errors)
    assert list(Sample.objects.values_list("barcode", flat=True)) == ["BC000001"]


@pytest.mark.parametrize("kind", ["json", "csv"])
@pytest.mark.parametrize("field", ["source", "external_id", "reason", "name"])
def test_a_risk_flag_with_a_nul_is_rejected_not_a_500(officer, kind, field):
    records = [flag(1), flag(2, **{field: flag(2)[field] + "\x00x"})]
    body = json_body(records) if kind == "json" else csv_body(records, FLAG_COLUMNS)
    response = send(officer, FLAG_URL, body, kind)
    assert response.status_code == 200, response.content
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    [error] = report["errors"]
    assert error["index"] == 1 and "无法保存的字符" in error["errors"][field][0]
    assert error["external_id"] == (None if field == "external_id" else "E2")
    assert_clean(report)
    assert list(RiskFlag.objects.values_list("external_id", flat=True)) == ["E1"]


def test_a_key_that_is_not_text_is_not_echoed(lab):
    records = [result(1, barcode={"nested": "\x00" * 3}), result(2, barcode=float("nan"))]
    response = send(lab, LAB_URL, json.dumps({"records": records}).encode(), "json")
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["rejected"] == 2
    assert [e["barcode"] for e in report["errors"]] == [None, None]
    assert "应为文本" in report["errors"][0]["errors"]["barcode"][0]
    assert_clean(ResultBatch.objects.get().errors)


def test_a_json_value_that_is_a_list_or_object_is_a_field_error(officer):
    response = send(officer, FLAG_URL, json_body([flag(1, reason=["a"]), flag(2)]), "json")
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert "应为文本" in report["errors"][0]["errors"]["reason"][0]


def test_csv_errors_name_the_file_line_counting_the_header_and_multiline_fields(officer):
    body = (
        "source,external_id,id_type,id_number,name,kind,starts_at,ends_at,reason\r\n"  # line 1
        f'cdc,E1,resident_id,{flag(1)["id_number"]},李四,close_contact,2022-06-01 08:00,,"一\r\n'
        '二"\r\n'  # lines 2-3: one record with a line break inside quotes
        "\r\n"  # line 4: blank, skipped
        f"cdc,E2,resident_id,{flag(2)['id_number']},李四,purple,2022-06-01 08:00,,x\r\n"  # 5
        f"cdc,E3,resident_id,{flag(3)['id_number']},李四,close_contact,2022-06-01 08:00,,\r\n"
        f"cdc,E4,resident_id,{flag(4)['id_number']},李四,close_contact,yesterday,,\r\n"  # 7
    ).encode()
    report = send(officer, FLAG_URL, body, "csv").json()
    assert (report["created"], report["rejected"]) == (2, 2)
    assert [(e["index"], e["line"], e["external_id"]) for e in report["errors"]] == [
        (1, 5, "E2"),
        (3, 7, "E4"),
    ]
    assert RiskFlag.objects.get(external_id="E1").reason == "一\r\n二"


def test_json_errors_carry_the_record_index_and_no_line(officer):
    report = send(officer, FLAG_URL, json_body([flag(1), flag(2, kind="purple")]), "json").json()
    [error] = report["errors"]
    assert error["index"] == 1 and "line" not in error


def test_a_csv_row_with_more_columns_than_the_header_names_its_line(lab):
    body = b"barcode,id_number\r\n" + b"a,b\r\n" + b'"x\r\ny",b\r\n' + b"a,b,c\r\n"
    response = send(lab, LAB_URL, body, "csv")
    assert response.status_code == 400
    assert "第 5 行" in response.json()["detail"]


def test_a_csv_field_over_the_csv_module_limit_is_a_400_not_a_500(lab):
    body = b"barcode,id_number\r\n" + b'"' + b"x" * 200_000 + b'",b\r\n'
    response = send(lab, LAB_URL, body, "csv")
    assert response.status_code == 400
    assert "第 2 行" in response.json()["detail"]
    assert not ResultBatch.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"records": [{"barcode": 1' + b"0" * 5000 + b"}]}"],
    ids=["deep", "huge-int"],
)
def test_json_the_parser_cannot_take_is_a_400_not_a_500(lab, body):
    response = send(lab, LAB_URL, body, "json")
    assert response.status_code == 400
    assert response.json()["detail"]
