"""vaccination.services' record cleaning at its edges (written against its mutants,
docs/testing.md): each field's exact refusal, and the values just inside each bound. Pure:
``clean_dose_record`` is called with the time, without a database."""

import datetime as dt

import pytest
import time_machine

from healthcode.errors import DomainError
from healthcode.ingest import RecordInvalid
from tests.factories import resident_id
from vaccination import services

NOW = dt.datetime(2022, 6, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Beijing: today is 1 June


def record(**overrides) -> dict:
    data = {
        "record_id": "JZ000001",
        "id_type": "resident_id",
        "id_number": resident_id(seq=1, birth="19900101"),
        "name": "张三",
        "product": "新冠病毒灭活疫苗（Vero细胞）",
        "dose_number": 1,
        "vaccinated_on": "2021-05-06",
    }
    data.update(overrides)
    return data


def errors_of(**overrides) -> dict:
    with pytest.raises(RecordInvalid) as exc:
        services.clean_dose_record(record(**overrides), now=NOW)
    return exc.value.errors


def clean(**overrides) -> dict:
    return services.clean_dose_record(record(**overrides), now=NOW)


def test_a_good_record_is_cleaned_whole():
    assert clean(record_id=" JZ-0_01 ", dose_number=" 2 ") == {
        "record_id": "JZ-0_01",
        "id_type": "resident_id",
        "id_number": resident_id(seq=1, birth="19900101"),
        "name": "张三",
        "product": "新冠病毒灭活疫苗(Vero细胞)",  # NFKC: ASCII brackets
        "dose_number": 2,
        "vaccinated_on": dt.date(2021, 5, 6),
    }


RECORD_ID = "接种记录编号应为4至64位字母、数字、连字符或下划线。"


@pytest.mark.parametrize("value", ["abcd", "a" * 64, "A-_9"])
def test_record_ids_of_4_to_64_letters_digits_and_dashes_are_kept(value):
    assert clean(record_id=value)["record_id"] == value


@pytest.mark.parametrize("value", ["abc", "a" * 65, "JZ 0001", "JZ.0001", "编号0001", None, ""])
def test_other_record_ids_are_refused_exactly(value):
    assert errors_of(record_id=value) == {"record_id": [RECORD_ID]}


def test_a_product_is_normalised_and_64_characters_are_kept():
    assert clean(product="  ＢＩＢＰ   灭活\t疫苗 ")["product"] == "BIBP 灭活 疫苗"
    assert clean(product="疫" * 64)["product"] == "疫" * 64


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "必填。"),
        (None, "必填。"),
        (" \t", "必填。"),
        ("疫" * 65, "疫苗产品名称应为不超过64个字符的文本。"),
        ("疫苗\u200b名", "疫苗产品名称应为不超过64个字符的文本。"),  # not printable
    ],
)
def test_a_product_is_refused_exactly(value, message):
    assert errors_of(product=value) == {"product": [message]}


@pytest.mark.parametrize(("value", "number"), [(1, 1), ("9", 9), (" 09 ", 9), ("3", 3)])
def test_dose_numbers_1_to_9_are_kept(value, number):
    assert clean(dose_number=value)["dose_number"] == number


@pytest.mark.parametrize(
    "value", [0, "0", 10, "100", "009", "-1", "2.5", True, False, None, "", "十"]
)
def test_other_dose_numbers_are_refused_exactly(value):
    assert errors_of(dose_number=value) == {"dose_number": ["剂次应为1至9的整数。"]}


@pytest.mark.parametrize("value", ["2022-06-01", "2020-12-01", " 2021-05-06 "])
def test_dates_from_the_first_day_to_today_are_kept(value):
    assert clean(vaccinated_on=value)["vaccinated_on"] == dt.date.fromisoformat(value.strip())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "必填。"),
        (None, "必填。"),
        ("2021/05/06", "日期格式应为 YYYY-MM-DD。"),
        ("2021-5-6", "日期格式应为 YYYY-MM-DD。"),
        ("20210506", "日期格式应为 YYYY-MM-DD。"),  # ISO too, but not the documented form
        ("2021-02-30", "日期格式应为 YYYY-MM-DD。"),
        ("2022-06-02", "接种日期晚于今天。"),
        ("2020-11-30", "接种日期不能早于 2020-12-01。"),
    ],
)
def test_dates_are_refused_exactly(value, message):
    assert errors_of(vaccinated_on=value) == {"vaccinated_on": [message]}


def test_today_is_the_local_day():
    # 23:30 UTC on 31 May is 07:30 on 1 June in Beijing: a dose given on 1 June is not future.
    late = dt.datetime(2022, 5, 31, 23, 30, tzinfo=dt.UTC)
    record_ = record(vaccinated_on="2022-06-01")
    assert services.clean_dose_record(record_, now=late)["vaccinated_on"] == dt.date(2022, 6, 1)


def test_every_bad_field_is_named_at_once():
    assert set(errors_of(record_id="x", product="", dose_number=0, vaccinated_on="")) == {
        "record_id",
        "product",
        "dose_number",
        "vaccinated_on",
    }


# --- The batch, at the instant given (from the full mutation run, docs/testing.md) -----------
@pytest.mark.django_db
def test_a_batch_is_cleaned_received_and_updated_at_the_instant_given():
    """The clock stands at NOW; the batch is given a day later: a dose on that day is not in
    the future, and the batch and the updated dose carry the instant given."""
    from tests.factories import site_key
    from vaccination.models import Dose

    key, _secret = site_key()
    later = NOW + dt.timedelta(days=1)  # 2 June, 12:00 in Beijing
    with time_machine.travel(NOW, tick=False):
        batch, outcome = services.doses_ingest(
            key=key, records=[record(vaccinated_on="2022-06-02")], content_type="json", now=later
        )
    assert (outcome.errors, len(outcome.created), batch.received_at) == ([], 1, later)
    assert batch.content_type == "json"  # kept for the audit of what the site sent
    assert Dose.objects.get().updated_at == later
    corrected = record(vaccinated_on="2022-06-01")
    again, outcome = services.doses_ingest(
        key=key, records=[corrected], content_type="csv", now=later + dt.timedelta(hours=1)
    )
    assert again.content_type == "csv"
    assert len(outcome.updated) == 1
    assert Dose.objects.get().updated_at == later + dt.timedelta(hours=1)


def test_a_record_without_a_document_type_is_a_resident_id():
    data = record()
    del data["id_type"]
    assert services.clean_dose_record(data, now=NOW)["id_type"] == "resident_id"


def test_an_unknown_document_type_is_a_field_error_not_a_crash():
    errors = errors_of(id_type="驾驶证")
    assert set(errors) >= {"id_type"}


@pytest.mark.django_db
def test_a_batch_that_loses_a_race_on_a_record_is_a_conflict_in_words(monkeypatch):
    from django.db import IntegrityError

    from tests.factories import site_key
    from vaccination.models import Dose

    def lost(objs, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Dose.objects, "bulk_create", lost)
    with pytest.raises(DomainError) as refused:
        services.doses_ingest(key=site_key()[0], records=[record()], content_type="json", now=NOW)
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "conflict",
        409,
        "同一接种记录正被另一批次同时上传，请稍后重试本批次。",
    )
