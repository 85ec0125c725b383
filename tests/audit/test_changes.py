"""Every change of a status or of a fact behind one is in the trail: the engine's colour
changes (role system, the rules as the reason, old and new colour and the facts' keys), flags
created, ended and corrected (import API and page, admin), a trace applied, approved and
withdrawn — who, in what role, of whom, why. A bulk recompute writes its events in one INSERT
per chunk, however many codes changed."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import ActorRole, AuditEvent, AuditKind
from checkins.models import Method
from checkins.services import checkin_record
from healthcode import services
from healthcode.models import HealthCode, RiskFlag
from tests.factories import add_flag, make_officer, make_resident, make_venue, resident_id
from tracing import services as tracing_services
from tracing.models import Application

pytestmark = pytest.mark.django_db


def changes(**filters):
    return AuditEvent.objects.filter(kind=AuditKind.CHANGE, **filters).order_by("pk")


def mark() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def officer():
    return make_officer(phone="13611114001", region_codes=("110105", "330106")).user


# --- The engine ----------------------------------------------------------------------------------
def test_registration_is_the_first_status_change(resident):
    (event,) = changes(subject=resident)
    assert (event.action, event.role, event.actor, event.machine) == (
        "status_change",
        ActorRole.SYSTEM,
        None,
        "",
    )
    assert (event.detail["old"], event.detail["new"], event.detail["cause"]) == (
        "",
        "green",
        "registration",
    )


def test_a_recompute_that_changes_the_colour_is_audited_once_with_its_rule(resident):
    before = mark()
    flag = add_flag(resident, "close_contact")  # recomputes
    (event,) = changes(pk__gt=before)
    code = HealthCode.objects.get(resident=resident)
    assert (event.action, event.role, event.subject, event.actor) == (
        "status_change",
        ActorRole.SYSTEM,
        resident,
        None,
    )
    assert event.detail == {
        "health_code": code.pk,
        "old": "green",
        "new": "red",
        "rules": ["close_contact"],
        "facts": [f"flag:{flag.pk}"],
        "cause": "test",
    }
    assert event.reason == code.reasons[0]["text"] and event.reason
    assert event.at == code.changes.get(new_colour="red").changed_at


def test_a_recompute_names_the_person_and_their_code_when_the_two_ids_differ(resident):
    """The person's and the code's ids are the same in most tests (both made together); here
    the code is another row, so an event that named the code's id as the person, or a change
    filed under the person's id as a code, would be seen."""
    old = HealthCode.objects.get(resident=resident)
    old.delete()
    code = HealthCode.objects.create(
        pk=resident.pk + 1000,
        resident=resident,
        colour="green",
        reasons=[],
        test={},
        computed_at=old.computed_at,
    )
    before = mark()
    add_flag(resident, "close_contact")  # recomputes
    (event,) = changes(pk__gt=before)
    assert (event.subject_id, event.detail["health_code"]) == (resident.pk, code.pk)
    assert code.changes.get().new_colour == "red"


def test_a_recompute_that_changes_nothing_writes_nothing(resident):
    before = mark()
    services.healthcode_recompute_many(resident_ids=[resident.pk], cause="again")
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


def test_a_bulk_recompute_writes_one_event_per_changed_code_in_one_insert_per_chunk():
    """Three people or thirty, turned red by their flags: as many status_change events, and
    the same number of queries (the events are one INSERT, in the recompute's transaction)."""

    def turn_red(people) -> list[str]:
        for person in people:
            add_flag(person, "confirmed", recompute=False)
        before = mark()
        with CaptureQueriesContext(connection) as run:
            changed = services.healthcode_recompute_many(
                resident_ids=[p.pk for p in people], cause="risk flags"
            )
        assert changed == len(people)
        events = changes(pk__gt=before)
        assert sorted(events.values_list("subject", flat=True)) == sorted(p.pk for p in people)
        assert {(e.action, e.role, e.detail["new"]) for e in events} == {
            ("status_change", ActorRole.SYSTEM, "red")
        }
        return [q["sql"] for q in run.captured_queries]

    few = turn_red([make_resident(name=f"赵{n}") for n in range(3)])
    many = turn_red([make_resident(name=f"钱{n}") for n in range(30)])
    assert len(many) == len(few), "\n".join(many)
    assert sum(sql.startswith('INSERT INTO "audit_auditevent"') for sql in many) == 1


# --- Flags ---------------------------------------------------------------------------------------
STARTS = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0)


def flag_record(person, **overrides) -> dict:
    record = {
        "source": "市疾控",
        "external_id": "R-1",
        "id_type": "resident_id",
        "id_number": person.id_number,
        "name": person.name,
        "kind": "close_contact",
        "starts_at": STARTS.isoformat(),
        "reason": "密接判定",
    }
    return {**record, **overrides}


def test_a_flag_created_corrected_and_ended_through_the_import(officer, resident):
    before = mark()
    services.risk_flags_import(records=[flag_record(resident)], entered_by=officer)
    flag = RiskFlag.objects.get()
    (created,) = changes(pk__gt=before, action__startswith="flag_")
    assert (created.action, created.actor, created.role, created.subject) == (
        "flag_create",
        officer,
        ActorRole.OFFICER,
        resident,
    )
    assert created.reason == "密接判定"
    assert created.detail == {
        "flag": flag.pk,
        "kind": "close_contact",
        "source": "市疾控",
        "fields": [],
    }

    before = mark()
    services.risk_flags_import(records=[flag_record(resident)], entered_by=officer)
    assert not changes(pk__gt=before).exists()  # the same record again changes nothing

    services.risk_flags_import(
        records=[flag_record(resident, reason="密接判定（复核）")], entered_by=officer
    )
    corrected = changes(pk__gt=before).get()
    assert (corrected.action, corrected.detail["fields"]) == ("flag_correct", ["reason"])

    before = mark()
    now = timezone.now()
    services.risk_flags_import(
        records=[flag_record(resident, reason="密接判定（复核）", ends_at=now.isoformat())],
        entered_by=officer,
        now=now,
    )
    ended = changes(pk__gt=before).get()
    assert (ended.action, ended.detail["fields"], ended.subject) == (
        "flag_end",
        ["ends_at"],
        resident,
    )


def test_a_flag_of_someone_not_registered_names_them_masked(officer):
    number = resident_id(birth="19800101", seq=771)
    nobody = type("Nobody", (), {"id_number": number, "name": "周未注册"})()
    before = mark()
    services.risk_flags_import(records=[flag_record(nobody)], entered_by=officer)
    event = changes(pk__gt=before).get()
    assert event.subject is None
    assert event.subject_masked_id == number[:4] + "*" * 10 + number[-4:]


def test_a_flag_the_import_rejects_writes_no_event(officer, resident):
    before = mark()
    outcome = services.risk_flags_import(
        records=[flag_record(resident, kind="nonsense")], entered_by=officer
    )
    assert outcome.rejected == 1
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


def test_the_import_api_audits_as_the_officer(officer, resident):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    officer.user_permissions.add(Permission.objects.get(codename="add_riskflag"))
    api = APIClient()
    api.force_authenticate(officer)
    before = mark()
    body = {"records": [flag_record(resident)]}
    response = api.post(reverse("api-risk-flags"), body, format="json")
    assert response.status_code == 200, response.content
    event = changes(pk__gt=before, action="flag_create").get()
    assert (event.actor, event.role, event.subject) == (officer, ActorRole.OFFICER, resident)


def test_the_admin_audits_a_flag_added_and_ended(admin_client, admin_user, resident):
    starts = timezone.localtime(timezone.now() - dt.timedelta(hours=2))
    form = {
        "source": "admin",
        "external_id": "A1",
        "id_type": resident.id_type,
        "id_number": resident.id_number,
        "name": resident.name,
        "kind": "close_contact",
        "starts_at_0": starts.date().isoformat(),
        "starts_at_1": starts.time().isoformat(timespec="seconds"),
        "reason": "社区上报",
    }
    before = mark()
    assert admin_client.post(reverse("admin:healthcode_riskflag_add"), form).status_code == 302
    flag = RiskFlag.objects.get()
    created = changes(pk__gt=before).get()
    assert (created.action, created.actor, created.role, created.subject) == (
        "flag_create",
        admin_user,
        ActorRole.STAFF,
        resident,
    )
    assert created.detail["flag"] == flag.pk
    ends = timezone.localtime(timezone.now() - dt.timedelta(minutes=1))
    form |= {"ends_at_0": ends.date().isoformat(), "ends_at_1": ends.strftime("%H:%M:%S")}
    before = mark()
    url = reverse("admin:healthcode_riskflag_change", args=[flag.pk])
    assert admin_client.post(url, form).status_code == 302
    ended = changes(pk__gt=before).get()
    assert ended.action == "flag_end" and "ends_at" in ended.detail["fields"]


# --- Traces --------------------------------------------------------------------------------------
@pytest.fixture
def trace(officer):
    venue = make_venue(full_name="西湖区文三路联华超市")
    start = timezone.now() - dt.timedelta(hours=3)
    case_person = make_resident(name="赵病例")
    people = [make_resident(name=name) for name in ("钱多多", "孙小")]
    for person in (case_person, *people):
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=start)
    case = tracing_services.case_register(
        by=officer,
        id_type=case_person.id_type,
        id_number=case_person.id_number,
        onset_at=start + dt.timedelta(hours=1),
    )
    started = tracing_services.trace_start(case=case, by=officer)
    return tracing_services.trace_run(trace_id=started.pk), people


def test_a_trace_applied_is_a_change_of_each_person_with_the_officers_reason(officer, trace):
    trace, people = trace
    before = mark()
    application = tracing_services.trace_apply(trace=trace, by=officer, reason="流调确认")
    applied = changes(pk__gt=before, action="trace_apply")
    assert sorted(applied.values_list("subject", flat=True)) == sorted(p.pk for p in people)
    for event in applied:
        assert (event.actor, event.role, event.reason) == (officer, ActorRole.OFFICER, "流调确认")
        assert event.detail == {
            "trace": trace.pk,
            "application": application.pk,
            "degree": "close",
            "kind": "close_contact",
            "approved_by": None,
        }
    flags = changes(pk__gt=before, action="flag_create")
    assert sorted(flags.values_list("subject", flat=True)) == sorted(p.pk for p in people)


def test_an_approval_is_audited_as_the_second_officer(officer, trace, settings):
    trace, people = trace
    settings.TRACE_APPROVAL_THRESHOLD = 1
    second = make_officer(phone="13611114002", region_codes=("110105", "330106")).user
    application = tracing_services.trace_apply(trace=trace, by=officer, reason="流调确认")
    assert application.status == Application.Status.PENDING
    assert not changes(action="trace_apply").exists()
    tracing_services.application_approve(application=application, by=second)
    approved = changes(action="application_approve").get()
    assert (approved.actor, approved.role, approved.subject) == (second, ActorRole.OFFICER, None)
    assert approved.detail == {
        "trace": trace.pk,
        "application": application.pk,
        "people": 2,
        "requested_by": officer.pk,
    }
    applied = changes(action="trace_apply")
    assert {(e.actor_id, e.detail["approved_by"]) for e in applied} == {(officer.pk, second.pk)}


def test_a_self_approval_is_refused_and_audits_nothing(officer, trace, settings):
    from healthcode.errors import DomainError

    trace, _people = trace
    settings.TRACE_APPROVAL_THRESHOLD = 1
    application = tracing_services.trace_apply(trace=trace, by=officer, reason="流调确认")
    before = mark()
    with pytest.raises(DomainError):
        tracing_services.application_approve(application=application, by=officer)
    assert not AuditEvent.objects.filter(pk__gt=before).exists()


def test_a_withdrawal_is_a_change_of_each_person_with_its_reason(officer, trace):
    trace, people = trace
    application = tracing_services.trace_apply(trace=trace, by=officer, reason="流调确认")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=False):
        before = mark()
        tracing_services.application_withdraw(
            application=application, by=officer, resident=people[0], reason="误判"
        )
        one = changes(pk__gt=before, action="application_withdraw").get()
        assert (one.subject, one.reason, one.actor, one.role) == (
            people[0],
            "误判",
            officer,
            ActorRole.OFFICER,
        )
        assert one.detail == {"trace": trace.pk, "application": application.pk, "whole": False}
        ended = changes(pk__gt=before, action="flag_end")
        assert list(ended.values_list("subject", flat=True)) == [people[0].pk]
        before = mark()
        tracing_services.application_withdraw(
            application=application, by=officer, reason="整体撤销"
        )
        rest = changes(pk__gt=before, action="application_withdraw")
        assert [(e.subject, e.detail["whole"]) for e in rest] == [(people[1], True)]
