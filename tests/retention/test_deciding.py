"""Retention never deletes a fact that still decides a colour or a door: a positive inside its
red period, any result inside the longest test window, a stay the engine still turns into a
reason, a check-in whose token still bars other venues, a failure still counting to a lock.
Each edge comes from the rule it protects (engine.RULES, policies, venues' rules, settings)."""

import datetime as dt

import pytest
import time_machine

from checkins.models import CheckIn
from healthcode import engine, services
from healthcode.models import HealthCode, ItineraryStay, RiskArea
from nucleic.models import ResultBatch, Sample, TestPolicy
from retention.registry import longest_test_window
from retention.services import retention_purge
from tests.factories import post_result
from tests.retention.conftest import NOW, SECOND, edges, in_db, make_checkin
from tests.retention.test_periods import make_failure

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
RED_PERIOD = engine.RULES["positive_result"].default_duration


def purge(**kwargs):
    with time_machine.travel(NOW, tick=False):
        return retention_purge(**kwargs)


def colour_now(person) -> str:
    services.healthcode_recompute_many(resident_ids=[person.pk], cause="test", now=NOW)
    return HealthCode.objects.get(resident=person).colour


def result(person, *, reported, outcome="negative"):
    post_result(
        id_number=person.id_number,
        name=person.name,
        sampled=reported - dt.timedelta(hours=12),
        reported=reported,
        result=outcome,
    )
    return Sample.objects.get(reported_at=reported)


def test_a_positive_inside_its_red_period_outlives_its_own_and_its_batchs_period(settings, person):
    settings.RETENTION_DAYS_LAB_RESULTS = 3
    settings.RETENTION_DAYS_LAB_BATCHES = 1
    inside, _past = edges(RED_PERIOD)
    positive = result(person, reported=inside, outcome="positive")
    negative = result(person, reported=inside - DAY)  # as old, but decides nothing now
    counts = purge()
    assert (counts["lab_results"], counts["lab_batches"]) == (1, 1)
    assert (in_db(positive), in_db(positive.batch), in_db(negative)) == (True, True, False)
    assert colour_now(person) == "red"


def test_a_positive_one_second_past_its_red_period_goes_with_its_batch(settings, person):
    settings.RETENTION_DAYS_LAB_RESULTS = 3
    settings.RETENTION_DAYS_LAB_BATCHES = 1
    _inside, past = edges(RED_PERIOD)
    positive = result(person, reported=past, outcome="positive")
    purge()
    assert (in_db(positive), ResultBatch.objects.exists()) == (False, False)
    assert colour_now(person) == "green"


def test_a_negative_inside_the_longest_policy_window_is_kept(settings, person):
    settings.RETENTION_DAYS_LAB_RESULTS = 28
    TestPolicy.objects.create(window_hours=720, effective_from=NOW - 400 * DAY)  # 30 days
    assert longest_test_window() == 30 * DAY
    inside, past = edges(30 * DAY)
    kept, gone = result(person, reported=inside), result(person, reported=past)
    assert purge()["lab_results"] == 1
    assert (in_db(kept), in_db(gone)) == (True, False)


def test_a_negative_inside_a_venues_72_hour_rule_is_kept_without_any_policy(settings, person):
    settings.RETENTION_DAYS_LAB_RESULTS = 1
    assert not TestPolicy.objects.exists()
    inside, past = edges(dt.timedelta(hours=72))
    kept, gone = result(person, reported=inside), result(person, reported=past)
    purge()
    assert (in_db(kept), in_db(gone)) == (True, False)


def test_a_stay_in_an_area_that_still_makes_someone_yellow_is_kept(settings, person):
    settings.RETENTION_DAYS_ITINERARY = 3
    RiskArea.objects.create(region_code="420100", level="medium", starts_at=NOW - 60 * DAY)
    inside, past = edges(engine.ITINERARY_LOOKBACK)  # yellow until 14 days after leaving

    def stay(region, left):
        return ItineraryStay.objects.create(
            resident=person,
            region_code=region,
            arrived_at=left - 5 * engine.ITINERARY_MIN_STAY,
            left_at=left,
        )

    deciding = stay("420106", inside)
    expired = stay("420106", past)
    elsewhere = stay("110105", inside)  # no risk area: decides nothing
    assert colour_now(person) == "yellow"
    assert purge()["itinerary_stays"] == 2
    assert [in_db(s) for s in (deciding, expired, elsewhere)] == [True, False, False]
    assert colour_now(person) == "yellow"


def test_a_stay_under_four_hours_in_a_risk_area_decides_nothing(settings, person):
    settings.RETENTION_DAYS_ITINERARY = 3
    RiskArea.objects.create(region_code="420106", level="high", starts_at=NOW - 60 * DAY)
    left = NOW - 5 * DAY
    short = ItineraryStay.objects.create(
        resident=person,
        region_code="420106",
        arrived_at=left - engine.ITINERARY_MIN_STAY + SECOND,
        left_at=left,
    )
    purge()
    assert not in_db(short)


def test_a_checkin_whose_token_still_bars_other_venues_is_kept(settings, venue, person):
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = int((40 * DAY).total_seconds())
    old = make_checkin(venue=venue, resident=person, left_at=NOW - 30 * DAY, token_digest="d")
    purge()
    assert in_db(old)
    settings.HEALTHCODE_TOKEN_TTL_SECONDS = 300
    purge()
    assert not CheckIn.objects.exists()


def test_a_login_failure_still_counting_towards_a_lock_is_kept(settings, db):
    settings.RETENTION_DAYS_LOGIN_FAILURES = 1
    settings.LOGIN_COOLOFF_MINUTES = 3 * 24 * 60
    inside, past = edges(3 * DAY)
    kept, gone = make_failure("13900000001", inside), make_failure("13900000002", past)
    purge()
    assert (in_db(kept), in_db(gone)) == (True, False)
