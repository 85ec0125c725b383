"""audit.services at its edges (written against its mutants, docs/testing.md): which role an
event is given and from what, what is cut to the columns' lengths, and what a lookup keeps."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.functional import lazy

from audit import services
from audit.models import ActorRole, AuditEvent, AuditKind
from checkins.models import GridWorker
from healthcode import masking
from healthcode.models import User
from tests.factories import PASSWORD, make_officer, make_resident, make_venue
from venues import services as venue_services

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def user(phone: str, **extra) -> User:
    return User.objects.create_user(phone=phone, password=PASSWORD, **extra)


def inspector_of(venue, phone: str) -> User:
    someone = user(phone)
    venue_services.inspector_bind(user=someone, declaration_code=venue.declaration_code)
    return someone


# --- role_of: what the account is, most powerful first ---------------------------------------
def test_no_user_is_the_system():
    assert services.role_of(None) == ActorRole.SYSTEM


def test_a_superuser_is_staff_without_a_query():
    boss = User.objects.create_superuser(phone="13800000001", password=PASSWORD)
    with CaptureQueriesContext(connection) as queries:
        assert services.role_of(boss) == ActorRole.STAFF
    assert len(queries) == 0


def test_a_plain_account_is_a_resident():
    assert services.role_of(user("13800000002")) == ActorRole.RESIDENT


def test_each_kind_of_account_is_its_role():
    officer = make_officer().user
    venue = make_venue()
    inspector = inspector_of(venue, "13800000003")
    grid = user("13800000004")
    GridWorker.objects.create(user=grid, region_codes=["330106"])
    staff = user("13800000005", is_staff=True)
    assert services.role_of(officer) == ActorRole.OFFICER
    assert services.role_of(venue.administrator) == ActorRole.VENUE_ADMIN
    assert services.role_of(inspector) == ActorRole.INSPECTOR
    assert services.role_of(grid) == ActorRole.GRID_WORKER
    assert services.role_of(staff) == ActorRole.STAFF


def test_the_most_powerful_role_wins():
    # An officer who is staff and grid worker, inspecting a venue: the officer.
    officer = make_officer().user
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    GridWorker.objects.create(user=officer, region_codes=["330106"])
    venue = make_venue()
    venue_services.inspector_bind(user=officer, declaration_code=venue.declaration_code)
    assert services.role_of(officer) == ActorRole.OFFICER
    # Staff before a venue administrator who inspects their own venue and is a grid worker.
    admin = venue.administrator
    venue_services.inspector_bind(user=admin, declaration_code=venue.declaration_code)
    GridWorker.objects.create(user=admin, region_codes=["330106"])
    assert services.role_of(admin) == ActorRole.VENUE_ADMIN
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    assert services.role_of(admin) == ActorRole.STAFF
    # An inspector before a grid worker.
    both = inspector_of(venue, "13800000006")
    GridWorker.objects.create(user=both, region_codes=["330106"])
    assert services.role_of(both) == ActorRole.INSPECTOR


def test_roles_count_only_this_accounts_holdings():
    make_officer()  # someone else is an officer
    make_venue()  # someone else administers a venue
    assert services.role_of(user("13800000007")) == ActorRole.RESIDENT


# --- audit_event: the role, the cut fields, the keys -----------------------------------------
def test_a_machine_alone_is_a_machine_whatever_the_action():
    event = services.audit_event(kind=AuditKind.READ, action="officer_trace", machine="A1")
    assert event.role == ActorRole.MACHINE


def test_a_machine_with_an_actor_is_the_actors_role():
    resident_user = user("13800000008")
    event = services.audit_event(
        kind=AuditKind.READ, action="elder_lookup", machine="A1", actor=resident_user
    )
    assert event.role == ActorRole.RESIDENT
    by_key = services.audit_event(
        kind=AuditKind.READ, action="officer_trace", machine="A1", actor_id=resident_user.pk
    )
    assert by_key.role == ActorRole.OFFICER  # the action's role: no query for an actor by key


def test_a_role_given_is_kept():
    event = services.audit_event(
        kind=AuditKind.READ, action="device", machine="A1", role=ActorRole.STAFF
    )
    assert event.role == ActorRole.STAFF


def test_the_actions_role_comes_before_the_accounts():
    officer = make_officer().user
    with CaptureQueriesContext(connection) as queries:
        event = services.audit_event(kind=AuditKind.READ, action="inspector_scan", actor=officer)
    assert event.role == ActorRole.INSPECTOR
    assert len(queries) == 0


def test_an_action_of_no_known_role_asks_the_account():
    officer = make_officer().user
    event = services.audit_event(kind=AuditKind.READ, action="something_else", actor=officer)
    assert event.role == ActorRole.OFFICER
    nobody = services.audit_event(kind=AuditKind.CHANGE, action="something_else")
    assert nobody.role == ActorRole.SYSTEM


def test_texts_are_cut_to_their_columns():
    reason = lazy(lambda: "因" * 600, str)()  # a lazy translation is made a string
    event = services.audit_read(
        action="device",
        machine="M" * 101,
        venue_name="场" * 101,
        reason=reason,
        subject=make_resident(),
    )
    event.refresh_from_db()
    assert event.machine == "M" * 100
    assert event.venue_name == "场" * 100
    assert event.reason == "因" * 500


def test_texts_at_their_lengths_are_kept_whole_and_defaults_are_empty():
    event = services.audit_event(
        kind=AuditKind.READ, action="device", machine="M" * 100, venue_name="场" * 100
    )
    assert (event.machine, event.venue_name) == ("M" * 100, "场" * 100)
    plain = services.audit_event(kind=AuditKind.CHANGE, action="x", machine="A1")
    assert (plain.venue_name, plain.reason, plain.detail, plain.subject_masked_id) == (
        "",
        "",
        {},
        "",
    )
    assert plain.subject_id is None and plain.actor_id is None


def test_keys_stand_for_the_objects_and_the_time_is_kept():
    resident = make_resident()
    officer = make_officer().user
    event = services.audit_event(
        kind=AuditKind.CHANGE,
        action="officer_trace",
        subject_id=resident.pk,
        actor_id=officer.pk,
        detail={"trace": 7},
        at=AT,
    )
    services.audit_many([event])
    stored = AuditEvent.objects.get(action="officer_trace")
    assert (stored.kind, stored.action, stored.subject_id, stored.actor_id) == (
        AuditKind.CHANGE,
        "officer_trace",
        resident.pk,
        officer.pk,
    )
    assert (stored.detail, stored.at) == ({"trace": 7}, AT)


def test_without_a_time_an_event_is_now():
    event = services.audit_change(action="x", machine="A1")
    event.refresh_from_db()
    assert event.at is not None and event.kind == AuditKind.CHANGE


def test_no_events_no_query():
    with CaptureQueriesContext(connection) as queries:
        services.audit_many([])
    assert len(queries) == 0


def test_many_events_are_one_insert():
    resident = make_resident()
    events = (
        services.audit_event(kind=AuditKind.READ, action="device", machine="A1", subject=resident)
        for _ in range(3)
    )
    with CaptureQueriesContext(connection) as queries:
        services.audit_many(events)  # a generator will do
    assert len(queries) == 1
    assert AuditEvent.objects.filter(subject=resident, kind=AuditKind.READ).count() == 3


# --- Lookups ---------------------------------------------------------------------------------
def test_a_lookup_of_nobody_is_refused():
    with pytest.raises(ValueError, match="a lookup names a resident or the ID number looked up"):
        services.audit_lookup(action="device", machine="A1")


def test_a_lookup_of_a_resident_keeps_no_number():
    resident = make_resident()
    event = services.audit_lookup(
        action="device", subject=resident, id_number=resident.id_number, machine="A1"
    )
    assert (event.subject, event.subject_masked_id) == (resident, "")
    assert event.kind == AuditKind.READ


def test_a_lookup_of_a_number_keeps_it_masked_with_the_venue_and_detail():
    event = services.audit_lookup(
        action="device",
        id_number="110105199001011234",
        machine="A1",
        venue_name="联华超市",
        detail={"venue": 3},
    )
    event.refresh_from_db()
    assert event.subject_id is None
    assert event.subject_masked_id == masking.mask_id_number("110105199001011234")
    assert event.subject_masked_id != "110105199001011234"
    assert (event.venue_name, event.detail, event.machine) == ("联华超市", {"venue": 3}, "A1")


def test_a_lookup_by_identity_finds_the_holder_of_that_document_only():
    resident = make_resident()
    officer = make_officer().user
    found = services.audit_lookup_by_identity(
        id_type=resident.id_type, id_number=resident.id_number, action="x", actor=officer
    )
    assert found.subject == resident and found.actor == officer
    other_type = "passport" if resident.id_type != "passport" else "resident_id"
    missed = services.audit_lookup_by_identity(
        id_type=other_type, id_number=resident.id_number, action="x", actor=officer
    )
    assert missed.subject is None and missed.subject_masked_id
    # The number counts, not only the type: nobody holds this one.
    nobody = services.audit_lookup_by_identity(
        id_type=resident.id_type, id_number="110105199001019999", action="x", actor=officer
    )
    assert nobody.subject is None
    assert nobody.subject_masked_id == masking.mask_id_number("110105199001019999")
