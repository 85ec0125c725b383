"""Every sensitive read writes exactly one read event per person shown, with the role the
viewer acted in, the action (the old lookup channel) and the venue; a list (an export) is one
event of nobody, with how many rows. The door's own query counts are pinned elsewhere
(tests/healthcode/test_query_counts.py, tests/checkins/test_device_api.py): the event
replaces what was the lookup's INSERT."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import ActorRole, AuditEvent, AuditKind
from checkins.models import Device, Method
from checkins.services import checkin_record
from healthcode import tokens
from healthcode.models import User
from proxy_scan import services as proxy_services
from tests.factories import (
    PASSWORD,
    add_flag,
    make_officer,
    make_resident,
    make_venue,
    post_result,
)
from tests.factories import resident_id as make_id
from tracing import services as tracing_services
from venues import services as venue_services

pytestmark = pytest.mark.django_db


def reads():
    return AuditEvent.objects.filter(kind=AuditKind.READ)


def only_read() -> AuditEvent:
    (event,) = reads()
    return event


def with_test(resident):
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=5),
        reported=now - dt.timedelta(hours=1),
    )


def token_for(resident) -> str:
    return tokens.issue_for(resident.health_code, now=timezone.now()).token


@pytest.fixture
def venue():
    return make_venue(full_name="西湖区文三路联华超市")


@pytest.fixture
def inspector(venue):
    user = User.objects.create_user(phone="13522223000", password=PASSWORD)
    venue_services.inspector_bind(user=user, declaration_code=venue.declaration_code)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The door ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["api-inspect-verify", "api-inspect-confirm"])
def test_an_inspectors_scan_is_one_read_as_inspector_at_the_venue(path, inspector, venue, resident):
    with_test(resident)
    api = APIClient()
    api.force_authenticate(inspector)
    body = {"venue": venue.pk, "code": token_for(resident), "temperature_band": "normal"}
    assert api.post(reverse(path), body, format="json").status_code in (200, 201)
    event = only_read()
    assert (event.actor, event.role, event.subject, event.venue_name) == (
        inspector,
        ActorRole.INSPECTOR,
        resident,
        venue.full_name,
    )
    assert event.action == ("inspector_scan" if path.endswith("verify") else "inspector_confirm")


def test_a_devices_verify_is_one_read_as_a_machine_at_the_venue(venue, resident):
    with_test(resident)
    row, key = Device.create_with_key(venue=venue, name="东门闸机")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"code": token_for(resident)}
    assert api.post(reverse("api-devices-verify"), body, format="json").status_code == 200
    event = only_read()
    assert (event.actor, event.machine, event.role, event.action) == (
        None,
        f"device {row.pk}",
        ActorRole.MACHINE,
        "device",
    )
    assert (event.subject, event.venue_name) == (resident, venue.full_name)


def test_an_elder_lookup_is_one_read_in_the_role_the_viewers_account_has(inspector):
    elder = make_resident(name="孙老伯", id_number=make_id(birth="19500101", seq=31))
    proxy_services.elder_lookup(viewer=inspector, name=elder.name, id_number=elder.id_number)
    event = only_read()
    # Venue staff look an elder up: their account says inspector (one query, off the door).
    assert (event.action, event.actor, event.role, event.subject) == (
        "elder_lookup",
        inspector,
        ActorRole.INSPECTOR,
        elder,
    )


def test_a_companions_elder_lookup_is_a_residents_read(resident):
    elder = make_resident(name="孙老伯", id_number=make_id(birth="19500101", seq=32))
    proxy_services.elder_lookup(viewer=resident.user, name=elder.name, id_number=elder.id_number)
    assert (only_read().role, only_read().subject) == (ActorRole.RESIDENT, elder)


def test_a_proxy_scan_is_one_read_by_the_helper_at_the_venue(venue, resident):
    helper = make_resident(name="赵帮忙", phone="13911112222").user
    proxy_services.proxy_checkin(
        helper=helper, venue=venue, way="id_card", name=resident.name, id_number=resident.id_number
    )
    event = only_read()
    assert (event.action, event.actor, event.role, event.subject, event.venue_name) == (
        "proxy_scan",
        helper,
        ActorRole.RESIDENT,
        resident,
        venue.full_name,
    )


def test_the_verify_api_is_a_staff_read_without_an_extra_query(staff_user, resident):
    api = APIClient()
    api.force_authenticate(staff_user)
    api.post(reverse("api-codes-verify"), {"token": token_for(resident)}, format="json")
    event = only_read()
    assert (event.action, event.role, event.actor) == ("api_verify", ActorRole.STAFF, staff_user)


# --- Officers ----------------------------------------------------------------------------------
@pytest.fixture
def traced(venue, django_capture_on_commit_callbacks):
    """A case with two contacts, traced by an officer; the trail cleared of what it took."""
    officer = make_officer(phone="13611113001", region_codes=("110105", "330106")).user
    start = timezone.now() - dt.timedelta(hours=3)
    case_person = make_resident(name="赵病例")
    people = [make_resident(name=name) for name in ("钱多多", "孙小")]
    for person in (case_person, *people):
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=start)
    with django_capture_on_commit_callbacks(execute=True):
        case = tracing_services.case_register(
            by=officer,
            id_type=case_person.id_type,
            id_number=case_person.id_number,
            onset_at=start + dt.timedelta(hours=1),
        )
        trace = tracing_services.trace_start(case=case, by=officer)
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return officer, case, trace, people, mark


def test_the_trace_run_is_a_read_of_each_person_found(traced):
    officer, case, trace, people, _mark = traced
    found = reads().filter(action="officer_trace", detail__trace=trace.pk)
    assert sorted(found.values_list("subject", flat=True)) == sorted(p.pk for p in people)
    assert {(e.actor, e.role) for e in found} == {(officer, ActorRole.OFFICER)}


def test_a_case_page_is_one_read_of_the_case_person(traced):
    officer, case, _trace, _people, mark = traced
    assert (
        client_for(officer).get(reverse("tracing:case", args=[case.public_id])).status_code == 200
    )
    (event,) = reads().filter(pk__gt=mark)
    assert (event.action, event.actor, event.role, event.subject, event.detail) == (
        "officer_case_view",
        officer,
        ActorRole.OFFICER,
        case.resident,
        {"case": case.pk},
    )


def test_a_trace_page_is_one_read_of_each_person_it_shows(traced):
    officer, case, trace, people, mark = traced
    page = client_for(officer).get(reverse("tracing:trace", args=[trace.public_id]))
    assert page.status_code == 200
    shown = reads().filter(pk__gt=mark)
    assert sorted(shown.values_list("subject", flat=True)) == sorted(
        [case.resident_id, *(p.pk for p in people)]
    )
    assert {(e.action, e.role, e.actor_id) for e in shown} == {
        ("officer_trace_view", ActorRole.OFFICER, officer.pk)
    }
    assert {e.detail["trace"] for e in shown} == {trace.pk}


def test_a_trace_page_reloaded_records_each_person_once_an_hour(traced):
    """The page reloads itself while a trace runs: a resident's record lists who looked, not
    each refresh. An hour later the officer's look is recorded again."""
    import datetime as dt

    import time_machine
    from django.utils import timezone

    officer, case, trace, people, mark = traced
    client = client_for(officer)
    url = reverse("tracing:trace", args=[trace.public_id])
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert reads().filter(pk__gt=mark).count() == 1 + len(people)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, seconds=1)):
        assert client.get(url).status_code == 200
    assert reads().filter(pk__gt=mark).count() == 2 * (1 + len(people))


def test_a_trace_page_writes_its_reads_in_one_insert(traced):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    officer, _case, trace, _people, _mark = traced
    url = reverse("tracing:trace", args=[trace.public_id])
    with CaptureQueriesContext(connection) as page:
        client_for(officer).get(url)
    inserts = [q for q in page.captured_queries if q["sql"].startswith('INSERT INTO "audit')]
    assert len(inserts) == 1  # three people shown, one statement


def test_an_officers_export_is_one_read_of_nobody_with_the_row_count(traced):
    officer, _case, trace, people, mark = traced
    response = client_for(officer).get(reverse("tracing:export", args=[trace.public_id]))
    assert response.status_code == 200
    (event,) = reads().filter(pk__gt=mark)
    assert (event.action, event.actor, event.role, event.subject) == (
        "officer_export",
        officer,
        ActorRole.OFFICER,
        None,
    )
    assert event.detail == {"trace": trace.pk, "rows": len(people)}


def test_a_venue_admins_export_is_one_read_of_nobody_with_the_row_count(venue, resident):
    checkin_record(resident=resident, venue=venue, method=Method.SELF_SCAN)
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = client_for(venue.administrator).get(reverse("venues:checkins-csv"))
    assert response.status_code == 200
    (event,) = reads().filter(pk__gt=mark)
    assert (event.action, event.actor, event.role, event.subject, event.venue_name) == (
        "venue_export",
        venue.administrator,
        ActorRole.VENUE_ADMIN,
        None,
        venue.full_name,
    )
    day = timezone.localdate().isoformat()
    assert event.detail == {"venue": venue.pk, "day": day, "rows": 1}


def test_someone_elses_export_is_404_and_reads_nothing(venue, resident):
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert client_for(resident.user).get(reverse("venues:checkins-csv")).status_code == 404
    assert not reads().filter(pk__gt=mark).exists()


def test_a_venues_page_reads_each_visitor_shown_once_an_hour(venue, resident):
    """The administrator's page lists today's visitors (masked): each is read by the
    administrator, once an hour however often the page is opened; a resident's record then
    names the venue's administrator among those who looked."""
    import time_machine

    # At a Beijing noon: the page lists *today's* visitors, and an hour later must still be
    # today (run from the real clock, this failed between 23:00 and 24:00 Beijing time).
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    noon = dt.datetime.combine(tomorrow, dt.time(12), tzinfo=timezone.get_current_timezone())
    with time_machine.travel(noon):
        other = make_resident(name="钱七")
        checkin_record(resident=resident, venue=venue, method=Method.SELF_SCAN)
        checkin_record(resident=other, venue=venue, method=Method.SELF_SCAN)
        mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        client = client_for(venue.administrator)
        for _ in range(3):
            assert client.get(reverse("venues:home")).status_code == 200
        shown = reads().filter(pk__gt=mark)
        assert sorted(shown.values_list("subject", flat=True)) == sorted([resident.pk, other.pk])
        assert {(e.action, e.role, e.actor_id, e.detail["venue"]) for e in shown} == {
            ("venue_checkins_view", ActorRole.VENUE_ADMIN, venue.administrator_id, venue.pk)
        }
        assert str(shown.first().viewer_kind) == "场所管理员查看到访登记"
    with time_machine.travel(noon + dt.timedelta(hours=1, seconds=1)):
        assert client.get(reverse("venues:home")).status_code == 200
    assert reads().filter(pk__gt=mark).count() == 4


def test_a_venue_page_with_no_visitors_reads_nobody(venue):
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    assert client_for(venue.administrator).get(reverse("venues:home")).status_code == 200
    assert not reads().filter(pk__gt=mark).exists()


def test_a_grid_workers_alerts_page_reads_each_person_shown_once_an_hour(venue):
    """The alerts page names the people with alerts in the worker's regions (masked): each is
    read by the grid worker, once an hour; people of other regions are not read."""
    import time_machine

    from checkins.models import GridWorker

    ours = make_resident(name="孙八", region_code="330106")
    theirs = make_resident(name="周九", region_code="110105")
    for person in (ours, theirs):
        add_flag(person)  # a close contact: red, stopped at the door, an alert raised
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN)
    user = User.objects.create_user(phone="13522239999", password=PASSWORD)
    worker = GridWorker.objects.create(user=user, region_codes=["330100"])
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    client = client_for(user)
    for _ in range(2):
        assert client.get(reverse("checkins:alerts")).status_code == 200
    shown = reads().filter(pk__gt=mark)
    assert list(shown.values_list("subject", flat=True)) == [ours.pk]
    (event,) = shown
    assert (event.action, event.role, event.actor, event.detail) == (
        "grid_alerts_view",
        ActorRole.GRID_WORKER,
        user,
        {"grid_worker": worker.pk},
    )
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, seconds=1)):
        assert client.get(reverse("checkins:alerts")).status_code == 200
    assert reads().filter(pk__gt=mark).count() == 2
