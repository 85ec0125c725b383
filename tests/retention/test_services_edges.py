"""retention.services at its edges (written against its mutants, docs/testing.md), with a
registry of one data class over check-ins: what is counted and what only logged, a chunk at a
time past the rows kept, files handled after the delete, the period in the log."""

import datetime as dt
import logging

import pytest
import time_machine

from checkins.models import Alert, CheckIn
from retention import services
from retention.registry import DataClass
from tests.retention.conftest import NOW, in_db, make_checkin

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def every_checkin(now, period):
    return CheckIn.objects.filter(left_at__lt=now - period)


@pytest.fixture
def only(monkeypatch):
    """Run the purge over these data classes only."""

    def use(*classes):
        monkeypatch.setattr(services, "REGISTRY", list(classes))

    return use


def old_checkins(venue, person, n):
    return [make_checkin(venue=venue, resident=person, left_at=NOW - 10 * DAY) for _ in range(n)]


def test_rows_deleted_with_them_are_logged_not_counted(only, venue, person, caplog, settings):
    settings.RETENTION_DAYS_CHECKINS = 7
    only(DataClass("test_checkins", "测试", "RETENTION_DAYS_CHECKINS", every_checkin))
    first, second = old_checkins(venue, person, 2)
    for checkin in (first, second):
        Alert.objects.create(checkin=checkin, venue=venue, resident=person, kind="red")
    Alert.objects.create(checkin=first, venue=venue, resident=person, kind="fever")
    kept = make_checkin(venue=venue, resident=person, left_at=NOW - 6 * DAY)
    with caplog.at_level(logging.INFO, logger="retention"), time_machine.travel(NOW, tick=False):
        assert services.retention_purge() == {"test_checkins": 2}
    assert in_db(kept) and not in_db(first) and not in_db(second)
    assert Alert.objects.count() == 0
    assert caplog.messages == [
        "retention test_checkins: deleted 2 (with 3 dependent rows), period 7 days, 0:00:00"
    ]


def test_dependent_rows_are_summed_over_chunks_and_a_chunk_kept_whole_adds_none(
    only, venue, person, caplog, settings
):
    """A chunk at a time: the first deletes a check-in with two alerts, the second's row is
    kept (it still decides), the third deletes one with one alert: 2 deleted, 3 with them."""
    settings.RETENTION_DAYS_CHECKINS = 7
    first, kept, third = old_checkins(venue, person, 3)
    only(
        DataClass(
            "test_checkins",
            "测试",
            "RETENTION_DAYS_CHECKINS",
            every_checkin,
            deciding=lambda rows, now: {kept.pk},
        )
    )
    for kind in ("red", "fever"):
        Alert.objects.create(checkin=first, venue=venue, resident=person, kind=kind)
    Alert.objects.create(checkin=third, venue=venue, resident=person, kind="red")
    with caplog.at_level(logging.INFO, logger="retention"), time_machine.travel(NOW, tick=False):
        assert services.retention_purge(chunk=1) == {"test_checkins": 2}
    assert in_db(kept) and not in_db(first) and not in_db(third)
    assert caplog.messages == [
        "retention test_checkins: deleted 2 (with 3 dependent rows), period 7 days, 0:00:00"
    ]


def test_the_time_passed_is_the_one_used(only, venue, person):
    only(DataClass("test_checkins", "测试", "", every_checkin, fixed_period=lambda: 5 * DAY))
    checkin = make_checkin(venue=venue, resident=person, left_at=NOW - 6 * DAY)
    # The clock says six days earlier: by it nothing is past five days.
    with time_machine.travel(NOW - 6 * DAY, tick=False):
        assert services.retention_purge(now=NOW) == {"test_checkins": 1}
    assert not in_db(checkin)


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_chunks_walk_past_kept_rows_and_read_each_once(only, venue, person, chunk):
    rows = old_checkins(venue, person, 5)
    kept = {rows[0].pk, rows[3].pk}
    seen = []

    def deciding(candidates, now):
        pks = set(candidates.values_list("pk", flat=True))
        seen.append(sorted(pks))
        return pks & kept

    only(
        DataClass(
            "test_checkins", "测试", "", every_checkin, deciding, fixed_period=lambda: 7 * DAY
        )
    )
    with time_machine.travel(NOW, tick=False):
        assert services.retention_purge(chunk=chunk) == {"test_checkins": 3}
    assert sorted(pk for pk in (r.pk for r in rows) if in_db(CheckIn(pk=pk))) == sorted(kept)
    # Each row was offered once, in key order, ``chunk`` at a time.
    pks = [r.pk for r in rows]
    assert seen == [pks[i : i + chunk] for i in range(0, 5, chunk)]


def test_the_default_chunk_is_1000(only, venue, person):
    rows = old_checkins(venue, person, 2)
    sizes = []
    only(
        DataClass(
            "test_checkins",
            "测试",
            "",
            every_checkin,
            lambda candidates, now: sizes.append(candidates.count()) or set(),
            fixed_period=lambda: 7 * DAY,
        )
    )
    with time_machine.travel(NOW, tick=False):
        services.retention_purge()
    assert sizes == [len(rows)] and services.CHUNK == 1000


def test_files_go_only_after_their_rows_and_only_theirs(only, venue, person):
    gone_rows, kept_rows = old_checkins(venue, person, 2), old_checkins(venue, person, 1)
    removed = []

    def remove(row):
        assert not CheckIn.objects.filter(pk=row["id"]).exists()  # called after the delete
        removed.append(row)

    only(
        DataClass(
            "test_checkins",
            "测试",
            "",
            every_checkin,
            lambda candidates, now: {kept_rows[0].pk},
            fixed_period=lambda: 7 * DAY,
            files=(["id", "venue_id"], remove),
        )
    )
    with time_machine.travel(NOW, tick=False):
        assert services.retention_purge() == {"test_checkins": 2}
    assert removed == [{"id": r.pk, "venue_id": venue.pk} for r in gone_rows]
    assert in_db(kept_rows[0])


def test_nothing_expired_reads_once_and_deletes_nothing(only, venue, person, caplog):
    make_checkin(venue=venue, resident=person, left_at=NOW - DAY)
    only(DataClass("test_checkins", "测试", "", every_checkin, fixed_period=lambda: 7 * DAY))
    with caplog.at_level(logging.INFO, logger="retention"), time_machine.travel(NOW, tick=False):
        assert services.retention_purge() == {"test_checkins": 0}
    assert caplog.messages == [
        "retention test_checkins: deleted 0 (with 0 dependent rows), period 7 days, 0:00:00"
    ]
