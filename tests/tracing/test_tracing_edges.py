"""Tracing's services at their edges: exact refusals (message, field, code, status), the
look-back and threshold bounds, what counts towards the second-officer threshold, and what an
apply and a withdrawal write. Written against the mutants of tracing/services.py
(docs/testing.md, mutation testing); each was checked by breaking the code by hand."""

# ruff: noqa: F811  (the fixtures come from test_tracing.py and are parameters here)

import datetime as dt

import pytest
import time_machine

from checkins.services import checkin_manual
from healthcode.errors import DomainError
from healthcode.models import RiskFlag
from tests.factories import lookups, make_officer, make_resident, make_venue
from tests.tracing.test_tracing import (  # noqa: F401  (fixtures)
    MIN,
    NOW,
    T0,
    case_person,
    clock,
    contacts,
    officer,
    register,
    second_officer,
    stay,
    traced,
    venue,
)
from tracing import services
from tracing.models import Application, Case, Trace, TraceAction

pytestmark = pytest.mark.django_db


def refusal(call, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        call(**kwargs)
    return exc.value


# --- Who may act -------------------------------------------------------------------------------
def test_only_an_officer_of_the_persons_region_registers_a_case(case_person):
    nobody = make_resident(name="普通人").user
    error = refusal(register, officer=nobody, person=case_person)
    assert (error.message, error.code, error.status) == (
        "仅卫生健康部门工作人员可以操作。",
        "not_officer",
        403,
    )
    elsewhere = make_officer(region_codes=("440304",)).user
    error = refusal(register, officer=elsewhere, person=case_person)
    assert (error.message, error.code, error.status) == (
        "该人员不在您负责的区域，请由其居住地的卫生健康部门处理。",
        "not_my_region",
        403,
    )
    assert not Case.objects.exists() and not lookups().exists()


# --- Cases -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "id_number",
    [
        "110105199001019999",  # nobody's
        "E12345678",  # a passport holder's: not the case named by a resident ID of it
    ],
)
def test_an_unknown_document_is_a_field_error(officer, id_number):
    """A case is found by document type and number together."""
    make_resident(name="JOHN SMITH", id_type="passport", id_number="E12345678")
    error = refusal(
        services.case_register,
        by=officer,
        id_type="resident_id",
        id_number=id_number,
        onset_at=T0,
    )
    assert (error.message, error.field, error.code) == (
        "未找到该证件号码的居民。",
        "id_number",
        "not_found",
    )
    assert not Case.objects.exists()


def test_the_onset_may_be_now_but_not_later(officer, case_person):
    error = refusal(
        register, officer=officer, person=case_person, onset_at=NOW + dt.timedelta(seconds=1)
    )
    assert (error.message, error.field) == ("发病时间不能晚于当前时间。", "onset_at")
    assert not Case.objects.exists()
    case = register(officer, case_person, onset_at=NOW)
    assert (case.onset_at, case.lookback_to, case.created_at) == (NOW, NOW, NOW)


def test_a_look_back_given_is_kept_and_must_end_after_it_begins(officer, case_person):
    start, end = T0 - dt.timedelta(days=1), T0 + dt.timedelta(hours=5)
    case = register(officer, case_person, lookback_from=start, lookback_to=end, note="  密接  ")
    assert (case.lookback_from, case.lookback_to, case.note) == (start, end, "密接")
    assert (case.resident, case.registered_by) == (case_person, officer)
    error = refusal(
        register, officer=officer, person=case_person, lookback_from=end, lookback_to=end
    )
    assert (error.message, error.field) == ("追溯终点应晚于追溯起点。", "lookback_to")
    assert Case.objects.count() == 1
    long = register(officer, case_person, note="注" * 201)
    assert long.note == "注" * 200


def test_a_case_is_registered_at_the_instant_passed_with_no_note_unless_given(officer, case_person):
    """The case's registration time is the ``now`` passed (an import of cases registered
    earlier keeps their time), not the clock's; a case given no note has none."""
    earlier = NOW - dt.timedelta(hours=3)
    case = register(officer, case_person, onset_at=earlier - dt.timedelta(days=1), now=earlier)
    assert (case.created_at, case.lookback_to, case.note) == (earlier, earlier, "")


def test_registering_a_case_is_recorded_as_a_lookup_of_the_person(officer, case_person):
    register(officer, case_person)
    lookup = lookups().get()
    assert (lookup.actor, lookup.subject, lookup.action) == (
        officer,
        case_person,
        "officer_trace",
    )


# --- Starting and running a trace ----------------------------------------------------------------
def test_the_threshold_defaults_to_the_setting_and_stays_within_a_day(
    officer, case_person, settings, django_capture_on_commit_callbacks
):
    settings.TRACE_THRESHOLD_MINUTES = 20
    case = register(officer, case_person)
    with django_capture_on_commit_callbacks(execute=True):
        trace = services.trace_start(case=case, by=officer, second_round=True)
    trace.refresh_from_db()
    assert (trace.threshold_minutes, trace.second_round, trace.created_by) == (20, True, officer)
    assert (trace.status, trace.progress) == (Trace.Status.DONE, 100)  # the task ran it
    assert trace.finished_at is not None
    for minutes in (1, 24 * 60):
        assert services.trace_start(case=case, by=officer, threshold_minutes=minutes)
    for minutes in (-1, 24 * 60 + 1):
        error = refusal(services.trace_start, case=case, by=officer, threshold_minutes=minutes)
        assert (error.message, error.field) == (
            "重叠阈值应在 1 到 1440 分钟之间。",
            "threshold_minutes",
        )
    assert Trace.objects.count() == 3
    other = make_officer(region_codes=("440304",)).user
    assert refusal(services.trace_start, case=case, by=other).code == "not_my_region"


def test_a_stay_half_inside_the_look_back_is_traced_from_where_it_begins(
    officer, venue, case_person
):
    """The case's stay 13:30–14:30 and a look-back from 14:00: only the half inside it
    counts, and the contact's window is cut to it."""
    start, end = T0, T0 + 60 * MIN
    stay(case_person, venue, start - 30 * MIN, minutes=60)
    before = make_resident(name="钱之前")  # with the case only before the look-back
    stay(before, venue, start - 30 * MIN, minutes=25)
    spanning = make_resident(name="孙跨越")
    stay(spanning, venue, start - 40 * MIN, minutes=120)
    case = register(officer, case_person, lookback_from=start, lookback_to=end)
    trace = services.trace_run(trace_id=services.trace_start(case=case, by=officer).pk)
    (contact,) = trace.contacts.all()
    assert contact.resident == spanning
    assert (contact.window_from, contact.window_to) == (start, start + 30 * MIN)


def test_a_stay_that_ends_exactly_the_threshold_after_the_case_arrived_counts(
    officer, venue, case_person
):
    stay(case_person, venue, T0, minutes=60, explicit=True)
    exactly = make_resident(name="钱刚好")
    stay(exactly, venue, T0 - 30 * MIN, minutes=45)  # 13:30–14:15: 15 minutes together
    short = make_resident(name="孙差一分")
    stay(short, venue, T0 - 30 * MIN, minutes=44)
    (contact,) = traced(officer, case_person).contacts.all()
    assert contact.resident == exactly
    assert (contact.window_from, contact.window_to) == (T0, T0 + 15 * MIN)
    assert contact.end_explicit is False  # the contact's own stay ended by assumption


def test_an_unregistered_persons_manual_check_in_is_no_contact(officer, venue, case_person):
    stay(case_person, venue, T0, minutes=60)
    inspector = make_officer().user
    checkin_manual(
        venue=venue,
        scanned_by=inspector,
        name="无名氏",
        id_type="resident_id",
        id_number="110105199001019999",
        now=T0,
    )
    trace = traced(officer, case_person)
    assert trace.status == Trace.Status.DONE and not trace.contacts.exists()


def test_a_withdrawn_application_lets_the_trace_run_again(officer, venue, case_person, contacts):
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    services.application_withdraw(application=application, by=officer, reason="撤销")
    late = make_resident(name="钱迟到")
    stay(late, venue, T0 + 10 * MIN, minutes=30)
    rerun = services.trace_run(trace_id=trace.pk)
    assert late.pk in set(rerun.contacts.values_list("resident_id", flat=True))


# --- Apply ---------------------------------------------------------------------------------------
def test_an_apply_needs_a_reason_a_finished_trace_and_someone_to_apply_to(
    officer, venue, case_person
):
    stay(case_person, venue, T0, minutes=60)
    trace = traced(officer, case_person)
    error = refusal(services.trace_apply, trace=trace, by=officer, reason="  ")
    assert (error.message, error.field) == ("请填写赋码理由。", "reason")
    error = refusal(services.trace_apply, trace=trace, by=officer, reason="流调确认")
    assert (error.message, error.code, error.status) == ("没有需要赋码的人员。", "nobody", 409)
    Trace.objects.filter(pk=trace.pk).update(status=Trace.Status.RUNNING)
    error = refusal(services.trace_apply, trace=trace, by=officer, reason="流调确认")
    assert (error.message, error.code, error.status) == (
        "时空关联尚未完成，不能赋码。",
        "not_done",
        409,
    )
    assert not Application.objects.exists()


def test_an_apply_writes_its_reason_time_and_one_flag_per_person(
    officer, venue, case_person, settings
):
    settings.TRACE_CLOSE_CONTACT_DAYS = 7
    stay(case_person, venue, T0, minutes=30)
    stay(case_person, venue, T0 + 120 * MIN, minutes=30)
    twice = make_resident(name="钱两次")
    stay(twice, venue, T0, minutes=200)  # with the case in both visits
    trace = traced(officer, case_person)
    assert trace.contacts.count() == 2
    application = services.trace_apply(trace=trace, by=officer, reason=" 流调确认" + "由" * 300)
    assert application.reason == ("流调确认" + "由" * 300)[:300]
    assert (application.status, application.people, application.requested_at) == (
        Application.Status.APPLIED,
        1,
        NOW,
    )
    flag = RiskFlag.objects.get()
    assert flag.external_id == f"T{trace.pk}-A{application.pk}-R{twice.pk}"
    assert (flag.kind, flag.source, flag.starts_at, flag.ends_at) == (
        "close_contact",
        "流调时空关联",
        NOW,
        NOW + dt.timedelta(days=7),
    )
    assert flag.reason == "与确诊病例时空交集（西湖区文三路联华超市，05-04 14:00–14:30）"
    action = TraceAction.objects.get()
    assert (action.reason, action.people, action.at, action.application) == (
        application.reason,
        1,
        NOW,
        application,
    )
    error = refusal(services.trace_apply, trace=trace, by=officer, reason="再来一次")
    assert (error.message, error.code, error.status) == ("该时空关联已有赋码申请。", "already", 409)


def test_the_threshold_is_reached_only_above_it(officer, case_person, contacts, settings):
    settings.TRACE_APPROVAL_THRESHOLD = 3  # the three contacts: exactly the threshold
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    assert application.status == Application.Status.APPLIED


@pytest.fixture
def two_cases(venue):
    """Two cases with two contacts each, at different hours."""
    people = []
    for n in range(2):
        person = make_resident(name=f"赵病例{'甲乙'[n]}")
        stay(person, venue, T0 + n * 120 * MIN, minutes=60)
        for name in ("钱", "孙"):
            stay(make_resident(name=f"{name}{'甲乙'[n]}"), venue, T0 + n * 120 * MIN, minutes=60)
        people.append(person)
    return people


def test_only_what_this_officer_applied_alone_in_24_hours_counts(
    officer, second_officer, two_cases, settings
):
    """Towards the threshold count: this officer's own applies without approval within 24 h.
    Not another officer's, not an approved one, not a withdrawn one, not one 24 h old."""
    settings.TRACE_APPROVAL_THRESHOLD = 3
    first, second = two_cases
    earlier = services.trace_apply(trace=traced(officer, first), by=officer, reason="流调确认")
    trace = traced(officer, second)
    Application.objects.filter(pk=earlier.pk).update(requested_by=second_officer)
    assert services.trace_apply(trace=trace, by=officer, reason="x").status == "applied"
    Application.objects.filter(trace=trace).update(status=Application.Status.WITHDRAWN)

    Application.objects.filter(pk=earlier.pk).update(
        requested_by=officer, requested_at=NOW - dt.timedelta(hours=24)
    )
    assert services.trace_apply(trace=trace, by=officer, reason="x").status == "applied"
    Application.objects.filter(trace=trace).update(status=Application.Status.WITHDRAWN)

    Application.objects.filter(pk=earlier.pk).update(
        requested_at=NOW - dt.timedelta(hours=24) + dt.timedelta(seconds=1),
        status=Application.Status.WITHDRAWN,
    )
    assert services.trace_apply(trace=trace, by=officer, reason="x").status == "applied"
    Application.objects.filter(trace=trace).update(status=Application.Status.WITHDRAWN)

    Application.objects.filter(pk=earlier.pk).update(
        status=Application.Status.APPLIED, approved_by=second_officer
    )
    assert services.trace_apply(trace=trace, by=officer, reason="x").status == "applied"
    Application.objects.filter(trace=trace).update(status=Application.Status.WITHDRAWN)

    Application.objects.filter(pk=earlier.pk).update(approved_by=None)
    assert services.trace_apply(trace=trace, by=officer, reason="x").status == "pending"


# --- Approve -------------------------------------------------------------------------------------
def test_an_approval_is_by_another_officer_once(
    officer, second_officer, case_person, contacts, settings
):
    settings.TRACE_APPROVAL_THRESHOLD = 2
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    error = refusal(services.application_approve, application=application, by=officer)
    assert (error.message, error.code, error.status) == (
        "不能审批自己提交的申请，须由另一名工作人员审批。",
        "own",
        403,
    )
    later = NOW + dt.timedelta(minutes=5)
    approved = services.application_approve(application=application, by=second_officer, now=later)
    approved.refresh_from_db()
    assert (approved.status, approved.approved_by, approved.approved_at) == (
        Application.Status.APPLIED,
        second_officer,
        later,
    )
    assert RiskFlag.objects.filter(starts_at=later).count() == 3
    error = refusal(services.application_approve, application=application, by=second_officer)
    assert (error.message, error.code, error.status) == (
        "该申请不在待审批状态。",
        "not_pending",
        409,
    )
    assert RiskFlag.objects.count() == 3


# --- Withdraw ------------------------------------------------------------------------------------
def test_a_withdrawal_ends_each_flag_now_and_records_who_and_why(
    officer, second_officer, case_person, contacts
):
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    later = NOW + dt.timedelta(hours=1)
    action = services.application_withdraw(
        application=application, by=second_officer, reason=" 误判" + "因" * 300, now=later
    )
    assert set(RiskFlag.objects.values_list("ends_at", flat=True)) == {later}
    assert (action.kind, action.actor, action.people, action.at) == (
        "withdraw",
        second_officer,
        3,
        later,
    )
    assert action.reason == ("误判" + "因" * 300)[:300] and action.flag_external_id == ""
    error = refusal(
        services.application_withdraw, application=application, by=officer, reason="再撤"
    )
    assert (error.message, error.code, error.status) == ("该申请已撤销。", "withdrawn", 409)


def test_a_withdrawal_needs_a_reason(officer, case_person, contacts):
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    error = refusal(services.application_withdraw, application=application, by=officer, reason="")
    assert (error.message, error.field) == ("请填写撤销理由。", "reason")


def test_withdrawing_a_pending_application_cancels_it_and_ends_no_flags(
    officer, case_person, contacts, settings
):
    settings.TRACE_APPROVAL_THRESHOLD = 2
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    error = refusal(
        services.application_withdraw,
        application=application,
        by=officer,
        reason="误判",
        resident=contacts[0],
    )
    assert (error.message, error.code, error.status) == ("该人员没有可撤销的赋码。", "no_flag", 404)
    action = services.application_withdraw(application=application, by=officer, reason="取消")
    assert action.people == 0
    assert Application.objects.get().status == Application.Status.WITHDRAWN


def test_one_persons_flag_can_be_withdrawn_once_and_only_theirs(officer, case_person, contacts):
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    later = NOW + dt.timedelta(hours=1)
    action = services.application_withdraw(
        application=application, by=officer, reason="误判", resident=contacts[0], now=later
    )
    assert action.flag_external_id == f"T{trace.pk}-A{application.pk}-R{contacts[0].pk}"
    ends = dict(RiskFlag.objects.values_list("id_number", "ends_at"))
    assert ends[contacts[0].id_number] == later
    assert ends[contacts[1].id_number] == NOW + dt.timedelta(days=7)
    assert Application.objects.get().status == Application.Status.APPLIED
    with time_machine.travel(later + MIN, tick=False):
        error = refusal(
            services.application_withdraw,
            application=application,
            by=officer,
            reason="再撤",
            resident=contacts[0],
        )
    assert error.code == "no_flag"
    stranger = make_resident(name="周路人")
    assert (
        refusal(
            services.application_withdraw,
            application=application,
            by=officer,
            reason="误判",
            resident=stranger,
        ).code
        == "no_flag"
    )


def test_a_withdrawal_at_the_instant_of_the_apply_still_ends_the_flag(
    officer, case_person, contacts
):
    """A flag cannot end where it starts: withdrawn at once, it ends a microsecond later."""
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    services.application_withdraw(application=application, by=officer, reason="误判", now=NOW)
    assert set(RiskFlag.objects.values_list("ends_at", flat=True)) == {
        NOW + dt.timedelta(microseconds=1)
    }


# --- Written against the survivors of the full mutation run (docs/testing.md) -----------------
HOUR = dt.timedelta(hours=1)


def test_every_record_of_an_approval_and_a_withdrawal_carries_the_instant_passed(
    officer, second_officer, case_person, contacts, settings
):
    """The clock stands at NOW; the approval and the withdrawals are given later instants
    (a queued decision): each flag, audit event and action carries the instant given."""
    from audit.models import AuditEvent

    settings.TRACE_APPROVAL_THRESHOLD = 0
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    approved, one_out, all_out = NOW + HOUR, NOW + 2 * HOUR, NOW + 3 * HOUR

    services.application_approve(application=application, by=second_officer, now=approved)
    approval = AuditEvent.objects.get(action="application_approve")
    assert (approval.at, approval.reason, approval.actor) == (approved, "流调确认", second_officer)
    assert {e.at for e in AuditEvent.objects.filter(action="trace_apply")} == {approved}
    flags = RiskFlag.objects.filter(source=services.FLAG_SOURCE)
    assert {(f.starts_at, f.created_at, f.entered_by_id) for f in flags} == {
        (approved, approved, officer.pk)  # entered by the officer who asked for it
    }

    first = contacts[0]
    services.application_withdraw(
        application=application, by=second_officer, reason="误判", resident=first, now=one_out
    )
    flag = RiskFlag.objects.get(id_number=first.id_number, source=services.FLAG_SOURCE)
    assert (flag.ends_at, flag.updated_at, flag.entered_by) == (
        one_out,
        one_out + dt.timedelta(seconds=1),  # after the apply's own write at the same instant
        second_officer,
    )
    assert flag.reason.startswith("与确诊病例时空交集（西湖区文三路联华超市")  # kept
    (event,) = AuditEvent.objects.filter(action="application_withdraw")
    assert (event.at, event.subject_id) == (one_out, first.pk)

    services.application_withdraw(
        application=application, by=second_officer, reason="全部撤销", now=all_out
    )
    later = AuditEvent.objects.filter(action="application_withdraw", at=all_out)
    assert sorted(e.subject_id for e in later) == sorted(p.pk for p in contacts[1:])
    assert set(TraceAction.objects.values_list("kind", "at")) == {
        ("apply", approved),
        ("withdraw", one_out),
        ("withdraw", all_out),
    }


def test_only_an_officer_of_the_cases_region_approves_or_withdraws(
    officer, case_person, contacts, settings
):
    settings.TRACE_APPROVAL_THRESHOLD = 0
    far = make_officer(phone="13611110009", region_codes=("440300",)).user
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    for call, kwargs in (
        (services.application_approve, {}),
        (services.application_withdraw, {"reason": "撤销"}),
    ):
        error = refusal(call, application=application, by=far, **kwargs)
        assert (error.code, error.status) == ("not_my_region", 403)
    assert Application.objects.get().status == Application.Status.PENDING
    assert not RiskFlag.objects.exists()


def test_a_contact_with_a_passport_is_flagged_and_withdrawn_by_that_document(
    officer, venue, case_person, django_capture_on_commit_callbacks
):
    from healthcode.models import HealthCode

    stay(case_person, venue, T0, minutes=60)
    visitor = make_resident(name="JOHN SMITH", id_type="passport", id_number="E12345678")
    stay(visitor, venue, T0 + 5 * MIN, minutes=30)
    trace = traced(officer, case_person)
    with django_capture_on_commit_callbacks(execute=True):
        application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    flag = RiskFlag.objects.get()
    assert (flag.id_type, flag.id_number) == ("passport", "E12345678")
    assert HealthCode.objects.get(resident=visitor).colour == "red"

    with time_machine.travel(NOW + HOUR, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.application_withdraw(application=application, by=officer, reason="误判")
    flag.refresh_from_db()
    assert (flag.id_type, flag.ends_at) == ("passport", NOW + HOUR)
    assert RiskFlag.objects.count() == 1  # ended, not imported again under another document
    assert HealthCode.objects.get(resident=visitor).colour == "green"


def test_a_secondary_contacts_yellow_keeps_the_rules_length_not_the_observation_days(
    officer, venue, case_person, settings
):
    from tests.tracing.test_tracing import _with_secondary

    settings.TRACE_CLOSE_CONTACT_DAYS = 7
    close, secondary = _with_secondary(venue, case_person)
    trace = traced(officer, case_person, second_round=True)
    services.trace_apply(trace=trace, by=officer, reason="流调确认")
    ends = dict(RiskFlag.objects.values_list("kind", "ends_at"))
    assert ends["close_contact"] == NOW + dt.timedelta(days=7)
    assert ends["other_medium"] != NOW + dt.timedelta(days=7)


def test_a_withdrawal_ends_only_its_own_applications_flags(officer, venue, case_person, contacts):
    from healthcode.services import risk_flags_import

    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    # Another trace's application, and a flag another list sent under a look-alike id.
    other_case = make_resident(name="孙病例")
    stay(other_case, venue, T0 + 24 * 60 * MIN, minutes=60)
    bystander = make_resident(name="周路人")
    stay(bystander, venue, T0 + 24 * 60 * MIN + 5 * MIN, minutes=30)
    other = services.trace_apply(trace=traced(officer, other_case), by=officer, reason="另一起流调")
    look_alike = f"T{trace.pk}-A{application.pk}-R{bystander.pk}"
    risk_flags_import(
        records=[
            {
                "source": "省疾控推送",
                "external_id": look_alike,
                "id_type": bystander.id_type,
                "id_number": bystander.id_number,
                "name": bystander.name,
                "kind": "fever_clinic",
                "starts_at": (NOW - HOUR).isoformat(),
                "reason": "发热门诊就诊",
            }
        ],
        entered_by=officer,
    )

    services.application_withdraw(
        application=application, by=officer, reason="误判", now=NOW + HOUR
    )

    ended = RiskFlag.objects.filter(ends_at__lte=NOW + HOUR).values_list("external_id", flat=True)
    assert set(ended) == {f"T{trace.pk}-A{application.pk}-R{p.pk}" for p in contacts}
    still = RiskFlag.objects.exclude(ends_at__lte=NOW + HOUR)
    assert {f.external_id for f in still} == {
        f"T{other.trace_id}-A{other.pk}-R{bystander.pk}",
        look_alike,
    }


def rejecting_import(monkeypatch):
    """The flag import refusing a record (a document the import no longer accepts)."""
    from healthcode.ingest import Outcome

    def refuse(*, records, entered_by, now=None):
        outcome = Outcome()
        outcome.errors.append({"index": 0, "errors": {"id_number": ["证件号码不正确。"]}})
        return outcome

    monkeypatch.setattr(services, "risk_flags_import", refuse)


def test_an_apply_the_flag_import_refuses_changes_nothing_and_says_why(
    officer, case_person, contacts, monkeypatch, caplog
):
    import logging

    trace = traced(officer, case_person)
    rejecting_import(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="tracing"):
        error = refusal(services.trace_apply, trace=trace, by=officer, reason="流调确认")
    assert (error.message, error.code, error.status) == (
        "部分人员信息无法赋码，未做任何更改。",
        "rejected",
        409,
    )
    assert [m for m in caplog.messages if "refused" in m] == [
        f"trace {trace.pk} apply refused by the flag import: "
        "[{'id_number': ['证件号码不正确。']}]"
    ]
    assert not Application.objects.exists() and not TraceAction.objects.exists()


def test_a_withdrawal_the_flag_import_refuses_changes_nothing_and_says_so(
    officer, case_person, contacts, monkeypatch
):
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    rejecting_import(monkeypatch)
    error = refusal(
        services.application_withdraw, application=application, by=officer, reason="误判"
    )
    assert (error.message, error.code, error.status) == (
        "撤销未能完成，未做任何更改。",
        "rejected",
        409,
    )
    assert Application.objects.get().status == Application.Status.APPLIED
    assert TraceAction.objects.filter(kind="withdraw").count() == 0
    assert not RiskFlag.objects.filter(ends_at__lte=NOW).exists()


def test_a_trace_page_read_is_recorded_at_the_instant_given(officer, case_person, contacts):
    from audit.models import AuditEvent

    trace = traced(officer, case_person)
    seen = NOW + HOUR
    services.trace_viewed(trace=trace, by=officer, resident_ids=[contacts[0].pk], now=seen)
    events = AuditEvent.objects.filter(action="officer_trace_view")
    assert {(e.subject_id, e.at) for e in events} == {
        (case_person.pk, seen),
        (contacts[0].pk, seen),
    }


def test_the_colour_counts_are_stored_under_the_day_given(officer, case_person):
    from tracing.models import ColourCount

    yesterday = NOW - dt.timedelta(days=1)
    assert services.colour_counts_snapshot(now=yesterday) >= 1
    assert set(ColourCount.objects.values_list("day", flat=True)) == {
        dt.date(2026, 5, 5)  # 14:00 Beijing on 5 May
    }


def test_an_apply_is_asked_only_by_an_officer_of_the_cases_region(officer, case_person, contacts):
    far = make_officer(phone="13611110009", region_codes=("440300",)).user
    trace = traced(officer, case_person)
    error = refusal(services.trace_apply, trace=trace, by=far, reason="流调确认")
    assert (error.code, error.status) == ("not_my_region", 403)
    assert not Application.objects.exists()


def test_a_missing_reason_is_refused_like_an_empty_one(officer, case_person, contacts):
    trace = traced(officer, case_person)
    error = refusal(services.trace_apply, trace=trace, by=officer, reason=None)
    assert (error.message, error.field) == ("请填写赋码理由。", "reason")


def test_a_pending_application_blocks_another_and_keeps_its_requested_instant(
    officer, case_person, contacts, settings
):
    settings.TRACE_APPROVAL_THRESHOLD = 0
    trace = traced(officer, case_person)
    asked = NOW + HOUR
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认", now=asked)
    assert (application.status, Application.objects.get().requested_at) == ("pending", asked)
    error = refusal(services.trace_apply, trace=trace, by=officer, reason="再来一次")
    assert (error.code, error.status) == ("already", 409)
    assert Application.objects.count() == 1


def test_a_trace_with_a_pending_application_is_not_run_again(
    officer, case_person, contacts, settings
):
    settings.TRACE_APPROVAL_THRESHOLD = 0
    trace = traced(officer, case_person)
    services.trace_apply(trace=trace, by=officer, reason="流调确认")  # pending
    before = list(trace.contacts.values_list("pk", flat=True))
    services.trace_run(trace_id=trace.pk)  # a redelivered task
    assert list(trace.contacts.values_list("pk", flat=True)) == before


def test_a_rerun_replaces_the_contacts_it_found_before(officer, case_person, contacts):
    trace = traced(officer, case_person)
    assert trace.contacts.count() == 3
    services.trace_run(trace_id=trace.pk)  # a redelivered task, no application yet
    assert trace.contacts.count() == 3


def test_secondary_contacts_are_traced_from_a_close_contacts_first_contact(
    officer, venue, case_person
):
    """The close contact met the case twice; between the two they sat in a cafe with someone:
    that person is a secondary contact, counted from the first contact, not the last."""
    cafe = make_venue(full_name="西湖区文三路咖啡馆", category="restaurant")
    stay(case_person, venue, T0, minutes=120, explicit=True)
    close = make_resident(name="钱两回")
    stay(close, venue, T0 + 5 * MIN, minutes=20, explicit=True)
    stay(close, cafe, T0 + 30 * MIN, minutes=30, explicit=True)
    stay(close, venue, T0 + 70 * MIN, minutes=20, explicit=True)
    met = make_resident(name="孙咖啡")
    stay(met, cafe, T0 + 30 * MIN, minutes=30, explicit=True)
    trace = traced(officer, case_person, second_round=True)
    degrees = dict(trace.contacts.values_list("resident_id", "degree"))
    assert degrees == {close.pk: "close", met.pk: "secondary"}
