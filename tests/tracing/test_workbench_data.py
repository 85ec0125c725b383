"""The workbench's plots read: check-ins per hour over 14 days, residents by colour per
district over days (hourly snapshots, today live), people found by traces per day."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from checkins.models import Method
from checkins.services import checkin_record
from tests.factories import add_flag, make_officer, make_resident, make_venue
from tracing import selectors, services
from tracing.models import ColourCount

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)  # 18:30 in Beijing


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_check_ins_per_hour_over_14_days_in_beijing_hours():
    venue = make_venue(full_name="西湖区文三路联华超市")
    other = make_venue(full_name="滨江区超市", region_code="330108")
    person = make_resident(name="钱多多")
    at = dt.datetime(2026, 5, 13, 1, 10, tzinfo=dt.UTC)  # 09:10 on the 13th in Beijing
    checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=at)
    checkin_record(
        resident=make_resident(name="孙小小"), venue=venue, method=Method.SELF_SCAN, now=at
    )
    checkin_record(
        resident=person, venue=other, method=Method.SELF_SCAN, now=at + dt.timedelta(hours=2)
    )
    too_old = NOW - dt.timedelta(days=14, hours=1)
    checkin_record(
        resident=make_resident(name="周旧旧"), venue=venue, method=Method.SELF_SCAN, now=too_old
    )

    start, counts = selectors.checkins_per_hour(now=NOW, venue_id=venue.pk)
    assert len(counts) == 14 * 24 and sum(counts) == 2
    assert start == timezone.localtime(NOW).replace(minute=0) - dt.timedelta(days=14, hours=-1)
    assert counts[int((timezone.localtime(at) - start).total_seconds() // 3600)] == 2
    _start, by_region = selectors.checkins_per_hour(now=NOW, region_codes=["330106"])
    assert sum(by_region) == 2
    _start, city = selectors.checkins_per_hour(now=NOW, region_codes=["3301"])
    assert sum(city) == 3


def test_colour_counts_from_snapshots_and_today_live():
    people = [make_resident(name=name, region_code="330106") for name in ("钱甲", "钱乙")]
    make_resident(name="外地人", region_code="110105")
    with time_machine.travel(NOW - dt.timedelta(days=2), tick=False):
        services.colour_counts_snapshot()
    add_flag(people[0], "close_contact", starts=NOW - dt.timedelta(hours=1))
    labels, series = selectors.colour_counts_over_days(now=NOW, region_codes=["330106"])
    assert labels[-1] == "05-14" and len(labels) == 14
    assert (series["green"][-3], series["red"][-3]) == (2, 0)  # the snapshot two days ago
    assert series["green"][-2] is None  # no snapshot yesterday: a gap, not a zero
    assert (series["green"][-1], series["red"][-1]) == (1, 1)  # today, live


def test_the_snapshot_replaces_todays_and_keeps_other_days():
    make_resident(name="钱甲", region_code="330106")
    services.colour_counts_snapshot()
    make_resident(name="钱乙", region_code="330106")
    services.colour_counts_snapshot()
    assert list(ColourCount.objects.values_list("region_code", "colour", "count")) == [
        ("330106", "green", 2)
    ]


def test_contacts_found_per_day():
    officer = make_officer(phone="13611114001", region_codes=("110105", "330106")).user
    venue = make_venue(full_name="西湖区文三路联华超市")
    case_person = make_resident(name="赵病例")
    start = NOW - dt.timedelta(days=1)
    for person in (case_person, make_resident(name="钱多多"), make_resident(name="孙小小")):
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=start)
    case = services.case_register(
        by=officer,
        id_type=case_person.id_type,
        id_number=case_person.id_number,
        onset_at=NOW - dt.timedelta(hours=2),
    )
    for _ in range(2):  # the same people found twice on one day count once
        trace = services.trace_start(case=case, by=officer)
        services.trace_run(trace_id=trace.pk)
    labels, counts = selectors.contacts_per_day(now=NOW)
    assert labels[-1] == "05-14" and counts[-1] == 2 and sum(counts) == 2
