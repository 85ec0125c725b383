"""The run itself: twice deletes nothing more, chunks walk past kept rows, logs counts and no
personal data, and beat runs it nightly at 03:30 Beijing time."""

import datetime as dt
import logging
from pathlib import Path

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings as django_settings

from checkins.models import CheckIn
from config.celery import app
from healthcode.models import ItineraryStay, RiskArea
from retention import tasks
from retention.registry import REGISTRY
from retention.services import retention_purge
from tests.factories import add_flag, post_result
from tests.retention.conftest import NOW, in_db, make_checkin

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def seed(venue, person):
    """Something to delete and something to keep in several classes."""
    for days in (1, 27, 29, 40, 41):
        make_checkin(venue=venue, resident=person, left_at=NOW - days * DAY)
    for days in (2, 30):
        post_result(
            id_number=person.id_number,
            name=person.name,
            sampled=NOW - days * DAY - DAY,
            reported=NOW - days * DAY,
        )
    add_flag(person, "symptoms", starts=NOW - 50 * DAY, ends=NOW - 36 * DAY, recompute=False)


def table_sizes() -> dict[str, int]:
    sizes = {}
    for data_class in REGISTRY:
        model = data_class.expired(NOW, data_class.period()).model
        sizes[model._meta.label] = model.objects.count()
    return sizes


def test_running_twice_deletes_nothing_more(venue, person):
    seed(venue, person)
    with time_machine.travel(NOW, tick=False):
        first = retention_purge()
        after_first = table_sizes()
        second = retention_purge()
    assert (first["checkins"], first["lab_results"], first["risk_flags"]) == (3, 1, 1)
    assert set(second.values()) == {0}
    assert table_sizes() == after_first


def test_small_chunks_delete_everything_expired_and_walk_past_kept_rows(settings, person, venue):
    settings.RETENTION_DAYS_ITINERARY = 3
    RiskArea.objects.create(region_code="420106", level="medium", starts_at=NOW - 60 * DAY)
    stays = [
        ItineraryStay.objects.create(
            resident=person,
            region_code="420106" if n % 2 else "110105",  # every other one still decides
            arrived_at=NOW - 6 * DAY,
            left_at=NOW - 5 * DAY,
        )
        for n in range(7)
    ]
    checkins = [
        make_checkin(venue=venue, resident=person, left_at=NOW - 30 * DAY) for _ in range(5)
    ]
    with time_machine.travel(NOW, tick=False):
        counts = retention_purge(chunk=2)
    assert (counts["itinerary_stays"], counts["checkins"]) == (4, 5)
    assert [in_db(s) for s in stays] == [False, True] * 3 + [False]
    assert not any(in_db(c) for c in checkins)


def test_the_log_says_counts_per_class_and_nothing_about_anyone(venue, person, caplog):
    seed(venue, person)
    with caplog.at_level(logging.INFO, logger="retention"), time_machine.travel(NOW, tick=False):
        retention_purge()
    text = caplog.text
    assert "retention checkins: deleted 3" in text
    assert "retention lab_results: deleted 1" in text
    assert all(f"retention {c.key}: deleted" in text for c in REGISTRY)
    for secret in (person.name, person.id_number, person.user.phone, person.masked_name):
        assert secret not in text


def test_the_task_runs_the_purge(venue, person):
    seed(venue, person)
    with time_machine.travel(NOW, tick=False):
        counts = tasks.retention_purge.delay().get()
    assert counts["checkins"] == 3
    assert CheckIn.objects.count() == 2


def test_beat_runs_it_every_night_at_half_past_three_beijing_time():
    entry = django_settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "retention.tasks.retention_purge" == tasks.retention_purge.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == crontab(hour=3, minute=30)
    assert django_settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_the_readme_lists_every_data_class_with_its_setting():
    readme = (Path(django_settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Retention", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(REGISTRY)
    for row, data_class in zip(rows, REGISTRY, strict=True):
        assert f"(`{data_class.key}`)" in row
        assert (f"`{data_class.setting}`" if data_class.setting else "| none |") in row
        if data_class.setting:
            assert f"| {getattr(django_settings, data_class.setting)} days" in row
