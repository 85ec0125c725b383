import datetime as dt
import threading
from urllib.parse import unquote

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn
from checkins.services import checkin_record
from nucleic.services import policy_create
from tests.factories import add_flag, make_resident, make_venue, post_result
from venues import codes

pytestmark = pytest.mark.django_db


def scan_url(venue):
    return reverse(
        "checkins:scan", args=[codes.make(public_id=venue.public_id, version=venue.poster_version)]
    )


@pytest.fixture
def policy_72(db):
    return policy_create(
        group="general", window_hours=72, effective_from=timezone.now() - dt.timedelta(days=400)
    )


def give_test(resident, hours_ago):
    now = timezone.now()
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=hours_ago),
        reported=now - dt.timedelta(hours=hours_ago) + dt.timedelta(hours=2),
    )


def test_scan_records_on_post_only_and_shows_the_result(client, resident, policy_72):
    give_test(resident, 10)
    venue = make_venue()
    client.force_login(resident.user)
    assert client.get(scan_url(venue)).status_code == 200
    assert not CheckIn.objects.exists()
    response = client.post(scan_url(venue))
    checkin = CheckIn.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("checkins:result", args=[checkin.public_id])
    page = client.get(response["Location"]).content.decode()
    assert "可以通行" in page and venue.full_name in page and resident.masked_name in page
    assert "result-green" in page and "核酸 72 小时内阴性" in page
    assert resident.name not in page and resident.id_number not in page
    assert (checkin.method, checkin.colour, checkin.decision, checkin.scanned_by) == (
        "self_scan",
        "green",
        "pass",
        None,
    )
    assert checkin.test["state"] == "negative"


def test_anonymous_scanners_log_in_first_and_come_back(client):
    venue = make_venue()
    response = client.get(scan_url(venue))
    assert response.status_code == 302
    assert unquote(response["Location"]) == f"{reverse('login')}?next={scan_url(venue)}"


@pytest.mark.parametrize(
    ("kind", "colour", "code", "text"),
    [("close_contact", "red", "red", "红码"), ("fever_clinic", "yellow", "yellow", "黄码")],
)
def test_red_and_yellow_stop_with_their_type(client, resident, policy_72, kind, colour, code, text):
    give_test(resident, 10)
    add_flag(resident, kind)
    client.force_login(resident.user)
    page = client.post(scan_url(make_venue()), follow=True).content.decode()
    checkin = CheckIn.objects.get()
    assert (checkin.colour, checkin.decision, checkin.decision_code) == (colour, "stop", code)
    assert f"result-{colour}" in page and "禁止通行" in page and text in page
    assert checkin.reasons[0]["code"] == kind


@pytest.mark.parametrize(
    ("rule", "hours_ago", "passed", "code"),
    [
        ("24", 23, True, "pass"),
        ("24", 25, False, "test_overdue"),
        ("48", 47, True, "pass"),
        ("48", 49, False, "test_overdue"),
        ("policy", 71, True, "pass"),
        ("policy", 73, False, "test_overdue"),
        ("none", 500, True, "pass"),
    ],
)
def test_the_venue_test_rule(resident, policy_72, rule, hours_ago, passed, code):
    give_test(resident, hours_ago)
    checkin, _ = checkin_record(
        resident=resident, venue=make_venue(entry_rule=rule), method="self_scan"
    )
    assert (checkin.passed, checkin.decision_code) == (passed, code)
    if code == "test_overdue":
        assert "核酸超时" in checkin.decision_text


def test_no_test_record_stops_under_a_policy(resident, policy_72):
    checkin, _ = checkin_record(resident=resident, venue=make_venue(), method="self_scan")
    assert (checkin.passed, checkin.decision_code) == (False, "no_test")


def test_venue_window_edge_exactly(resident):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=30)
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=start,
        reported=start + dt.timedelta(hours=1),
    )
    venue = make_venue(entry_rule="24")
    for offset, passed in ((-1, True), (0, False)):
        with time_machine.travel(start + dt.timedelta(hours=24, seconds=offset), tick=False):
            CheckIn.objects.all().delete()
            checkin, _ = checkin_record(resident=resident, venue=venue, method="self_scan")
            assert checkin.passed is passed


def test_a_second_scan_within_ten_minutes_returns_the_first(resident, policy_72):
    venue = make_venue()
    start = timezone.now()
    first, created = checkin_record(resident=resident, venue=venue, method="self_scan", now=start)
    assert created
    again, created = checkin_record(
        resident=resident, venue=venue, method="self_scan", now=start + dt.timedelta(seconds=599)
    )
    assert (again, created) == (first, False)
    later, created = checkin_record(
        resident=resident, venue=venue, method="self_scan", now=start + dt.timedelta(seconds=600)
    )
    assert created and later != first
    other, created = checkin_record(
        resident=resident,
        venue=make_venue(),
        method="self_scan",
        now=start + dt.timedelta(seconds=601),
    )
    assert created
    assert CheckIn.objects.count() == 3


def test_another_persons_result_is_not_found(client, resident):
    checkin, _ = checkin_record(resident=resident, venue=make_venue(), method="self_scan")
    client.force_login(make_resident().user)
    assert client.get(reverse("checkins:result", args=[checkin.public_id])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_the_same_instant_leave_one_row(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; SQLite serialises whole-database writes")
    # Eight scans at once through one process: admission would refuse those beyond its slots
    # and door line (4 + 2); the race is for the person's row, as between web processes.
    settings.ADMISSION_DOOR_QUEUE = 8
    resident = make_resident()
    url = scan_url(make_venue())
    barrier = threading.Barrier(8)
    statuses = []

    def scan():
        client = Client()
        client.force_login(resident.user)
        barrier.wait()
        statuses.append(client.post(url).status_code)
        connection.close()

    threads = [threading.Thread(target=scan) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 8
    assert CheckIn.objects.count() == 1


def test_checkin_query_count(resident, policy_72, django_assert_num_queries):
    venue = make_venue()
    give_test(resident, 10)
    # 1 SAVEPOINT (the service's transaction, nested in the test's)
    # 2 the health code, locked (SELECT … FOR UPDATE OF the code row; current, so no
    #   recompute), carrying the person's doses (count and last date, dose_identity index:
    #   the door's vaccination rule and the line the result page shows, kept on the check-in)
    # 3 the person's latest check-in in the last 24 h (none): what a scan repeats or ends
    # 4 INSERT the check-in
    # 5 RELEASE SAVEPOINT
    with django_assert_num_queries(5):
        checkin_record(resident=resident, venue=venue, method="self_scan")


def test_a_scan_that_waited_for_the_lock_still_sees_the_first(resident, policy_72):
    # Two scans: B read the clock first but A took the lock first, so A's time is later.
    venue = make_venue()
    start = timezone.now()
    first, _ = checkin_record(
        resident=resident, venue=venue, method="self_scan", now=start + dt.timedelta(milliseconds=5)
    )
    second, created = checkin_record(resident=resident, venue=venue, method="self_scan", now=start)
    assert (second, created) == (first, False)
    assert CheckIn.objects.count() == 1


def test_a_repeat_scan_with_new_information_is_recorded(resident, policy_72):
    from checkins.models import Alert

    give_test(resident, 10)
    venue = make_venue()
    start = timezone.now()
    first, _ = checkin_record(resident=resident, venue=venue, method="self_scan", now=start)
    assert first.passed
    # Two minutes later the inspector measures a fever: not the same information.
    fever, created = checkin_record(
        resident=resident,
        venue=venue,
        method="inspector_scan",
        temperature_band="fever",
        now=start + dt.timedelta(minutes=2),
    )
    assert created and not fever.passed and fever.decision_code == "fever"
    # Then the code turns red: the next self-scan is recorded and stopped, with its alert.
    add_flag(resident, "close_contact", starts=start + dt.timedelta(minutes=3))
    red, created = checkin_record(
        resident=resident, venue=venue, method="self_scan", now=start + dt.timedelta(minutes=4)
    )
    assert created and red.colour == "red" and not red.passed
    assert sorted(Alert.objects.values_list("kind", flat=True)) == ["fever", "red"]
    again, created = checkin_record(
        resident=resident, venue=venue, method="self_scan", now=start + dt.timedelta(minutes=5)
    )
    assert (again, created) == (red, False)


def test_a_venue_window_counts_from_sampling_whatever_the_policy_counts_from(resident):
    policy_create(
        group="general",
        window_hours=72,
        counts_from="result",
        effective_from=timezone.now() - dt.timedelta(days=10),
    )
    now = timezone.now()
    # Sampled 36 h ago, result 14 h ago: inside the person's 72 h, outside a 24 h door.
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=now - dt.timedelta(hours=36),
        reported=now - dt.timedelta(hours=14),
    )
    checkin, _ = checkin_record(
        resident=resident, venue=make_venue(entry_rule="24"), method="self_scan"
    )
    assert (checkin.passed, checkin.decision_code) == (False, "test_overdue")
    checkin, _ = checkin_record(
        resident=resident, venue=make_venue(entry_rule="48"), method="self_scan"
    )
    assert checkin.passed
