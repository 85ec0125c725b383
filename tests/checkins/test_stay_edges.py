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


# --- Written against the mutants that survived in the stay code (docs/testing.md) ------------
def test_a_stay_that_ended_by_itself_keeps_its_end_when_a_later_one_is_cut_short():
    """Only stays still open at the new check-in end there: an older assumed stay that was
    already over keeps its own end, though the check-in ends the open one elsewhere."""
    person = make_resident(name="赵六")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    hotel = make_venue(full_name="酒店乙", category="hotel")  # 720 min
    other = make_venue(full_name="超市丙", category="supermarket")
    over, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    open_, _ = checkin_record(
        resident=person, venue=hotel, method=Method.SELF_SCAN, now=T0 + 120 * MIN
    )
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 180 * MIN)
    over.refresh_from_db()
    open_.refresh_from_db()
    assert (over.left_at, over.left_how) == (T0 + 60 * MIN, StayEnd.ASSUMED)
    assert (open_.left_at, open_.left_how) == (T0 + 180 * MIN, StayEnd.NEXT_CHECKIN)


def test_the_latest_stay_is_the_latest_in_time_not_the_last_written():
    """A scan written late (it waited for the lock) is older than the stay written before
    it: the next scan at the first venue within the window is a repeat of that one."""
    person = make_resident(name="钱七")
    shop = make_venue(full_name="超市甲", category="supermarket")
    other = make_venue(full_name="超市乙", category="supermarket")
    first, _ = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 10 * MIN
    )
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0)  # late
    again, new = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 12 * MIN
    )
    assert (again, new) == (first, False)


def test_a_late_written_scan_at_the_same_venue_keeps_its_assumed_stay():
    """The cap for a scan written late is the next check-in at ANOTHER venue; a later row of
    the same visit does not cut it short."""
    person = make_resident(name="孙八")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 10 * MIN)
    late, new = checkin_record(
        resident=person,
        venue=shop,
        method=Method.INSPECTOR_SCAN,
        temperature_band="normal",
        now=T0,
    )
    assert new and late.left_at == T0 + 60 * MIN


def test_a_late_leave_is_capped_by_my_next_check_in_not_someone_elses():
    person, other_person = make_resident(name="李四"), make_resident(name="周九")
    shop = make_venue(full_name="超市甲", category="supermarket")
    other = make_venue(full_name="超市乙", category="supermarket")
    mine, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    checkin_record(resident=other_person, venue=other, method=Method.SELF_SCAN, now=T0 + 90 * MIN)
    checkin_checkout(checkin=mine, now=T0 + 120 * MIN)
    mine.refresh_from_db()
    assert (mine.left_at, mine.left_how) == (T0 + 120 * MIN, StayEnd.CHECKOUT)


def test_my_leave_and_my_exit_scan_end_only_my_stays():
    person, other_person = make_resident(name="李四"), make_resident(name="周九")
    shop = make_venue(full_name="超市甲", category="supermarket")
    mine, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    theirs, _ = checkin_record(
        resident=other_person, venue=shop, method=Method.SELF_SCAN, now=T0 + MIN
    )
    checkin_checkout(checkin=mine, now=T0 + 10 * MIN)
    theirs.refresh_from_db()
    assert (theirs.left_at, theirs.left_how) == (T0 + 61 * MIN, StayEnd.ASSUMED)
    stranger = make_resident(name="吴十")
    assert checkout_at_venue(resident=stranger, venue=shop, now=T0 + 20 * MIN) is None
    theirs.refresh_from_db()
    assert theirs.left_how == StayEnd.ASSUMED
