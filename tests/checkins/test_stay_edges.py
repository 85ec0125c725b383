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
    second, _ = checkin_record(
        resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 90 * MIN
    )
    checkin_checkout(checkin=first, now=T0 + 180 * MIN)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 90 * MIN, StayEnd.CHECKOUT)
    assert (second.left_at, second.left_how) == (T0 + 150 * MIN, StayEnd.ASSUMED)


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


# --- The rest of the stay mutants, and the bug they showed (docs/testing.md) ------------------
def test_a_late_written_scan_is_capped_by_my_next_check_in_not_someone_elses():
    person, other_person = make_resident(name="孙八"), make_resident(name="周九")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    other = make_venue(full_name="超市乙", category="supermarket")
    third = make_venue(full_name="超市丙", category="supermarket")
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 30 * MIN)
    checkin_record(resident=other_person, venue=third, method=Method.SELF_SCAN, now=T0 + 5 * MIN)
    late, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    assert late.left_at == T0 + 30 * MIN


def test_a_late_written_scan_is_capped_by_the_next_check_in_after_it_not_an_earlier_one():
    person = make_resident(name="孙八")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    other = make_venue(full_name="超市乙", category="supermarket")
    third = make_venue(full_name="超市丙", category="supermarket")
    checkin_record(resident=person, venue=third, method=Method.SELF_SCAN, now=T0 - 120 * MIN)
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 30 * MIN)
    late, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    assert late.left_at == T0 + 30 * MIN


def test_a_checked_out_stay_keeps_its_end_when_a_late_written_scan_falls_inside_it():
    """离开 is the person's own word: a scan elsewhere written after it (it waited for the
    lock) with an earlier time does not rewrite it."""
    person = make_resident(name="郑一")
    shop = make_venue(full_name="超市甲", category="supermarket")
    other = make_venue(full_name="超市乙", category="supermarket")
    first, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    checkin_checkout(checkin=first, now=T0 + 10 * MIN)
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 5 * MIN)
    first.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)


def test_of_two_rows_written_at_the_same_instant_the_last_written_is_the_latest():
    """Self-scan and the inspector's scan stamped with the same time: a scan a minute later
    like the inspector's is a repeat of the inspector's row, not a new row."""
    person = make_resident(name="郑二")
    shop = make_venue(full_name="超市甲", category="supermarket")
    checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    inspector_row, _ = checkin_record(
        resident=person,
        venue=shop,
        method=Method.INSPECTOR_SCAN,
        temperature_band="normal",
        now=T0,
    )
    again, new = checkin_record(
        resident=person,
        venue=shop,
        method=Method.INSPECTOR_SCAN,
        temperature_band="normal",
        now=T0 + MIN,
    )
    assert (again, new) == (inspector_row, False)


def test_scanning_again_at_my_door_keeps_the_visit_when_both_scans_were_written_late():
    """Two scans at one door, both written after a later scan elsewhere (they waited for the
    lock): the second does not end the first, the door one is in."""
    person = make_resident(name="郑三")
    shop = make_venue(full_name="超市甲", category="supermarket")
    other = make_venue(full_name="超市乙", category="supermarket")
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 20 * MIN)
    first, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 5 * MIN)
    first.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 20 * MIN, StayEnd.ASSUMED)


def test_a_leave_is_not_cut_short_by_a_stay_elsewhere_before_the_visit():
    person = make_resident(name="郑四")
    shop = make_venue(full_name="超市甲", category="supermarket")
    other = make_venue(full_name="超市乙", category="supermarket")
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 - 120 * MIN)
    stay, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    checkin_checkout(checkin=stay, now=T0 + 10 * MIN)
    stay.refresh_from_db()
    assert (stay.left_at, stay.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)


def test_a_leave_ends_only_this_visit_not_my_other_stays():
    """离开 at the shop touches neither a stay elsewhere that ended by itself, nor an earlier
    visit to the same shop that a check-in elsewhere ended, nor one that ended by itself."""
    person = make_resident(name="郑五")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    other = make_venue(full_name="超市乙", category="supermarket")
    yesterday, _ = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 - 25 * 60 * MIN
    )
    morning, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    elsewhere, _ = checkin_record(
        resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 30 * MIN
    )
    noon, _ = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 3 * 60 * MIN
    )
    checkin_checkout(checkin=noon, now=T0 + 200 * MIN)
    for row in (morning, elsewhere, noon, yesterday):
        row.refresh_from_db()
    assert (morning.left_at, morning.left_how) == (T0 + 30 * MIN, StayEnd.NEXT_CHECKIN)
    assert (elsewhere.left_at, elsewhere.left_how) == (T0 + 90 * MIN, StayEnd.ASSUMED)
    assert (noon.left_at, noon.left_how) == (T0 + 200 * MIN, StayEnd.CHECKOUT)
    assert (yesterday.left_at, yesterday.left_how) == (T0 - 24 * 60 * MIN, StayEnd.ASSUMED)


def test_an_earlier_visit_that_ended_by_itself_is_not_stretched_to_a_later_leave():
    """The bug these mutants showed: 10:00 at the shop (over at 11:00), back at 13:00 and
    out at 13:20 — by 离开 or an exit scan, only the 13:00 visit ends at 13:20; the first
    is not made a 3 h 20 min explicit stay (a false close contact in tracing)."""
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    for name, leave in (("郑六", "button"), ("郑七", "exit_scan")):
        person = make_resident(name=name)
        morning, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
        again, _ = checkin_record(
            resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 180 * MIN
        )
        if leave == "button":
            checkin_checkout(checkin=again, now=T0 + 200 * MIN)
        else:
            assert checkout_at_venue(resident=person, venue=shop, now=T0 + 200 * MIN) == again
        morning.refresh_from_db()
        again.refresh_from_db()
        assert (morning.left_at, morning.left_how) == (T0 + 60 * MIN, StayEnd.ASSUMED), leave
        assert (again.left_at, again.left_how) == (T0 + 200 * MIN, StayEnd.CHECKOUT), leave


def test_a_leave_never_makes_a_row_of_the_visit_longer_than_24_hours():
    """Hotel at 19:00 (assumed till 07:00), scanned again at 06:00 (a new row; the first is
    still open), 离开 pressed at 20:00 on the second: the first row, which began 25 h before,
    keeps its assumed end rather than becoming a 25-hour stay."""
    person = make_resident(name="郑十")
    hotel = make_venue(full_name="酒店乙", category="hotel")  # 720 min
    night, _ = checkin_record(
        resident=person, venue=hotel, method=Method.SELF_SCAN, now=T0 - 11 * 60 * MIN
    )
    morning, _ = checkin_record(resident=person, venue=hotel, method=Method.SELF_SCAN, now=T0)
    checkin_checkout(checkin=morning, now=T0 + 14 * 60 * MIN)
    night.refresh_from_db()
    morning.refresh_from_db()
    assert (night.left_at, night.left_how) == (T0 + 60 * MIN, StayEnd.ASSUMED)
    assert (morning.left_at, morning.left_how) == (T0 + 14 * 60 * MIN, StayEnd.CHECKOUT)


def test_a_late_leave_does_not_end_a_later_visit_to_the_same_place():
    """离开 on the first visit's page after I went elsewhere and came back: the first visit
    ends where the stay elsewhere began; the visit after it is left alone."""
    person = make_resident(name="郑八")
    shop = make_venue(full_name="超市甲", category="supermarket")  # 60 min
    other = make_venue(full_name="超市乙", category="supermarket")
    first, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 90 * MIN)
    back, _ = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 100 * MIN
    )
    checkin_checkout(checkin=first, now=T0 + 180 * MIN)
    first.refresh_from_db()
    back.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 90 * MIN, StayEnd.CHECKOUT)
    assert (back.left_at, back.left_how) == (T0 + 160 * MIN, StayEnd.ASSUMED)


def test_an_exit_scan_after_the_visit_ended_writes_nothing():
    """Already out by 离开, or by a check-in elsewhere: an exit scan at the door finds no open
    visit and writes nothing; a scan stamped before the visit began finds none either."""
    person = make_resident(name="郑九")
    shop = make_venue(full_name="超市甲", category="supermarket")
    other = make_venue(full_name="超市乙", category="supermarket")
    stay, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    assert checkout_at_venue(resident=person, venue=shop, now=T0 - MIN) is None
    checkin_checkout(checkin=stay, now=T0 + 10 * MIN)
    assert checkout_at_venue(resident=person, venue=shop, now=T0 + 20 * MIN) is None
    stay.refresh_from_db()
    assert (stay.left_at, stay.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)
    again, _ = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 30 * MIN
    )
    checkin_record(resident=person, venue=other, method=Method.SELF_SCAN, now=T0 + 40 * MIN)
    assert checkout_at_venue(resident=person, venue=shop, now=T0 + 50 * MIN) is None
    again.refresh_from_db()
    assert (again.left_at, again.left_how) == (T0 + 40 * MIN, StayEnd.NEXT_CHECKIN)


def test_a_row_already_checked_out_keeps_its_check_out_when_the_visit_is_left_again():
    """A scan at the door written after 离开 with an earlier time (it waited for the lock) is
    a row of the same visit; leaving again ends it but not the row already checked out."""
    person = make_resident(name="郑十一")
    shop = make_venue(full_name="超市甲", category="supermarket")
    first, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    checkin_checkout(checkin=first, now=T0 + 30 * MIN)
    late, new = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 11 * MIN
    )
    assert new
    checkin_checkout(checkin=late, now=T0 + 40 * MIN)
    first.refresh_from_db()
    late.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 30 * MIN, StayEnd.CHECKOUT)
    assert (late.left_at, late.left_how) == (T0 + 40 * MIN, StayEnd.CHECKOUT)


def test_an_exit_scan_with_no_visit_in_24_hours_leaves_yesterdays_alone():
    person = make_resident(name="郑十二")
    shop = make_venue(full_name="超市甲", category="supermarket")
    yesterday, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    assert checkout_at_venue(resident=person, venue=shop, now=T0 + 25 * 60 * MIN) is None
    yesterday.refresh_from_db()
    assert (yesterday.left_at, yesterday.left_how) == (T0 + 60 * MIN, StayEnd.ASSUMED)


def test_leaving_from_the_first_row_of_a_visit_is_not_cut_short_by_its_second_row():
    """The self-scan's row is left (离开 on the resident's record) after the inspector's scan
    at the same door made a second row: only a check-in *elsewhere* caps the leave."""
    person = make_resident(name="冯六")
    shop = make_venue(full_name="超市甲", category="supermarket")
    first, _ = checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)
    second, _ = checkin_record(
        resident=person,
        venue=shop,
        method=Method.INSPECTOR_SCAN,
        temperature_band="normal",
        now=T0 + MIN,
    )
    checkin_checkout(checkin=first, now=T0 + 10 * MIN)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.left_at, first.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)
    assert (second.left_at, second.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)


def test_an_exit_scan_leaves_the_latest_row_in_time_not_the_last_written():
    """The inspector's scan written late (it waited for the lock) is older than the self-scan
    written before it: the exit scan answers with the self-scan's row, the visit's latest."""
    person = make_resident(name="褚七")
    shop = make_venue(full_name="超市甲", category="supermarket")
    latest, _ = checkin_record(
        resident=person, venue=shop, method=Method.SELF_SCAN, now=T0 + 5 * MIN
    )
    late, _ = checkin_record(
        resident=person,
        venue=shop,
        method=Method.INSPECTOR_SCAN,
        temperature_band="normal",
        now=T0,
    )
    assert late.pk > latest.pk
    left = checkout_at_venue(resident=person, venue=shop, now=T0 + 10 * MIN)
    assert left.pk == latest.pk
    assert (left.left_at, left.left_how) == (T0 + 10 * MIN, StayEnd.CHECKOUT)


def test_of_two_rows_at_the_same_instant_an_exit_scan_leaves_the_last_written():
    person = make_resident(name="卫八")
    shop = make_venue(full_name="超市甲", category="supermarket")
    rows = [
        checkin_record(resident=person, venue=shop, method=Method.SELF_SCAN, now=T0)[0],
        checkin_record(
            resident=person,
            venue=shop,
            method=Method.INSPECTOR_SCAN,
            temperature_band="normal",
            now=T0,
        )[0],
    ]
    left = checkout_at_venue(resident=person, venue=shop, now=T0 + 10 * MIN)
    assert left.pk == max(row.pk for row in rows)
