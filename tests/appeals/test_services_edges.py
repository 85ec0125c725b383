"""The edges of deciding an appeal, written against the mutants of ``appeals/services.py``
(docs/testing.md): the answer's exact limit and message, each refusal's exact message and code,
the decision's own instant in the audit trail, and a withdrawal that touches only the appeal's
own fact, once."""

import datetime as dt

import pytest
import time_machine

from appeals.models import TEXT_MAX, Appeal
from appeals.services import appeal_reject, appeal_submit, appeal_uphold
from audit.models import AuditEvent
from healthcode.errors import DomainError
from healthcode.models import HealthCode, ItineraryStay, RiskArea, RiskFlag
from healthcode.services import stay_declare
from nucleic.models import Sample
from tests.appeals.conftest import colour, reason_fact
from tests.factories import add_flag, make_resident, post_result

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 6, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
EARLIER = NOW - dt.timedelta(minutes=30)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def appeal_on(resident) -> Appeal:
    return appeal_submit(resident=resident, fact=reason_fact(resident), text="我当天不在该地。")


def flagged(name: str, phone: str, **times) -> tuple:
    person = make_resident(name=name, phone=phone)
    flag = add_flag(person, "fever_clinic", **(times or {"starts": NOW - dt.timedelta(hours=1)}))
    return person, flag


def positive(name: str):
    person = make_resident(name=name)
    post_result(
        id_number=person.id_number,
        name=person.name,
        sampled=NOW - dt.timedelta(hours=30),
        reported=NOW - dt.timedelta(hours=20),
        result="positive",
    )
    assert colour(person) == "red"
    return person


def stayed(name: str):
    person = make_resident(name=name)
    stay_declare(
        resident=person,
        region_code="330106",
        arrived_at=NOW - dt.timedelta(days=2),
        left_at=NOW - dt.timedelta(days=1),
    )
    assert colour(person) == "yellow"
    return person


@pytest.fixture
def medium_area(db):
    return RiskArea.objects.create(
        region_code="330106", name="西湖区", level="medium", starts_at=NOW - dt.timedelta(days=5)
    )


# --- The answer ----------------------------------------------------------------------------
@pytest.mark.parametrize("decide", ["reject", "uphold"])
def test_an_answer_of_exactly_the_limit_is_kept_one_more_is_refused_on_its_field(
    yellow, officer, decide
):
    appeal = appeal_on(yellow)
    act = appeal_reject if decide == "reject" else appeal_uphold
    with pytest.raises(DomainError) as refused:
        act(appeal=appeal, by=officer, answer="实" * (TEXT_MAX + 1))
    assert (refused.value.field, refused.value.message, refused.value.status) == (
        "answer",
        f"答复最多 {TEXT_MAX} 个字（现在 {TEXT_MAX + 1} 个）。",
        400,
    )
    assert Appeal.objects.get(pk=appeal.pk).is_open
    assert not AuditEvent.objects.filter(action__startswith="appeal").exists()

    act(appeal=appeal, by=officer, answer=" " + "实" * TEXT_MAX + " ")
    appeal.refresh_from_db()
    assert appeal.answer == "实" * TEXT_MAX  # trimmed, then counted


# --- Who may decide: each refusal's exact words ----------------------------------------------
def test_a_resident_is_refused_as_no_officer(yellow):
    appeal = appeal_on(yellow)
    with pytest.raises(DomainError) as refused:
        appeal_reject(appeal=appeal, by=yellow.user, answer="属实。")
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "not_officer",
        403,
        "仅卫生健康部门工作人员可以处理申诉。",
    )


def test_an_officer_of_another_region_is_told_it_does_not_exist(yellow, far_officer):
    appeal = appeal_on(yellow)
    with pytest.raises(DomainError) as refused:
        appeal_uphold(appeal=appeal, by=far_officer)
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "not_found",
        404,
        "未找到该申诉。",
    )


def test_a_second_decision_is_refused_with_its_reason(yellow, officer, other_officer):
    appeal = appeal_on(yellow)
    appeal_reject(appeal=appeal, by=officer, answer="属实。")
    with pytest.raises(DomainError) as refused:
        appeal_reject(appeal=appeal, by=other_officer, answer="再次驳回。")
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "decided",
        409,
        "该申诉已处理，不能再次处理。",
    )


def test_a_decision_reads_the_appeal_with_its_resident_and_flag_in_one_locked_query(
    yellow, officer, django_assert_num_queries
):
    appeal = Appeal.objects.get(pk=appeal_on(yellow).pk)
    # the officer and their regions (1), the appeal with its resident and flag (1: the flag of
    # a fever clinic comes from no trace, so no trace officers are asked), the colour (1), the
    # appeal's update (1), the audit: the actor's roles and the INSERT (2), and the savepoint
    # pair of the atomic block inside the test's transaction (2).
    with django_assert_num_queries(8):
        appeal_reject(appeal=appeal, by=officer, answer="属实。")


# --- The decision's instant ---------------------------------------------------------------
def test_the_audit_records_the_decisions_instant_not_the_clocks(yellow, officer):
    appeal = appeal_on(yellow)
    decided = NOW + dt.timedelta(minutes=7)
    appeal_reject(appeal=appeal, by=officer, answer="属实。", now=decided)
    assert AuditEvent.objects.get(action="appeal_reject").at == decided
    assert Appeal.objects.get(pk=appeal.pk).decided_at == decided


# --- Withdrawing only the appeal's own fact, once -----------------------------------------
def test_upholding_a_flag_leaves_another_persons_flag_alone(officer):
    person, flag = flagged("李晓明", "13912340001")
    other, other_flag = flagged("王小红", "13912340002")
    appeal_uphold(appeal=appeal_on(person), by=officer)

    other_flag.refresh_from_db()
    assert (other_flag.ends_at, other_flag.withdrawn_at) == (None, None)
    assert colour(other) == "yellow" and colour(person) == "green"


def test_a_flag_that_began_this_very_instant_ends_one_microsecond_later(officer):
    person, flag = flagged("李晓明", "13912340001", starts=NOW)
    appeal_uphold(appeal=appeal_on(person), by=officer)
    flag.refresh_from_db()
    assert flag.ends_at == NOW + dt.timedelta(microseconds=1)
    assert (flag.withdrawn_at, flag.updated_at) == (NOW, NOW)
    assert colour(person) == "green"


def test_a_flag_ending_at_the_decisions_instant_keeps_its_end_and_its_update_time(officer):
    ends = NOW + dt.timedelta(hours=1)
    person, flag = flagged("李晓明", "13912340001", starts=NOW - dt.timedelta(hours=1), ends=ends)
    before = RiskFlag.objects.get(pk=flag.pk).updated_at
    appeal_uphold(appeal=appeal_on(person), by=officer, now=ends)
    flag.refresh_from_db()
    assert (flag.ends_at, flag.updated_at, flag.withdrawn_at) == (ends, before, ends)


def test_a_flag_already_withdrawn_keeps_its_first_withdrawal(officer):
    person, flag = flagged("李晓明", "13912340001")
    appeal = appeal_on(person)
    RiskFlag.objects.filter(pk=flag.pk).update(withdrawn_at=EARLIER)
    appeal_uphold(appeal=appeal, by=officer)
    assert RiskFlag.objects.get(pk=flag.pk).withdrawn_at == EARLIER


def test_upholding_a_result_disputes_only_that_result_and_only_once(officer):
    person, other = positive("王阳"), positive("陈静")
    appeal = appeal_on(person)
    appeal_uphold(appeal=appeal, by=officer)
    assert Sample.objects.get(pk=appeal.sample_id).disputed_at == NOW
    assert not Sample.objects.filter(disputed_at__isnull=False).exclude(pk=appeal.sample_id)
    assert colour(other) == "red"

    third = positive("刘洋")
    appeal = appeal_on(third)
    Sample.objects.filter(pk=appeal.sample_id).update(disputed_at=EARLIER)
    appeal_uphold(appeal=appeal, by=officer)
    assert Sample.objects.get(pk=appeal.sample_id).disputed_at == EARLIER


def test_upholding_a_stay_sets_aside_only_that_stay_and_only_once(officer, medium_area):
    person, other = stayed("赵敏"), stayed("孙丽")
    appeal = appeal_on(person)
    appeal_uphold(appeal=appeal, by=officer)
    assert ItineraryStay.objects.get(pk=appeal.stay_id).set_aside_at == NOW
    assert not ItineraryStay.objects.filter(set_aside_at__isnull=False).exclude(pk=appeal.stay_id)
    assert colour(other) == "yellow"

    third = stayed("周杰")
    appeal = appeal_on(third)
    ItineraryStay.objects.filter(pk=appeal.stay_id).update(set_aside_at=EARLIER)
    appeal_uphold(appeal=appeal, by=officer)
    assert ItineraryStay.objects.get(pk=appeal.stay_id).set_aside_at == EARLIER


# --- Which row an appeal names ---------------------------------------------------------------
def test_an_appeal_names_the_very_flag_of_its_reason_among_the_persons_flags(officer):
    person, older = flagged("李晓明", "13912340001", starts=NOW - dt.timedelta(hours=3))
    newer = add_flag(person, "close_contact", starts=NOW - dt.timedelta(hours=1))
    for flag in (older, newer):
        fact = f"flag:{flag.pk}"
        appeal = appeal_submit(resident=person, fact=fact, text="我当天不在该地。")
        assert appeal.flag_id == flag.pk


@pytest.mark.parametrize("kind", ["flag", "sample"])
@pytest.mark.parametrize(
    "correction", [{"id_number": "110105199001011236"}, {"id_type": "passport"}]
)
def test_a_fact_corrected_to_another_document_since_the_code_was_computed_is_gone(kind, correction):
    if kind == "flag":
        person, row = flagged("李晓明", "13912340001")
    else:
        person = positive("王阳")
        row = Sample.objects.get(id_number=person.id_number)
    type(row).objects.filter(pk=row.pk).update(**correction)  # the stored code still names it
    with pytest.raises(DomainError) as refused:
        appeal_submit(resident=person, fact=f"{kind}:{row.pk}", text="我当天不在该地。")
    assert (refused.value.field, refused.value.code, refused.value.message) == (
        "fact",
        "no_such_reason",
        "该原因对应的记录已不存在。",
    )
    assert not Appeal.objects.exists()


def test_an_appeal_names_the_very_result_and_stay_of_its_reason(officer, medium_area):
    person = positive("王阳")
    post_result(
        id_number=person.id_number,
        name=person.name,
        sampled=NOW - dt.timedelta(hours=10),
        reported=NOW - dt.timedelta(hours=5),
        result="positive",
    )
    samples = list(Sample.objects.filter(id_number=person.id_number).order_by("pk"))
    for fact in [r["fact"] for r in HealthCode.objects.get(resident=person).reasons if r["fact"]]:
        appeal = appeal_submit(resident=person, fact=fact, text="复检为阴性。")
        assert f"sample:{appeal.sample_id}" == fact
    assert {a.sample_id for a in Appeal.objects.all()} <= {s.pk for s in samples}

    traveller = stayed("赵敏")
    stay_declare(
        resident=traveller,
        region_code="330106",
        arrived_at=NOW - dt.timedelta(hours=20),
        left_at=NOW - dt.timedelta(hours=10),
    )
    facts = [r["fact"] for r in HealthCode.objects.get(resident=traveller).reasons if r["fact"]]
    for fact in facts:
        appeal = appeal_submit(resident=traveller, fact=fact, text="申报有误。")
        assert fact.startswith(f"stay:{appeal.stay_id}/")


def test_an_upheld_appeal_is_recorded_and_recomputed_at_the_decisions_instant(yellow, officer):
    appeal = appeal_on(yellow)
    decided = NOW + dt.timedelta(minutes=7)
    appeal_uphold(appeal=appeal, by=officer, now=decided)
    assert AuditEvent.objects.get(action="appeal_uphold").at == decided
    assert HealthCode.objects.get(resident=yellow).computed_at == decided


def test_each_decision_is_logged_with_the_appeal_and_the_officer(yellow, officer, caplog):
    import logging

    first = appeal_on(yellow)
    with caplog.at_level(logging.INFO, logger="appeals"):
        appeal_reject(appeal=first, by=officer, answer="属实。")
    second = appeal_on(yellow)
    with caplog.at_level(logging.INFO, logger="appeals"):
        appeal_uphold(appeal=second, by=officer)
    decided = [m for m in caplog.messages if " by user " in m]
    assert decided == [
        f"appeal {first.pk} rejected by user {officer.pk}",
        f"appeal {second.pk} upheld by user {officer.pk}",
    ]


def test_an_appeal_keeps_its_reasons_code_and_its_submission_is_logged(yellow, caplog):
    import logging

    (reason,) = [r for r in HealthCode.objects.get(resident=yellow).reasons if r["fact"]]
    with caplog.at_level(logging.INFO, logger="appeals"):
        appeal = appeal_on(yellow)
    assert (appeal.reason_code, Appeal.objects.get().reason_code) == (reason["code"],) * 2
    assert f"appeal {appeal.pk} submitted by resident {yellow.pk}" in caplog.messages


def test_a_reason_not_on_the_code_is_refused_in_words(yellow):
    with pytest.raises(DomainError) as refused:
        appeal_submit(resident=yellow, fact="flag:999999", text="我当天不在该地。")
    assert (refused.value.field, refused.value.code, refused.value.message) == (
        "fact",
        "no_such_reason",
        "您的健康码上现在没有这条原因，无需申诉；请回到健康码页面重新选择。",
    )


def test_a_photo_stored_for_an_appeal_that_then_fails_to_save_goes_again(
    yellow, settings, monkeypatch
):
    from tests.appeals.conftest import image_bytes, stored_files, upload

    def broken(**fields):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Appeal.objects, "create", broken)
    with pytest.raises(RuntimeError):
        appeal_submit(
            resident=yellow,
            fact=reason_fact(yellow),
            text="我当天不在该地。",
            photo=upload(image_bytes()),
        )
    assert stored_files(settings) == []
