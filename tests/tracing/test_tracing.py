"""时空关联: who overlapped the case at a venue by at least the threshold, a second round, the
preview, applying with a second officer's approval above the threshold, and withdrawal — each
colour change through risk flags and the engine, each apply and withdrawal recorded."""

import datetime as dt

import pytest
import time_machine

from checkins.models import CheckIn, Method, StayEnd
from checkins.services import checkin_checkout, checkin_record
from healthcode.errors import DomainError
from healthcode.models import HealthCode, RiskFlag
from tests.factories import lookups, make_officer, make_resident, make_venue
from tracing import selectors, services
from tracing.models import Application, Degree, Trace, TraceAction, TraceContact

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 4, 6, 0, tzinfo=dt.UTC)  # 14:00 in Beijing
MIN = dt.timedelta(minutes=1)
NOW = T0 + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def officer():
    return make_officer(phone="13611110001", region_codes=("110105", "330106")).user


@pytest.fixture
def second_officer():
    return make_officer(phone="13611110002", region_codes=("110105", "330106")).user


@pytest.fixture
def venue():
    return make_venue(full_name="西湖区文三路联华超市", category="supermarket")  # 60 min


@pytest.fixture
def case_person():
    return make_resident(name="赵病例")


def stay(resident, venue, start, minutes=None, explicit=False) -> CheckIn:
    checkin, _ = checkin_record(resident=resident, venue=venue, method=Method.SELF_SCAN, now=start)
    if minutes is not None:
        if explicit:
            checkin_checkout(checkin=checkin, now=start + minutes * MIN)
        else:
            CheckIn.objects.filter(pk=checkin.pk).update(left_at=start + minutes * MIN)
    return CheckIn.objects.get(pk=checkin.pk)


def register(officer, person, **kwargs):
    return services.case_register(
        by=officer,
        id_type=person.id_type,
        id_number=person.id_number,
        onset_at=kwargs.pop("onset_at", T0 + dt.timedelta(days=1)),
        **kwargs,
    )


def traced(officer, person, **kwargs) -> Trace:
    case = register(officer, person)
    trace = services.trace_start(case=case, by=officer, **kwargs)
    return services.trace_run(trace_id=trace.pk)


def colour(resident) -> str:
    return HealthCode.objects.get(resident=resident).colour


# --- Overlap ---------------------------------------------------------------------------------
def test_overlap_at_the_thresholds_edge(officer, venue, case_person):
    stay(case_person, venue, T0, minutes=60, explicit=True)  # 14:00–15:00
    at_15 = make_resident(name="钱十五")
    stay(at_15, venue, T0 + 45 * MIN, minutes=30)  # 14:45–15:15: 15 minutes together
    at_14 = make_resident(name="孙十四")
    stay(at_14, venue, T0 + 46 * MIN, minutes=30)  # 14:46–15:16: 14 minutes
    trace = traced(officer, case_person)
    found = {c.resident_id: c for c in trace.contacts.all()}
    assert set(found) == {at_15.pk}
    contact = found[at_15.pk]
    assert (contact.window_from, contact.window_to) == (T0 + 45 * MIN, T0 + 60 * MIN)
    assert contact.overlap_minutes == 15 and contact.degree == Degree.CLOSE


def test_the_threshold_is_per_trace(officer, venue, case_person):
    stay(case_person, venue, T0, minutes=60)
    other = make_resident(name="钱五分")
    stay(other, venue, T0 + 55 * MIN, minutes=30)  # 5 minutes together
    assert not traced(officer, case_person).contacts.exists()
    assert traced(officer, case_person, threshold_minutes=5).contacts.count() == 1


def test_explicit_and_assumed_ends_are_told_apart(officer, venue, case_person):
    stay(case_person, venue, T0, minutes=120, explicit=True)
    left = make_resident(name="钱明确")
    stay(left, venue, T0 + 10 * MIN, minutes=30, explicit=True)
    assumed = make_resident(name="孙推定")
    stay(assumed, venue, T0 + 20 * MIN)  # the supermarket's 60 minutes
    contacts = {c.resident_id: c for c in traced(officer, case_person).contacts.all()}
    assert contacts[left.pk].end_explicit is True
    assert contacts[assumed.pk].end_explicit is False
    assert contacts[assumed.pk].window_to == T0 + 80 * MIN


def test_a_check_in_elsewhere_closes_a_stay_before_the_case_arrived(officer, venue, case_person):
    other_venue = make_venue(full_name="西湖区文三路便利店")
    early = make_resident(name="李早走")
    stay(early, venue, T0 - 50 * MIN)  # assumed until 14:10 …
    stay(early, other_venue, T0 - 40 * MIN)  # … but ended at 13:20 by a check-in elsewhere
    stay(case_person, venue, T0, minutes=60)
    assert CheckIn.objects.filter(resident=early, left_how=StayEnd.NEXT_CHECKIN).count() == 1
    assert not traced(officer, case_person).contacts.exists()


def test_stays_outside_the_look_back_and_other_venues_do_not_count(officer, venue, case_person):
    elsewhere = make_venue(full_name="西湖区文三路书店")
    stay(case_person, venue, T0 - dt.timedelta(days=6), minutes=60)  # before onset − 4 days
    old = make_resident(name="周旧人")
    stay(old, venue, T0 - dt.timedelta(days=6), minutes=60)
    stay(case_person, venue, T0, minutes=60)
    away = make_resident(name="吴别处")
    stay(away, elsewhere, T0, minutes=60)
    assert not traced(officer, case_person).contacts.exists()


def test_secondary_contacts_from_the_close_contacts_later_stays(officer, venue, case_person):
    cafe = make_venue(full_name="西湖区文三路咖啡馆", category="restaurant")
    stay(case_person, venue, T0, minutes=60)
    close = make_resident(name="钱密接")
    stay(close, venue, T0 + 10 * MIN, minutes=30, explicit=True)
    secondary = make_resident(name="孙次密")
    stay(close, cafe, T0 + 3 * 60 * MIN, minutes=60, explicit=True)
    stay(secondary, cafe, T0 + 3 * 60 * MIN + 10 * MIN, minutes=60)
    before = make_resident(name="李之前")  # met the close contact before the contact: no
    stay(before, cafe, T0 - 3 * 60 * MIN, minutes=60)
    stay(close, cafe, T0 - 3 * 60 * MIN, minutes=60, explicit=True)
    first = traced(officer, case_person)
    assert {c.resident_id for c in first.contacts.all()} == {close.pk}
    trace = traced(officer, case_person, second_round=True)
    degrees = {(c.resident_id, c.degree, c.via_id) for c in trace.contacts.all()}
    assert degrees == {
        (close.pk, Degree.CLOSE, None),
        (secondary.pk, Degree.SECONDARY, close.pk),
    }


def test_the_trace_is_recorded_as_lookups_of_the_people_found(officer, venue, case_person):
    stay(case_person, venue, T0, minutes=60)
    other = make_resident(name="钱被查")
    stay(other, venue, T0, minutes=60)
    traced(officer, case_person)
    kinds = set(lookups(action="officer_trace").values_list("subject", flat=True))
    assert kinds == {case_person.pk, other.pk}


# --- Cases -----------------------------------------------------------------------------------
def test_a_case_needs_an_officer_and_a_known_person(venue, case_person, officer):
    nobody = make_resident(name="普通人").user
    with pytest.raises(DomainError) as exc:
        register(nobody, case_person)
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        services.case_register(
            by=officer, id_type="resident_id", id_number="110105199001019999", onset_at=T0
        )
    assert exc.value.field == "id_number"
    case = register(officer, case_person)
    assert case.lookback_from == case.onset_at - dt.timedelta(days=4)
    assert case.lookback_to == NOW


# --- Preview and apply -----------------------------------------------------------------------
@pytest.fixture
def contacts(venue, case_person):
    stay(case_person, venue, T0, minutes=60)
    people = [make_resident(name=f"钱{n}") for n in "甲乙丙"]
    for person in people:
        stay(person, venue, T0 + 5 * MIN, minutes=40)
    return people


def test_preview_counts_and_changes_nothing(officer, case_person, contacts):
    from tests.factories import add_flag

    add_flag(contacts[0], "confirmed")  # already red
    flags_before = RiskFlag.objects.count()
    trace = traced(officer, case_person)
    preview = selectors.trace_preview(trace=trace)
    assert (preview.red, preview.yellow, preview.already_red, preview.people) == (3, 0, 1, 3)
    assert RiskFlag.objects.count() == flags_before
    assert [colour(p) for p in contacts] == ["red", "green", "green"]


def test_apply_below_the_threshold_turns_contacts_red_through_the_engine(
    officer, case_person, contacts, django_capture_on_commit_callbacks
):
    trace = traced(officer, case_person)
    with django_capture_on_commit_callbacks(execute=True):
        application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    assert application.status == Application.Status.APPLIED
    for person in contacts:
        code = HealthCode.objects.get(resident=person)
        assert code.colour == "red"
        assert code.reasons[0]["code"] == "close_contact"
    flag = RiskFlag.objects.get(id_number=contacts[0].id_number)
    assert flag.reason.startswith("与确诊病例时空交集（西湖区文三路联华超市，05-04 14:05–14:45")
    (action,) = TraceAction.objects.all()
    assert (action.kind, action.actor, action.approved_by, action.people) == (
        "apply",
        officer,
        None,
        3,
    )
    with pytest.raises(DomainError):  # once per trace
        services.trace_apply(trace=trace, by=officer, reason="再来一次")


def test_above_the_threshold_it_waits_for_a_second_officer(
    officer, second_officer, case_person, contacts, settings, django_capture_on_commit_callbacks
):
    settings.TRACE_APPROVAL_THRESHOLD = 2
    trace = traced(officer, case_person)
    application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    assert application.status == Application.Status.PENDING
    assert not RiskFlag.objects.exists() and not TraceAction.objects.exists()
    assert [colour(p) for p in contacts] == ["green"] * 3

    with pytest.raises(DomainError) as exc:
        services.application_approve(application=application, by=officer)
    assert exc.value.status == 403 and "不能审批自己" in exc.value.message
    nobody = make_resident(name="普通人").user
    with pytest.raises(DomainError):
        services.application_approve(application=application, by=nobody)
    assert not RiskFlag.objects.exists()
    assert Application.objects.get().status == Application.Status.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        services.application_approve(application=application, by=second_officer)
    assert [colour(p) for p in contacts] == ["red"] * 3
    (action,) = TraceAction.objects.all()
    assert (action.actor, action.approved_by) == (officer, second_officer)


def test_the_database_refuses_a_self_approval_too(officer, case_person, contacts):
    from django.db import IntegrityError, transaction

    trace = traced(officer, case_person)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Application.objects.create(
            trace=trace,
            status="applied",
            people=3,
            reason="x",
            requested_by=officer,
            approved_by=officer,
        )


def test_withdrawal_brings_the_colour_back_through_the_engine(
    officer, second_officer, case_person, contacts, django_capture_on_commit_callbacks
):
    trace = traced(officer, case_person)
    with django_capture_on_commit_callbacks(execute=True):
        application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.application_withdraw(
                application=application, by=second_officer, resident=contacts[0], reason="误判"
            )
        assert [colour(p) for p in contacts] == ["green", "red", "red"]
        with django_capture_on_commit_callbacks(execute=True):
            services.application_withdraw(application=application, by=officer, reason="整体撤销")
        assert [colour(p) for p in contacts] == ["green"] * 3
    actions = list(TraceAction.objects.values_list("kind", "actor", "people", "flag_external_id"))
    assert [a[:3] for a in actions] == [
        ("apply", officer.pk, 3),
        ("withdraw", second_officer.pk, 1),
        ("withdraw", officer.pk, 2),
    ]
    assert actions[1][3].endswith(f"-R{contacts[0].pk}") and actions[2][3] == ""
    assert Application.objects.get().status == Application.Status.WITHDRAWN
    with pytest.raises(DomainError):
        services.application_withdraw(application=application, by=officer, reason="再撤")


def test_a_withdrawal_needs_a_reason_and_changes_nothing_without(
    officer, case_person, contacts, django_capture_on_commit_callbacks
):
    trace = traced(officer, case_person)
    with django_capture_on_commit_callbacks(execute=True):
        application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    with pytest.raises(DomainError) as exc:
        services.application_withdraw(application=application, by=officer, reason="  ")
    assert exc.value.field == "reason"
    assert [colour(p) for p in contacts] == ["red"] * 3
    assert TraceAction.objects.count() == 1


def test_an_unfinished_trace_cannot_be_applied(officer, case_person, contacts):
    case = register(officer, case_person)
    trace = Trace.objects.create(case=case, created_by=officer)
    with pytest.raises(DomainError) as exc:
        services.trace_apply(trace=trace, by=officer, reason="流调确认")
    assert exc.value.status == 409 and not RiskFlag.objects.exists()


def test_secondary_contacts_turn_yellow(
    officer, venue, case_person, django_capture_on_commit_callbacks
):
    cafe = make_venue(full_name="西湖区文三路咖啡馆", category="restaurant")
    stay(case_person, venue, T0, minutes=60)
    close = make_resident(name="钱密接")
    stay(close, venue, T0 + 10 * MIN, minutes=30, explicit=True)
    secondary = make_resident(name="孙次密")
    stay(close, cafe, T0 + 3 * 60 * MIN, minutes=60, explicit=True)
    stay(secondary, cafe, T0 + 3 * 60 * MIN, minutes=60)
    trace = traced(officer, case_person, second_round=True)
    preview = selectors.trace_preview(trace=trace)
    assert (preview.red, preview.yellow) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.trace_apply(trace=trace, by=officer, reason="流调确认")
    assert (colour(close), colour(secondary)) == ("red", "yellow")
    assert TraceContact.objects.filter(trace=trace).count() == 2


def _with_secondary(venue, case_person):
    cafe = make_venue(full_name="西湖区文三路咖啡馆", category="restaurant")
    stay(case_person, venue, T0, minutes=60)
    close = make_resident(name="钱密接")
    stay(close, venue, T0 + 10 * MIN, minutes=30, explicit=True)
    secondary = make_resident(name="孙次密")
    stay(close, cafe, T0 + 3 * 60 * MIN, minutes=60, explicit=True)
    stay(secondary, cafe, T0 + 3 * 60 * MIN, minutes=60)
    return close, secondary


def test_withdrawal_ends_secondary_contacts_yellow_too(
    officer, second_officer, venue, case_person, django_capture_on_commit_callbacks
):
    """Yellow flags carry their rule's 14-day end; a withdrawal must end them as well."""
    close, secondary = _with_secondary(venue, case_person)
    trace = traced(officer, case_person, second_round=True)
    with django_capture_on_commit_callbacks(execute=True):
        application = services.trace_apply(trace=trace, by=officer, reason="流调确认")
    assert (colour(close), colour(secondary)) == ("red", "yellow")
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.application_withdraw(
                application=application, by=second_officer, reason="误判", resident=secondary
            )
        assert (colour(close), colour(secondary)) == ("red", "green")
        with django_capture_on_commit_callbacks(execute=True):
            action = services.application_withdraw(
                application=application, by=second_officer, reason="整体撤销"
            )
        assert action.people == 1  # the close contact's; the secondary one was ended already
        assert (colour(close), colour(secondary)) == ("green", "green")


def test_a_close_contacts_red_ends_after_the_observation_days(
    officer, case_person, contacts, settings, django_capture_on_commit_callbacks
):
    settings.TRACE_CLOSE_CONTACT_DAYS = 7
    trace = traced(officer, case_person)
    with django_capture_on_commit_callbacks(execute=True):
        services.trace_apply(trace=trace, by=officer, reason="流调确认")
    flag = RiskFlag.objects.get(id_number=contacts[0].id_number)
    assert flag.ends_at == NOW + dt.timedelta(days=7)
    from healthcode.selectors import health_code_of

    with time_machine.travel(flag.ends_at - dt.timedelta(seconds=1), tick=False):
        assert health_code_of(resident=contacts[0]).colour == "red"
    with time_machine.travel(flag.ends_at, tick=False):
        assert health_code_of(resident=contacts[0]).colour == "green"


def test_small_applies_by_one_officer_add_up_to_the_threshold(
    officer, second_officer, venue, settings, django_capture_on_commit_callbacks
):
    """Splitting one large change into cases under the threshold does not avoid a second
    officer: what the officer applied alone in 24 hours counts."""
    settings.TRACE_APPROVAL_THRESHOLD = 3
    statuses = []
    for n in range(2):
        person = make_resident(name=f"赵病例{'甲乙'[n]}")
        stay(person, venue, T0 + n * 120 * MIN, minutes=60)
        for name in ("钱", "孙"):
            stay(make_resident(name=f"{name}{'甲乙'[n]}"), venue, T0 + n * 120 * MIN, minutes=60)
        trace = traced(officer, person)
        with django_capture_on_commit_callbacks(execute=True):
            statuses.append(services.trace_apply(trace=trace, by=officer, reason="流调确认").status)
    assert statuses == [Application.Status.APPLIED, Application.Status.PENDING]
    with time_machine.travel(NOW + dt.timedelta(hours=25), tick=False):
        person = make_resident(name="赵病例丙")
        stay(person, venue, NOW + dt.timedelta(hours=24), minutes=60)
        stay(make_resident(name="钱丙"), venue, NOW + dt.timedelta(hours=24), minutes=60)
        trace = traced(officer, person)
        assert services.trace_apply(trace=trace, by=officer, reason="流调确认").status == "applied"


def test_a_trace_with_a_live_application_is_not_recomputed(officer, case_person, contacts):
    trace = traced(officer, case_person)
    services.trace_apply(trace=trace, by=officer, reason="流调确认")
    before = list(trace.contacts.values_list("pk", flat=True))
    make_resident(name="迟到者")
    services.trace_run(trace_id=trace.pk)  # a redelivered task
    assert list(trace.contacts.values_list("pk", flat=True)) == before
