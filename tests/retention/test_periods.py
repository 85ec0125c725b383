"""Every data class at its edge: a row one second inside its period is kept, one second past
it is deleted (frozen time). The periods come from settings; the defaults are asserted once."""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings

from audit import services as audit_services
from audit.models import AuditEvent
from checkins.models import Alert, Method
from healthcode.models import HealthCodeChange, ItineraryStay
from nucleic.models import ResultBatch, Sample, SampleChange
from proxy_scan.models import ELDER_LOOKUP_RESULT_LIFETIME, ElderLookupResult
from retention.services import retention_purge
from tests.factories import add_flag, lab_token, post_result
from tests.retention.conftest import NOW, SECOND, edges, in_db, make_checkin

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def purge(**kwargs):
    with time_machine.travel(NOW, tick=False):
        return retention_purge(**kwargs)


def test_defaults_are_the_peers_28_days_and_a_year_for_the_audit_trail():
    assert [
        django_settings.RETENTION_DAYS_CHECKINS,
        django_settings.RETENTION_DAYS_PROXY_CHECKINS,
        django_settings.RETENTION_DAYS_ITINERARY,
        django_settings.RETENTION_DAYS_LAB_RESULTS,
        django_settings.RETENTION_DAYS_LAB_BATCHES,
        django_settings.RETENTION_DAYS_RISK_FLAGS,
        django_settings.RETENTION_DAYS_LOGIN_FAILURES,
        django_settings.AUDIT_RETENTION_DAYS,
    ] == [28] * 7 + [365]


def test_checkins_by_the_end_of_their_stay_with_their_alerts(venue, person):
    inside, past = edges(28 * DAY)
    kept = make_checkin(venue=venue, resident=person, left_at=inside)
    gone = make_checkin(venue=venue, resident=person, left_at=past)
    alert = Alert.objects.create(checkin=gone, venue=venue, resident=person, kind="fever")
    assert purge()["checkins"] == 1
    assert (in_db(kept), in_db(gone), in_db(alert)) == (True, False, False)


def test_a_stay_that_began_before_the_period_but_ended_inside_it_is_kept(venue, person):
    inside, _past = edges(28 * DAY)
    long_stay = make_checkin(venue=venue, resident=person, left_at=inside)
    long_stay.checked_in_at = inside - dt.timedelta(hours=23)
    long_stay.save()
    purge()
    assert in_db(long_stay)


def test_proxy_checkins_have_their_own_period(settings, venue, person):
    settings.RETENTION_DAYS_CHECKINS = 20
    settings.RETENTION_DAYS_PROXY_CHECKINS = 25
    inside, past = edges(25 * DAY)
    own = make_checkin(venue=venue, resident=person, left_at=inside)  # past 20 days
    kept = [
        make_checkin(venue=venue, resident=person, left_at=inside, method=method)
        for method in (Method.PROXY_FAMILY, Method.PROXY_ID_CARD)
    ]
    gone = [
        make_checkin(venue=venue, resident=person, left_at=past, method=method)
        for method in (Method.PROXY_FAMILY, Method.PROXY_CITIZEN_CARD, Method.PROXY_PAPER_CODE)
    ]
    counts = purge()
    assert (counts["checkins"], counts["proxy_checkins"]) == (1, 3)
    assert not in_db(own)
    assert [in_db(c) for c in kept + gone] == [True, True, False, False, False]


def test_itinerary_stays_by_their_end_and_an_open_stay_is_current(person):
    inside, past = edges(28 * DAY)
    rows = [
        ItineraryStay.objects.create(
            resident=person, region_code="420106", arrived_at=left - 5 * DAY, left_at=left
        )
        for left in (inside, past)
    ]
    still_there = ItineraryStay.objects.create(
        resident=person, region_code="420106", arrived_at=NOW - 400 * DAY
    )
    assert purge()["itinerary_stays"] == 1
    assert [in_db(r) for r in [*rows, still_there]] == [True, False, True]


def test_results_by_their_report_time_with_their_change_history(person):
    inside, past = edges(28 * DAY)
    for reported in (inside, past):
        post_result(
            id_number=person.id_number,
            name=person.name,
            sampled=reported - dt.timedelta(hours=20),
            reported=reported,
        )
    gone = Sample.objects.get(reported_at=past)
    change = SampleChange.objects.create(
        sample=gone, batch=gone.batch, before={"result": "pending"}, after={"result": "negative"}
    )
    assert purge()["lab_results"] == 1
    assert list(Sample.objects.values_list("reported_at", flat=True)) == [inside]
    assert not in_db(change)


def test_a_pending_result_counts_from_its_sampling(person):
    inside, past = edges(28 * DAY)
    for sampled in (inside, past):
        post_result(id_number=person.id_number, name=person.name, sampled=sampled, result="pending")
    purge()
    assert list(Sample.objects.values_list("sampled_at", flat=True)) == [inside]


def test_lab_batches_by_their_reception_once_no_result_points_at_them():
    token, _key = lab_token()
    inside, past = edges(28 * DAY)
    kept, gone = (
        ResultBatch.objects.create(lab=token.lab, token=token, received_at=at, content_type="json")
        for at in (inside, past)
    )
    assert purge()["lab_batches"] == 1
    assert (in_db(kept), in_db(gone)) == (True, False)


def test_vaccination_batches_by_their_reception_and_never_while_a_dose_points_at_one(person):
    from tests.factories import give_doses, site_key
    from vaccination.models import Dose, DoseBatch

    key, _raw = site_key()
    inside, past = edges(28 * DAY)
    kept, gone = (
        DoseBatch.objects.create(site=key.site, key=key, received_at=at, content_type="json")
        for at in (inside, past)
    )
    give_doses(person, ["2021-05-01"], key=key)
    with_a_dose = Dose.objects.get().batch
    DoseBatch.objects.filter(pk=with_a_dose.pk).update(received_at=past - DAY)
    assert purge()["vaccination_batches"] == 1
    assert (in_db(kept), in_db(gone), in_db(with_a_dose)) == (True, False, True)
    assert Dose.objects.count() == 1  # a dose decides a door as long as the person lives


def test_a_batch_goes_with_its_last_result(person):
    _inside, past = edges(28 * DAY)
    post_result(id_number=person.id_number, name=person.name, sampled=past - DAY, reported=past)
    batch = ResultBatch.objects.get()
    counts = purge()
    assert (counts["lab_results"], counts["lab_batches"]) == (1, 1)
    assert not in_db(batch)


def test_risk_flags_by_their_end_and_an_open_flag_is_never_taken(person):
    inside, past = edges(28 * DAY)
    kept = add_flag(person, "fever_clinic", starts=inside - DAY, ends=inside, recompute=False)
    gone = add_flag(person, "fever_clinic", starts=past - DAY, ends=past, recompute=False)
    open_flag = add_flag(person, "confirmed", starts=NOW - 900 * DAY, recompute=False)
    assert purge()["risk_flags"] == 1
    assert [in_db(f) for f in (kept, gone, open_flag)] == [True, False, True]


def test_elder_lookup_results_past_their_ten_seconds(person):
    inside, past = edges(ELDER_LOOKUP_RESULT_LIFETIME)
    kept, gone = (
        ElderLookupResult.objects.create(
            key=f"k{at.timestamp()}", viewer=person.user, resident=person, created_at=at
        )
        for at in (inside, past)
    )
    assert purge()["elder_lookup_results"] == 1
    assert (in_db(kept), in_db(gone)) == (True, False)


def make_failure(phone: str, at: dt.datetime) -> AccessAttempt:
    attempt = AccessAttempt.objects.create(
        username=phone, ip_address="10.0.0.1", user_agent="x", failures_since_start=1
    )
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=at)  # auto_now_add
    return attempt


def test_login_failures_by_their_time(db):
    inside, past = edges(28 * DAY)
    kept, gone = (
        make_failure(phone, at) for phone, at in (("13900000001", inside), ("13900000002", past))
    )
    assert purge()["login_failures"] == 1
    assert (in_db(kept), in_db(gone)) == (True, False)


def test_audit_rows_by_their_own_longer_period(settings, person):
    settings.AUDIT_RETENTION_DAYS = 365
    inside, past = edges(365 * DAY)
    younger = NOW - 100 * DAY  # past every other period, inside the trail's
    kept, gone, young = (
        audit_services.audit_change(action="flag", subject=person, at=at)
        for at in (inside, past, younger)
    )
    assert purge()["audit"] == 1
    assert [in_db(e) for e in (kept, gone, young)] == [True, False, True]
    assert AuditEvent.objects.filter(action="flag").count() == 2


def test_colour_history_by_the_audit_trails_period(settings, person):
    settings.AUDIT_RETENTION_DAYS = 365
    inside, past = edges(365 * DAY)
    code = person.health_code
    kept, gone = (
        HealthCodeChange.objects.create(
            health_code=code, new_colour="green", cause="test", changed_at=at
        )
        for at in (inside, past)
    )
    assert purge()["colour_history"] == 1
    assert (in_db(kept), in_db(gone)) == (True, False)
    assert in_db(code)  # the code keeps its current colour


def test_the_edge_itself_is_kept(venue, person):
    exactly = make_checkin(venue=venue, resident=person, left_at=NOW - 28 * DAY)
    purge()
    assert in_db(exactly)
    with time_machine.travel(NOW + SECOND, tick=False):
        retention_purge()
    assert not in_db(exactly)
