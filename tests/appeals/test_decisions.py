"""Deciding an appeal: upheld withdraws the fact and the engine brings the colour back at once,
named in the code's history and audited; rejected leaves the colour and answers; nobody decides
twice; only an officer of the region, and not one who started or applied the flag's trace."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from appeals.models import Appeal, AppealStatus
from appeals.services import appeal_reject, appeal_submit, appeal_uphold
from audit.models import AuditEvent
from healthcode.errors import DomainError
from healthcode.models import HealthCodeChange, ItineraryStay, RiskArea, RiskFlag
from healthcode.services import healthcode_recompute_many, stay_declare
from nucleic.models import Sample
from tests.appeals.conftest import colour, reason_fact
from tests.factories import make_officer, make_resident, post_result

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 6, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def appeal_on(resident, text="我当天不在该地。") -> Appeal:
    return appeal_submit(resident=resident, fact=reason_fact(resident), text=text)


def test_an_upheld_flag_ends_now_and_the_engine_turns_the_code_green_naming_the_appeal(
    yellow, officer
):
    appeal = appeal_on(yellow)
    flag = appeal.flag

    appeal_uphold(appeal=appeal, by=officer, answer="经核实为误报，已撤销。")

    assert colour(yellow) == "green"
    flag.refresh_from_db()
    assert flag.ends_at == NOW  # ended, not deleted: the record of it stays
    change = HealthCodeChange.objects.filter(health_code__resident=yellow).first()
    assert (change.old_colour, change.new_colour) == ("yellow", "green")
    assert change.cause == f"appeal {appeal.pk} upheld"
    assert change.cause_label == f"申诉成立（申诉编号 {appeal.pk}），相关记录已撤销"
    (event,) = AuditEvent.objects.filter(action="appeal_uphold")
    assert (event.actor, event.subject, event.reason) == (officer, yellow, "经核实为误报，已撤销。")
    assert event.detail == {
        "appeal": appeal.pk,
        "fact": appeal.fact,
        "old_colour": "yellow",
        "new_colour": "green",
    }
    appeal.refresh_from_db()
    assert (appeal.status, appeal.decided_by, appeal.decided_at) == ("upheld", officer, NOW)


def test_an_upheld_result_is_disputed_and_the_engine_no_longer_sees_it(officer):
    person = make_resident(name="王阳")
    post_result(
        id_number=person.id_number,
        name=person.name,
        sampled=NOW - dt.timedelta(hours=30),
        reported=NOW - dt.timedelta(hours=20),
        result="positive",
    )
    assert colour(person) == "red"
    appeal = appeal_on(person, text="复检为阴性，首次检测样本被污染。")
    assert appeal.kind == "sample"

    appeal_uphold(appeal=appeal, by=officer)

    assert colour(person) == "green"
    assert Sample.objects.get(pk=appeal.sample_id).disputed_at == NOW
    appeal.refresh_from_db()
    assert appeal.answer == "经核查，申诉成立，相关记录已撤销。"  # the default answer
    # A later recompute (the sweep, a read) does not bring it back.
    healthcode_recompute_many(resident_ids=[person.pk], cause="review time")
    assert colour(person) == "green"


def test_an_upheld_stay_is_set_aside_and_the_colour_comes_back(officer):
    person = make_resident(name="赵敏")
    RiskArea.objects.create(
        region_code="330106", name="西湖区", level="medium", starts_at=NOW - dt.timedelta(days=5)
    )
    stay_declare(
        resident=person,
        region_code="330106",
        arrived_at=NOW - dt.timedelta(days=2),
        left_at=NOW - dt.timedelta(days=1),
    )
    assert colour(person) == "yellow"
    appeal = appeal_on(person, text="申报有误，我没有去过西湖区。")
    assert (appeal.kind, appeal.area.name) == ("stay", "西湖区")

    appeal_uphold(appeal=appeal, by=officer)

    assert colour(person) == "green"
    assert ItineraryStay.objects.get(pk=appeal.stay_id).set_aside_at == NOW


def test_a_rejection_keeps_the_colour_needs_an_answer_and_is_audited(yellow, officer):
    appeal = appeal_on(yellow)
    with pytest.raises(DomainError) as refused:
        appeal_reject(appeal=appeal, by=officer, answer="   ")
    assert (refused.value.field, refused.value.message) == (
        "answer",
        "请填写驳回理由，申诉人会看到这段答复。",
    )
    assert Appeal.objects.get(pk=appeal.pk).status == "open"
    assert not AuditEvent.objects.filter(action__startswith="appeal").exists()

    flag_before = RiskFlag.objects.values().get(pk=appeal.flag_id)
    appeal_reject(appeal=appeal, by=officer, answer="发热门诊记录属实。")

    assert colour(yellow) == "yellow"
    assert RiskFlag.objects.values().get(pk=appeal.flag_id) == flag_before  # untouched
    appeal.refresh_from_db()
    assert (appeal.status, appeal.answer) == ("rejected", "发热门诊记录属实。")
    (event,) = AuditEvent.objects.filter(action="appeal_reject")
    assert (event.actor, event.subject, event.reason) == (officer, yellow, "发热门诊记录属实。")
    assert event.detail["new_colour"] == event.detail["old_colour"] == "yellow"


def test_a_decided_appeal_cannot_be_decided_again(yellow, officer, other_officer):
    appeal = appeal_on(yellow)
    appeal_reject(appeal=appeal, by=officer, answer="属实。")
    with pytest.raises(DomainError) as refused:
        appeal_uphold(appeal=appeal, by=other_officer)
    assert (refused.value.code, refused.value.status) == ("decided", 409)
    assert colour(yellow) == "yellow"
    assert AuditEvent.objects.filter(action__startswith="appeal").count() == 1


def test_only_an_officer_of_the_residents_region_decides(yellow, far_officer):
    appeal = appeal_on(yellow)
    with pytest.raises(DomainError) as elsewhere:
        appeal_uphold(appeal=appeal, by=far_officer)
    assert elsewhere.value.status == 404
    with pytest.raises(DomainError) as not_officer:
        appeal_uphold(appeal=appeal, by=yellow.user)
    assert not_officer.value.status == 403
    assert colour(yellow) == "yellow" and Appeal.objects.get().is_open
    assert not AuditEvent.objects.filter(action__startswith="appeal").exists()


def test_the_decision_rule_is_a_database_constraint_too(yellow, officer):
    appeal = appeal_on(yellow)
    decided = Appeal.objects.filter(pk=appeal.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        decided.update(status=AppealStatus.UPHELD, decided_at=NOW)  # nobody decided it
    with pytest.raises(IntegrityError), transaction.atomic():
        decided.update(
            status=AppealStatus.REJECTED, decided_at=NOW, decided_by=officer
        )  # no answer
    decided.update(status=AppealStatus.REJECTED, decided_at=NOW, decided_by=officer, answer="属实")


# --- The officers of the trace the flag came from --------------------------------------------
def _traced_contact(*, started_by, applied_by, approved_by):
    """A close contact turned red by a trace ``started_by`` ran, ``applied_by`` asked to apply
    and ``approved_by`` approved (the threshold is 0 in these tests: every apply waits)."""
    from checkins.models import CheckIn, Method
    from checkins.services import checkin_record
    from tests.factories import make_venue
    from tracing import services as tracing

    venue = make_venue(full_name="朝阳区建国路超市", region_code="110105")
    case_person = make_resident(name="赵病例", phone="13912340101")
    contact = make_resident(name="钱接触", phone="13912340102")
    start = NOW - dt.timedelta(days=1)
    for person in (case_person, contact):
        checkin, _ = checkin_record(
            resident=person, venue=venue, method=Method.SELF_SCAN, now=start
        )
        CheckIn.objects.filter(pk=checkin.pk).update(left_at=start + dt.timedelta(minutes=40))
    case = tracing.case_register(
        by=started_by,
        id_type=case_person.id_type,
        id_number=case_person.id_number,
        onset_at=NOW - dt.timedelta(hours=12),
    )
    trace = tracing.trace_start(case=case, by=started_by)
    tracing.trace_run(trace_id=trace.pk)
    application = tracing.trace_apply(trace=trace, by=applied_by, reason="同场所停留 40 分钟")
    tracing.application_approve(application=application, by=approved_by)
    # The apply's recompute runs after commit (never, in a test's transaction): done here.
    healthcode_recompute_many(resident_ids=[contact.pk], cause="risk flags")
    assert colour(contact) == "red"
    return contact


def test_the_officers_of_the_trace_cannot_decide_but_a_second_officer_can(officer, settings):
    settings.TRACE_APPROVAL_THRESHOLD = 0
    starter, applier, approver = (
        make_officer(phone=f"1361112001{n}", region_codes=("110105",)).user for n in (1, 2, 3)
    )
    contact = _traced_contact(started_by=starter, applied_by=applier, approved_by=approver)
    appeal = appeal_on(contact, text="我当时在门口，没有进店。")

    for own in (starter, applier, approver):
        with pytest.raises(DomainError) as refused:
            appeal_uphold(appeal=appeal, by=own)
        assert (refused.value.code, refused.value.status) == ("own_trace", 403)
        assert refused.value.message == (
            "该风险标记来自您发起或赋码的流调，您不能处理针对它的申诉，请由另一名工作人员处理。"
        )
        with pytest.raises(DomainError):
            appeal_reject(appeal=appeal, by=own, answer="属实")
    assert colour(contact) == "red" and Appeal.objects.get().is_open
    assert not AuditEvent.objects.filter(action__startswith="appeal").exists()

    appeal_uphold(appeal=appeal, by=officer, answer="经核实未进入店内。")
    assert colour(contact) == "green"
    assert AuditEvent.objects.get(action="appeal_uphold").actor == officer


def test_a_list_that_sends_an_upheld_flag_again_does_not_revive_it(officer):
    """The source list resends its record (same source and id, its own end date): the flag's
    fields are updated as the import does, but it stays withdrawn and the code stays green."""
    from healthcode.services import risk_flags_import

    person = make_resident(name="周小平")
    record = {
        "source": "省疾控推送",
        "external_id": "X1",
        "id_type": person.id_type,
        "id_number": person.id_number,
        "name": person.name,
        "kind": "fever_clinic",
        "starts_at": (NOW - dt.timedelta(hours=2)).isoformat(),
        "reason": "发热门诊就诊",
    }
    assert not risk_flags_import(records=[record], entered_by=officer).errors
    healthcode_recompute_many(resident_ids=[person.pk], cause="test")  # the import's, on commit
    assert colour(person) == "yellow"
    appeal_uphold(appeal=appeal_on(person), by=officer, answer="经核实为误报，已撤销。")
    assert colour(person) == "green"
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        outcome = risk_flags_import(records=[record], entered_by=officer)
        assert outcome.updated  # the import wrote the record's end back
        healthcode_recompute_many(resident_ids=[person.pk], cause="test")
        assert colour(person) == "green"
    assert RiskFlag.objects.get(external_id="X1").withdrawn_at == NOW
