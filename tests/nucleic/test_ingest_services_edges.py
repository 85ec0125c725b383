"""The result-ingest and policy services at their edges: the barcode's limits, report times,
what a batch records, who is recomputed and why, the 409 when a concurrent upload wins the
race, and a policy taking effect exactly now. Written against the surviving mutants of
``make mutants``."""

import datetime as dt

import pytest
import time_machine
from django.db.models import QuerySet
from django.utils import timezone

from healthcode.errors import DomainError
from healthcode.models import HealthCode, HealthCodeChange, Resident
from nucleic import services
from nucleic.models import ResultBatch, Sample, SampleChange, TestPolicy
from tests.factories import lab_token, make_resident, resident_id

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2022, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def record(n: int, **overrides) -> dict:
    data = {
        "barcode": f"BC{n:06d}",
        "id_type": "resident_id",
        "id_number": resident_id(seq=n % 1000, birth="19900101"),
        "name": "张三",
        "sampled_at": "2022-06-01 08:30",
        "reported_at": "2022-06-01 10:00",
        "result": "negative",
    }
    data.update(overrides)
    return data


def errors_of(raw: dict, now=NOW) -> dict:
    """The field errors of one record as ingest reports them ({} if it is accepted)."""
    token, _key = lab_token()
    _batch, outcome = services.results_ingest(
        token=token, records=[raw], content_type="json", now=now
    )
    return outcome.errors[0]["errors"] if outcome.errors else {}


BARCODE_MESSAGE = "样本条码应为4至64位字母、数字、连字符或下划线。"


@pytest.mark.parametrize(
    ("barcode", "accepted"),
    [
        ("ABCD", True),
        ("a-b_", True),
        ("X" * 64, True),
        (" BC0001 ", True),
        ("ABC", False),
        ("X" * 65, False),
        ("BC 001", False),
        ("BC.001", False),
        ("", False),
        (None, False),
    ],
)
def test_barcode_limits(barcode, accepted):
    errors = errors_of(record(1, barcode=barcode))
    if accepted:
        assert errors == {}
        assert Sample.objects.get().barcode == barcode.strip()
    else:
        assert errors == {"barcode": [BARCODE_MESSAGE]}
        assert not Sample.objects.exists()


def test_a_report_at_the_sampling_instant_is_accepted_and_earlier_is_not():
    assert errors_of(record(1, reported_at="2022-06-01 08:30")) == {}
    assert errors_of(record(2, reported_at="2022-06-01 08:29")) == {
        "reported_at": ["报告时间早于采样时间。"]
    }


def test_a_pending_result_keeps_no_report_time():
    assert errors_of(record(1, result="pending", reported_at="2022-06-01 10:00")) == {}
    assert Sample.objects.get().reported_at is None


def test_a_bad_sampling_time_does_not_hide_behind_the_report_time():
    errors = errors_of(record(1, sampled_at="yesterday"))
    assert list(errors) == ["sampled_at"]


def test_the_birth_date_is_checked_against_the_batchs_day_not_the_clock():
    born_2022_06_02 = resident_id(seq=3, birth="20220602")
    # The clock says 1 June; a batch landed as of 3 June may name someone born on the 2nd.
    later = record(1, id_number=born_2022_06_02, sampled_at="2022-06-02 08:30")
    later["reported_at"] = "2022-06-02 10:00"
    assert errors_of(later, now=NOW + dt.timedelta(days=2)) == {}
    # As of 1 June the same person is not born yet.
    early = record(2, id_number=born_2022_06_02, sampled_at="2022-06-01 08:30")
    assert list(errors_of(early, now=NOW)) == ["id_number"]


def test_a_batch_records_what_it_received_and_what_became_of_it():
    token, _key = lab_token()
    good, bad = record(1), record(2, barcode="x")
    landed = NOW - dt.timedelta(minutes=1)  # the time the batch is landed as, not the clock's
    batch, outcome = services.results_ingest(
        token=token, records=[good, bad], content_type="csv", now=landed
    )
    batch.refresh_from_db()
    assert (batch.lab, batch.token, batch.received_at, batch.content_type) == (
        token.lab,
        token,
        landed,
        "csv",
    )
    assert (batch.total, batch.created, batch.updated, batch.unchanged, batch.rejected) == (
        2,
        1,
        0,
        0,
        1,
    )
    assert batch.errors == [{"index": 1, "barcode": "x", "errors": {"barcode": [BARCODE_MESSAGE]}}]
    sample = Sample.objects.get()
    assert (sample.lab, sample.batch, sample.updated_at) == (token.lab, batch, landed)
    assert outcome.report()["created"] == 1


def test_the_people_touched_are_marked_due_at_the_batchs_time():
    resident = make_resident(name="张三", id_number=record(1)["id_number"])
    landed = NOW - dt.timedelta(minutes=1)
    token, _key = lab_token()
    services.results_ingest(token=token, records=[record(1)], content_type="json", now=landed)
    code = HealthCode.objects.get(resident=resident)
    assert (code.review_at, code.queued_at) == (landed, landed)


def test_the_same_barcode_at_two_labs_is_two_samples():
    first, _ = lab_token("第一检测机构")
    second, _ = lab_token("第二检测机构")
    services.results_ingest(token=first, records=[record(1)], content_type="json", now=NOW)
    _batch, outcome = services.results_ingest(
        token=second, records=[record(1, result="positive")], content_type="json", now=NOW
    )
    assert (len(outcome.created), len(outcome.updated)) == (1, 0)
    assert sorted(Sample.objects.values_list("lab__name", "result")) == [
        ("第一检测机构", "negative"),
        ("第二检测机构", "positive"),
    ]


def test_an_update_moves_the_sample_to_the_new_batch_and_keeps_the_change():
    token, _key = lab_token()
    first, _ = services.results_ingest(
        token=token, records=[record(1, result="pending", reported_at="")], content_type="json"
    )
    later = NOW + dt.timedelta(hours=2)
    second, outcome = services.results_ingest(
        token=token, records=[record(1)], content_type="json", now=later
    )
    sample = Sample.objects.get()
    assert (sample.batch, sample.updated_at, sample.result) == (second, later, "negative")
    change = SampleChange.objects.get()
    assert (change.sample, change.batch, change.changed_at) == (sample, second, later)
    assert (change.before["result"], change.after["result"]) == ("pending", "negative")
    second.refresh_from_db()
    assert (second.created, second.updated, second.unchanged) == (0, 1, 0)
    assert first.pk != second.pk and first.received_at == NOW


def test_a_batch_keeps_at_most_1000_errors():
    token, _key = lab_token()
    records = [record(n, barcode="x") for n in range(1001)]
    batch, outcome = services.results_ingest(
        token=token, records=records, content_type="json", now=NOW
    )
    batch.refresh_from_db()
    assert batch.rejected == 1001 and outcome.rejected == 1001
    assert len(batch.errors) == 1000 and batch.errors[-1]["index"] == 999


def test_those_touched_are_recomputed_after_commit_with_the_batch_as_cause(
    django_capture_on_commit_callbacks,
):
    resident = make_resident(name="张三", id_number=record(1)["id_number"])
    token, _key = lab_token()
    with django_capture_on_commit_callbacks(execute=True):
        batch, _ = services.results_ingest(
            token=token, records=[record(1, result="positive")], content_type="json", now=NOW
        )
    code = HealthCode.objects.get(resident=resident)
    assert code.colour == "red"
    change = HealthCodeChange.objects.filter(health_code=code).latest("id")
    assert (change.new_colour, change.cause) == ("red", f"lab batch {batch.pk}")


def test_an_update_recomputes_the_person_now_named(django_capture_on_commit_callbacks):
    resident = make_resident(name="张三", id_number=record(1)["id_number"])
    token, _key = lab_token()
    services.results_ingest(
        token=token,
        records=[record(1, result="pending", reported_at="")],
        content_type="json",
        now=NOW,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.results_ingest(
            token=token, records=[record(1, result="positive")], content_type="json", now=NOW
        )
    assert HealthCode.objects.get(resident=resident).colour == "red"


def test_a_concurrent_upload_that_won_the_race_is_a_409_and_this_batch_writes_nothing(
    monkeypatch,
):
    """Another upload inserted the barcode between this batch's read and its write: the read
    is made to miss the row, as it does in that race (the real race runs on PostgreSQL in
    tests/nucleic/test_ingest_api.py)."""
    token, _key = lab_token()
    services.results_ingest(token=token, records=[record(1)], content_type="json", now=NOW)
    batches = ResultBatch.objects.count()
    # The locking read of the lab's existing samples (healthcode.ingest.land_records) misses.
    real = QuerySet.select_for_update

    def miss_samples(queryset, *args, **kwargs):
        locked = real(queryset, *args, **kwargs)
        return locked.none() if queryset.model is Sample else locked

    monkeypatch.setattr(QuerySet, "select_for_update", miss_samples)
    with pytest.raises(DomainError) as exc:
        services.results_ingest(
            token=token, records=[record(1, result="positive")], content_type="json", now=NOW
        )
    assert (exc.value.code, exc.value.status, exc.value.field) == ("conflict", 409, None)
    assert exc.value.message == "同一样本正被另一批次同时上传，请稍后重试本批次。"
    assert ResultBatch.objects.count() == batches
    assert Sample.objects.get().result == "negative"


# --- Policies ----------------------------------------------------------------------------------
def test_a_policy_is_stored_as_given():
    policy = services.policy_create(
        group="general",
        window_hours=48,
        effective_from=NOW + dt.timedelta(days=1),
        counts_from="result",
        pending_counts=False,
        note="市政府通告",
    )
    policy.refresh_from_db()
    assert (
        policy.group,
        policy.window_hours,
        policy.effective_from,
        policy.counts_from,
        policy.pending_counts,
        policy.note,
        policy.created_by,
    ) == ("general", 48, NOW + dt.timedelta(days=1), "result", False, "市政府通告", None)
    defaults = services.policy_create(group="elderly", window_hours=72, effective_from=NOW)
    assert (defaults.counts_from, defaults.pending_counts, defaults.note) == ("sampling", True, "")


def test_a_policy_keeps_who_made_it(staff_user):
    policy = services.policy_create(
        group="general", window_hours=48, effective_from=NOW, created_by=staff_user
    )
    policy.refresh_from_db()
    assert policy.created_by == staff_user


def test_a_later_policy_marks_due_its_group_only():
    mine, other = make_resident(), make_resident()
    Resident.objects.filter(pk=mine.pk).update(population_group="arrival")
    later = NOW + dt.timedelta(days=2)
    services.policy_create(group="arrival", window_hours=24, effective_from=later)
    assert HealthCode.objects.get(resident=mine).review_at == later
    assert HealthCode.objects.get(resident=other).review_at != later


def test_an_unreachable_broker_leaves_a_policy_in_effect_to_the_sweep(
    resident, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    import logging

    from kombu.exceptions import OperationalError as BrokerError

    from healthcode import tasks

    def broker_down(**options):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.recompute_due, "delay", broker_down)
    with (
        caplog.at_level(logging.WARNING),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        services.policy_create(group="general", window_hours=48, effective_from=NOW)
    assert len(callbacks) == 1
    assert "sweep after a policy not enqueued (OperationalError)" in caplog.text
    assert TestPolicy.objects.get().window_hours == 48
    assert HealthCode.objects.get(resident=resident).review_at == NOW  # due for the sweep


def test_a_second_policy_at_the_same_instant_is_a_field_error():
    services.policy_create(group="general", window_hours=48, effective_from=NOW)
    with pytest.raises(DomainError) as exc:
        services.policy_create(group="general", window_hours=72, effective_from=NOW)
    assert exc.value.as_dict() == {"effective_from": ["该人群在此生效时间已有政策。"]}
    assert TestPolicy.objects.count() == 1
    # Another group, or another instant, is not a clash.
    services.policy_create(group="elderly", window_hours=72, effective_from=NOW)
    services.policy_create(group="general", window_hours=72, effective_from=NOW + dt.timedelta(1))
    assert TestPolicy.objects.count() == 3


@pytest.mark.parametrize(
    ("offset", "swept"), [(dt.timedelta(0), True), (dt.timedelta(seconds=1), False)]
)
def test_a_policy_in_effect_now_is_applied_at_once_and_a_later_one_is_not(
    resident, django_capture_on_commit_callbacks, offset, swept
):
    code = HealthCode.objects.get(resident=resident)
    assert code.test.get("window_hours") is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.policy_create(
            group=resident.population_group, window_hours=48, effective_from=timezone.now() + offset
        )
    assert len(callbacks) == (1 if swept else 0)
    code.refresh_from_db()
    if swept:
        assert code.test["window_hours"] == 48
    else:
        assert code.review_at == NOW + offset  # due at its effective instant, not before


# --- PostgreSQL's COPY text format (the insert path of a batch on PostgreSQL) -------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "\\N"),
        ("", ""),
        ("BC-0001", "BC-0001"),
        (42, "42"),
        ("a\\b\tc\nd\re", "a\\\\b\\tc\\nd\\re"),
        (dt.datetime(2022, 6, 1, 8, 30, tzinfo=dt.UTC), "2022-06-01T08:30:00+00:00"),
    ],
)
def test_copy_text(value, text):
    assert services._copy_text(value) == text


def test_a_record_is_checked_against_the_local_date_of_the_instant_given():
    """Born on the local date of ``now`` (a day after the clock's): not in the future then,
    whether a batch passes the date in or one record is cleaned alone."""
    later = NOW + dt.timedelta(days=1)  # 2 June, 20:00 in Beijing
    raw = record(
        1,
        id_number=resident_id(birth="20220602"),
        sampled_at="2022-06-02 08:30",
        reported_at="2022-06-02 10:00",
    )
    assert errors_of(raw, now=later) == {}
    assert services.clean_result_record(raw, now=later)["id_number"] == raw["id_number"]
    assert errors_of(raw, now=NOW)["id_number"] == ["身份证号码中的出生日期晚于今天。"]
