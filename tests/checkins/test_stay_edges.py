"""Stays at their awkward edges: two rows of one visit, a late 离开, a scan that lost the
lock race. Each once let a stay run over a later one elsewhere (false overlaps in tracing)."""

import datetime as dt

import pytest

from checkins.models import Method, StayEnd
from checkins.services import checkin_checkout, checkin_record, checkout_at_venue
from tests.factories import make_resident, make_venue

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 5, 4, 2, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def test_an_exit_scan_closes_every_open_row_of_the_visit():
    """Self-scan then the inspector's scan with a temperature: two rows of one visit. The exit
    scan closes both; nothing is left open for the next check-in elsewhere to miss."""
    person = make_resident(name="张三")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    other = make_venue(full_name="超市乙", category="supermarket")
    first, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    second, new = checkin_record(
        resident=person,
        venue=shop,
        method=Method.INSPECTOR_SCAN,
        temperature_band="normal",
        now=T0 + MIN,
    )
    assert new
    checkout_at_venue(resident=person, venue=shop, now=T0 + 10 * MIN)  # exit scan
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 20 * MIN)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)
    assert (second.left_at, second.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)


def test_a_late_leave_stops_at_the_next_check_in_elsewhere():
    """离开 pressed on an old result page after the person already checked in elsewhere (after
    the first stay's assumed end): the first stay ends where the second began."""
    person = make_resident(name="李四")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    other = make_venue(full_name="超市乙", category="supermarket")
    first, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 90 * MIN)
    checkin_checkout(checkin=first, now=T0 + 180 * MIN)
    first.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 90 * MIN, StayEnd.CHECKOUT)


def test_a_scan_that_lost_the_lock_race_ends_where_the_later_stay_begins():
    """A scan whose ``now`` is earlier than a stay already written elsewhere (it waited for the
    person's lock) does not get a full assumed stay over the later one."""
    person = make_resident(name="王五")
    shop = make_venue(full_name="超市甲", category="supermarket")
    other = make_venue(full_name="超市乙", category="supermarket")
    checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 10 * MIN)
    late, _ = checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0)
    assert late.left_at == T0 + 10 * MIN
