"""POST /api/v1/vaccination/doses: a site's batch through the ingest shared with labs —
idempotent per (site, record_id), per-record field errors, JSON or CSV in UTF-8/BOM/GBK,
at most 10,000 a batch, the site's own key only, its own batches only."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from healthcode.ingest import MAX_RECORDS
from tests.factories import lab_token, make_resident, resident_id, site_key
from vaccination.models import Dose, DoseBatch, DoseChange

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2022, 6, 1, 12, 0, tzinfo=dt.UTC)  # 20:00 in Beijing, 1 June
URL = "/api/v1/vaccination/doses"
COLUMNS = ["record_id", "id_type", "id_number", "name", "product", "dose_number", "vaccinated_on"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def site():
    row, key = site_key()
    client = client_for(key)
    client.key = row
    return client


def record(n: int, **overrides) -> dict:
    data = {
        "record_id": f"JZ{n:06d}",
        "id_type": "resident_id",
        "id_number": resident_id(seq=n % 1000, birth="19900101"),
        "name": "张三",
        "product": "新冠病毒灭活疫苗（Vero细胞）",
        "dose_number": 1,
        "vaccinated_on": "2021-05-06",
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


def doses():
    return sorted(
        Dose.objects.values_list(
            "record_id", "id_number", "name", "product", "dose_number", "vaccinated_on"
        )
    )


def test_the_url_is_where_the_docs_say_and_in_the_schema(client):
    assert reverse("api-vaccination-doses") == URL
    schema = client.get(reverse("api-schema")).content.decode()
    assert "/api/v1/vaccination/doses" in schema and "/api/v1/vaccination/batches" in schema
    assert "SiteKeyAuthentication" in schema


def test_a_batch_lands_and_is_recorded(site):
    response = post_json(site, [record(1), record(2, dose_number="2", vaccinated_on="2021-06-01")])
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (2, 0, 0, 0)
    batch = DoseBatch.objects.get()
    assert (batch.site, batch.key, batch.total, batch.created) == (
        site.key.site,
        site.key,
        2,
        2,
    )
    second = Dose.objects.get(record_id="JZ000002")
    assert (second.dose_number, second.vaccinated_on, second.batch) == (
        2,
        dt.date(2021, 6, 1),
        batch,
    )


def test_resending_a_batch_changes_nothing(site):
    records = [record(n) for n in range(5)]
    post_json(site, records)
    before = doses()
    body = post_json(site, records).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 5)
    assert doses() == before
    assert not DoseChange.objects.exists()
    assert DoseBatch.objects.count() == 2  # both uploads are kept


def test_a_changed_record_updates_its_dose_and_keeps_the_earlier_version(site):
    post_json(site, [record(1)])
    body = post_json(site, [record(1, vaccinated_on="2021-05-07")]).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 0)
    dose = Dose.objects.get()
    assert dose.vaccinated_on == dt.date(2021, 5, 7)
    assert dose.batch == DoseBatch.objects.latest("id")
    change = DoseChange.objects.get()
    assert (change.before["vaccinated_on"], change.after["vaccinated_on"]) == (
        "2021-05-06",
        "2021-05-07",
    )


def test_the_same_record_id_at_another_site_is_another_dose(site):
    post_json(site, [record(1)])
    _row, other_key = site_key("另一接种点")
    assert post_json(client_for(other_key), [record(1)]).json()["created"] == 1
    assert Dose.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"record_id": "x"}, "record_id", "接种记录编号"),
        ({"id_number": resident_id(seq=2, birth="19900101")[:-1] + "Y"}, "id_number", "18位"),
        ({"name": ""}, "name", "姓名"),
        ({"product": " "}, "product", "必填"),
        ({"product": "疫" * 65}, "product", "64"),
        ({"dose_number": 0}, "dose_number", "1至9"),
        ({"dose_number": 10}, "dose_number", "1至9"),
        ({"dose_number": "2.5"}, "dose_number", "1至9"),
        ({"dose_number": True}, "dose_number", "1至9"),
        ({"vaccinated_on": "2021/05/06"}, "vaccinated_on", "YYYY-MM-DD"),
        ({"vaccinated_on": "2022-06-02"}, "vaccinated_on", "晚于今天"),
        ({"vaccinated_on": "2020-11-30"}, "vaccinated_on", "2020-12-01"),
        ({"vaccinated_on": ""}, "vaccinated_on", "必填"),
    ],
)
def test_a_bad_record_is_rejected_with_its_field_errors_and_the_rest_land(
    site, overrides, field, message
):
    body = post_json(site, [record(1), record(2, **overrides), record(3)]).json()
    assert (body["created"], body["rejected"]) == (2, 1)
    (error,) = body["errors"]
    assert error["index"] == 1
    assert message in " ".join(error["errors"][field]), error
    assert sorted(Dose.objects.values_list("record_id", flat=True)) == ["JZ000001", "JZ000003"]


def test_the_date_edges_today_and_the_first_day_are_accepted(site):
    # 1 June 2022 is today in Beijing (20:00), whatever the UTC date.
    body = post_json(
        site,
        [record(1, vaccinated_on="2022-06-01"), record(2, vaccinated_on="2020-12-01")],
    ).json()
    assert (body["created"], body["rejected"]) == (2, 0), body["errors"]


def test_a_record_id_twice_in_one_batch_is_rejected_the_second_time(site):
    body = post_json(site, [record(1), record(1, dose_number=2)]).json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["errors"]["record_id"] == ["同一批次中重复。"]
    assert Dose.objects.get().dose_number == 1


def test_a_name_that_disagrees_with_the_registered_resident_is_rejected(site):
    person = make_resident(name="李四", id_number=record(1)["id_number"])
    body = post_json(site, [record(1, name="张三")]).json()
    assert body["rejected"] == 1
    assert body["errors"][0]["errors"]["name"] == ["姓名与该证件号码的登记信息不一致。"]
    assert not Dose.objects.exists()
    assert post_json(site, [record(1, name=person.name)]).json()["created"] == 1


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gbk", False)])
def test_csv_in_utf8_utf8_bom_and_gbk_equals_json(site, encoding, bom):
    records = [record(1), record(2, name="欧阳娜娜", dose_number=3)]
    response = site.post(URL, to_csv(records, encoding, bom), content_type="text/csv")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    from_csv = doses()
    Dose.objects.all().delete()
    post_json(site, records)
    assert doses() == from_csv
    assert Dose.objects.get(record_id="JZ000002").name == "欧阳娜娜"


def test_a_csv_error_names_its_line(site):
    body = site.post(
        URL, to_csv([record(1), record(2, dose_number="十")]), content_type="text/csv"
    ).json()
    assert body["errors"][0]["line"] == 3 and "dose_number" in body["errors"][0]["errors"]


def test_an_over_limit_batch_is_refused_whole_and_the_limit_itself_lands(site):
    over = [record(n) for n in range(MAX_RECORDS + 1)]
    response = post_json(site, over)
    assert response.status_code == 413
    assert "10000" in response.json()["detail"]
    assert not Dose.objects.exists() and not DoseBatch.objects.exists()
    body = post_json(site, over[:MAX_RECORDS]).json()
    assert (body["created"], body["rejected"]) == (MAX_RECORDS, 0)


def test_wrong_keys_are_refused_and_write_nothing(site, client, resident):
    unknown = client_for("vax_not_a_real_key")
    assert post_json(unknown, [record(1)]).status_code == 401
    assert post_json(APIClient(), [record(1)]).status_code == 401
    _lab, lab_key = lab_token()
    assert post_json(client_for(lab_key), [record(1)]).status_code == 401  # a lab's is no site's
    client.force_login(resident.user)
    response = client.post(URL, {"records": [record(1)]}, content_type="application/json")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    site.key.revoked_at = timezone.now()
    site.key.save()
    revoked = post_json(site, [record(1)])
    assert revoked.status_code == 401 and "吊销" in revoked.json()["detail"]
    assert not Dose.objects.exists() and not DoseBatch.objects.exists()


def test_a_site_key_does_not_open_the_lab_api(site):
    response = site.post(reverse("api-nucleic-results"), {"records": []}, format="json")
    assert response.status_code == 401


def test_sites_see_only_their_own_batches(site):
    post_json(site, [record(1)])
    other_row, other_key = site_key("另一接种点")
    post_json(client_for(other_key), [record(2)])
    mine = DoseBatch.objects.get(site=site.key.site)
    theirs = DoseBatch.objects.get(site=other_row.site)
    listed = site.get(reverse("api-vaccination-batches")).json()
    assert [b["id"] for b in listed] == [mine.pk]
    assert site.get(reverse("api-vaccination-batch", args=[mine.pk])).status_code == 200
    assert site.get(reverse("api-vaccination-batch", args=[theirs.pk])).status_code == 404
    assert APIClient().get(reverse("api-vaccination-batch", args=[mine.pk])).status_code == 401
