import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode.models import HealthCode
from nucleic.models import ResultBatch, Sample, SampleChange
from tests.factories import lab_token, make_resident, resident_id

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2022, 6, 1, 12, 0, tzinfo=dt.UTC)
URL = "/api/v1/nucleic/results"
COLUMNS = ["barcode", "id_type", "id_number", "name", "sampled_at", "reported_at", "result"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lab():
    token, key = lab_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.token = token
    return client


def record(n: int, **overrides) -> dict:
    data = {
        "barcode": f"BC{n:06d}",
        "id_type": "resident_id",
        "id_number": resident_id(seq=n % 1000, birth="19900101"),
        "name": "张三",
        "sampled_at": "2022-06-01 08:30",
        "reported_at": "2022-06-01 18:00",
        "result": "negative",
    }
    data.update(overrides)
    return data


def post_json(client, records):
    return client.post(URL, {"records": records}, format="json")


def to_csv(records, encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode(encoding)


def samples_snapshot():
    return sorted(
        Sample.objects.values_list(
            "barcode", "id_number", "name", "sampled_at", "reported_at", "result"
        )
    )


def test_a_batch_lands_and_is_recorded(lab):
    response = post_json(lab, [record(1), record(2, result="pending", reported_at="")])
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (2, 0, 0, 0)
    batch = ResultBatch.objects.get()
    assert (batch.lab, batch.token, batch.total, batch.created) == (lab.token.lab, lab.token, 2, 2)
    pending = Sample.objects.get(barcode="BC000002")
    assert pending.reported_at is None and pending.result == "pending"
    assert Sample.objects.get(barcode="BC000001").sampled_at == dt.datetime(
        2022, 6, 1, 0, 30, tzinfo=dt.UTC
    )  # naive times are Beijing time


def test_resending_a_batch_changes_nothing(lab):
    records = [record(n) for n in range(5)]
    post_json(lab, records)
    before = samples_snapshot()
    body = post_json(lab, records).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 5)
    assert samples_snapshot() == before
    assert SampleChange.objects.count() == 0
    assert ResultBatch.objects.count() == 2  # both uploads are audited


def test_a_later_record_updates_the_sample_and_keeps_its_history(lab):
    post_json(lab, [record(1, result="pending", reported_at="")])
    body = post_json(lab, [record(1, result="negative")]).json()
    assert body["updated"] == 1
    sample = Sample.objects.get()
    assert sample.result == "negative"
    change = SampleChange.objects.get()
    assert change.before["result"] == "pending" and change.after["result"] == "negative"
    assert change.batch == ResultBatch.objects.latest("id")
    post_json(lab, [record(1, result="positive")])  # a lab's correction
    assert list(sample.changes.values_list("after__result", flat=True)) == ["negative", "positive"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"barcode": "x"}, "barcode", "样本条码"),
        ({"id_number": resident_id(seq=2, birth="19900101")[:-1] + "Y"}, "id_number", "18位"),
        (
            {
                "id_number": "11010519900101002"
                + ("1" if resident_id(seq=2, birth="19900101")[-1] != "1" else "2")
            },
            "id_number",
            "校验位",
        ),
        ({"id_type": "library"}, "id_type", "应为以下之一"),
        ({"name": ""}, "name", "姓名"),
        ({"result": "maybe"}, "result", "应为以下之一"),
        ({"sampled_at": "yesterday"}, "sampled_at", "时间格式"),
        ({"sampled_at": "2022-06-02 08:00"}, "sampled_at", "晚于当前时间"),
        ({"reported_at": "2022-06-01 08:00"}, "reported_at", "早于采样时间"),
        ({"reported_at": ""}, "reported_at", "必填"),
    ],
)
def test_bad_records_are_rejected_with_index_barcode_and_field_errors(
    lab, overrides, field, message
):
    response = post_json(lab, [record(1), record(2, **overrides), record(3)])
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (2, 1)
    [error] = body["errors"]
    assert error["index"] == 1 and error["barcode"] == record(2, **overrides)["barcode"]
    assert message in " ".join(error["errors"][field]), error
    assert not Sample.objects.filter(barcode=record(2)["barcode"]).exists()  # not half of it


def test_a_barcode_twice_in_one_batch_is_rejected_the_second_time(lab):
    body = post_json(lab, [record(1), record(1, result="positive")]).json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert Sample.objects.get().result == "negative"


def test_a_name_that_disagrees_with_the_registered_resident_is_rejected(lab):
    resident = make_resident(name="李四", id_number=record(1)["id_number"])
    body = post_json(lab, [record(1, name="王五", result="positive")]).json()
    assert body["rejected"] == 1
    assert "不一致" in body["errors"][0]["errors"]["name"][0]
    assert not Sample.objects.exists()
    assert HealthCode.objects.get(resident=resident).colour == "green"


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gbk", False)])
def test_csv_in_utf8_utf8_bom_and_gbk_equals_json(lab, encoding, bom):
    records = [record(n, name="欧阳小明") for n in range(3)] + [record(9, result="maybe")]
    response = lab.generic("POST", URL, to_csv(records, encoding, bom), content_type="text/csv")
    assert response.status_code == 200, response.content
    from_csv = (samples_snapshot(), response.json()["rejected"])
    Sample.objects.all().delete()
    json_body = post_json(lab, records).json()
    assert from_csv == (samples_snapshot(), json_body["rejected"]) == (from_csv[0], 1)
    assert {s[2] for s in from_csv[0]} == {"欧阳小明"}


def test_an_over_limit_batch_is_refused_whole(lab):
    response = post_json(lab, [record(n) for n in range(10_001)])
    assert response.status_code == 413
    assert "10000" in response.json()["detail"]
    assert not Sample.objects.exists() and not ResultBatch.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"records=1", "application/x-www-form-urlencoded", 415),
        (b"{not json", "application/json", 400),
        (b'{"rows": []}', "application/json", 400),
        (b'{"records": []}', "application/json", 400),
        (b"barcode,id_number\r\na,b,c\r\n", "text/csv", 400),
    ],
)
def test_bodies_that_are_not_a_batch_are_refused(lab, body, content_type, status):
    response = lab.generic("POST", URL, body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["detail"]
    assert not ResultBatch.objects.exists()


def test_a_revoked_or_unknown_token_writes_nothing(lab):
    lab.token.revoked_at = timezone.now()
    lab.token.save()
    response = post_json(lab, [record(1)])
    assert response.status_code == 401
    assert "吊销" in response.json()["detail"]
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer lab_not_a_real_key")
    assert post_json(stranger, [record(1)]).status_code == 401
    assert post_json(APIClient(), [record(1)]).status_code == 401
    assert not Sample.objects.exists() and not ResultBatch.objects.exists()


def test_a_person_cannot_upload_results(client, resident):
    client.force_login(resident.user)
    response = client.post(URL, {"records": [record(1)]}, content_type="application/json")
    assert response.status_code == 401  # a person's session is no lab key
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Sample.objects.exists()


def test_labs_see_only_their_own_batches(lab):
    post_json(lab, [record(1)])
    other_token, other_key = lab_token("另一检测机构")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_key}")
    post_json(other, [record(2)])
    mine = ResultBatch.objects.get(lab=lab.token.lab)
    theirs = ResultBatch.objects.get(lab=other_token.lab)
    listed = lab.get(reverse("api-nucleic-batches")).json()
    assert [b["id"] for b in listed] == [mine.pk]
    assert lab.get(reverse("api-nucleic-batch", args=[mine.pk])).status_code == 200
    assert lab.get(reverse("api-nucleic-batch", args=[theirs.pk])).status_code == 404


def test_a_positive_result_turns_the_code_red_through_the_api(
    lab, django_capture_on_commit_callbacks
):
    resident = make_resident(name="张三", id_number=record(1)["id_number"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post_json(lab, [record(1, result="positive")])
    assert len(callbacks) == 1  # one recompute task for the one registered person
    code = HealthCode.objects.get(resident=resident)  # tasks run in-process on the default
    assert code.colour == "red"
    assert code.reasons[0]["text"] == "核酸阳性"
    assert code.test["state"] == "positive"


def test_a_correction_to_another_person_recomputes_both(lab, django_capture_on_commit_callbacks):
    first = make_resident(name="张三", id_number=record(1)["id_number"])
    second = make_resident(name="张三", id_number=record(2)["id_number"])
    with django_capture_on_commit_callbacks(execute=True):
        post_json(lab, [record(7, id_number=first.id_number, result="positive")])
    assert HealthCode.objects.get(resident=first).colour == "red"
    with django_capture_on_commit_callbacks(execute=True):  # the lab had the wrong person
        post_json(lab, [record(7, id_number=second.id_number, result="positive")])
    assert HealthCode.objects.get(resident=first).colour == "green"
    assert HealthCode.objects.get(resident=second).colour == "red"
