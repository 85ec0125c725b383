"""The check-in services at their edges: the temperature bands, what a check-in and its alerts
record, the repeat window's comparisons, the one-venue refusal, manual registration and
acknowledging an alert. Written against the surviving mutants of ``make mutants``."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from checkins import services
from checkins.models import Alert, CheckIn
from healthcode import tokens
from healthcode.errors import DomainError
from tests.factories import add_flag, lookups, make_resident, make_venue, post_result

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def inspector(django_user_model):
    return django_user_model.objects.create_user(phone="13600000001", password="Pass-2026-x!")


# --- Temperature -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("celsius", "band"),
    [("37.3", "fever"), ("37.29", "normal"), ("39.0", "fever"), ("36.5", "normal")],
)
def test_a_measured_temperature_decides_the_band(celsius, band):
    assert services.temperature_band_for(celsius=Decimal(celsius)) == band
    # A measurement wins over what was picked.
    assert services.temperature_band_for(band="normal", celsius=Decimal(celsius)) == band


@pytest.mark.parametrize("band", ["", "normal", "fever"])
def test_a_picked_band_is_kept(band):
    assert services.temperature_band_for(band=band) == band


def test_an_unknown_band_is_a_field_error():
    with pytest.raises(DomainError) as exc:
        services.temperature_band_for(band="hot")
    assert exc.value.as_dict() == {"temperature_band": ["请选择体温：正常或发热。"]}


# --- What a check-in records -------------------------------------------------------------------
def test_a_check_in_records_the_person_the_door_and_the_token_digest(resident, inspector):
    venue = make_venue(entry_rule="none")
    token = tokens.issue_for(resident.health_code, now=NOW).token
    checkin, created = services.checkin_record(
        resident=resident,
        venue=venue,
        method="inspector_scan",
        scanned_by=inspector,
        temperature=Decimal("36.6"),
        token=token,
    )
    checkin.refresh_from_db()
    assert created
    assert (checkin.resident, checkin.venue, checkin.checked_in_at, checkin.method) == (
        resident,
        venue,
        NOW,
        "inspector_scan",
    )
    assert (checkin.scanned_by, checkin.helper, checkin.temperature_band) == (
        inspector,
        None,
        "normal",
    )
    assert checkin.temperature == Decimal("36.6")
    assert checkin.token_digest == tokens.digest(token)
    assert (checkin.decision, checkin.decision_code, checkin.decision_text) == (
        "pass",
        "pass",
        "绿码，可以通行",
    )
    assert checkin.colour == "green" and checkin.reasons[0]["code"] == "no_abnormality"
    assert checkin.test["state"] == "none"
    assert not Alert.objects.exists()


def test_without_a_token_no_digest_is_kept(resident):
    checkin, _ = services.checkin_record(
        resident=resident, venue=make_venue(entry_rule="none"), method="self_scan"
    )
    assert checkin.token_digest == "" and checkin.temperature is None


def test_a_venue_with_its_own_window_decides_on_its_hours(resident):
    post_result(
        id_number=resident.id_number,
        name=resident.name,
        sampled=NOW - dt.timedelta(hours=30),
        reported=NOW - dt.timedelta(hours=28),
    )
    checkin, _ = services.checkin_record(
        resident=resident, venue=make_venue(entry_rule="24"), method="self_scan"
    )
    assert (checkin.decision_code, checkin.decision_text) == (
        "test_overdue",
        "核酸超时（要求 24 小时内），禁止通行",
    )


def test_a_red_code_with_a_fever_raises_both_alerts_with_the_persons_region(resident):
    add_flag(resident, "close_contact", starts=NOW - dt.timedelta(hours=1))
    venue = make_venue(entry_rule="none")
    checkin, _ = services.checkin_record(
        resident=resident, venue=venue, method="inspector_scan", temperature_band="fever"
    )
    alerts = list(Alert.objects.order_by("kind"))
    assert [a.kind for a in alerts] == ["fever", "red"]
    for alert in alerts:
        assert (alert.checkin, alert.venue, alert.resident) == (checkin, venue, resident)
        assert (alert.region_code, alert.created_at) == (resident.region_code, NOW)
        assert alert.acknowledged_at is None


def test_a_fever_alone_stops_and_raises_one_fever_alert(resident):
    checkin, _ = services.checkin_record(
        resident=resident,
        venue=make_venue(entry_rule="none"),
        method="inspector_scan",
        temperature=Decimal("37.3"),
    )
    assert (checkin.decision_code, checkin.passed) == ("fever", False)
    assert list(Alert.objects.values_list("kind", flat=True)) == ["fever"]


def test_no_test_raises_a_test_overdue_alert(resident):
    from nucleic.services import policy_create

    policy_create(group="general", window_hours=72, effective_from=NOW - dt.timedelta(days=1))
    checkin, _ = services.checkin_record(
        resident=resident, venue=make_venue(entry_rule="policy"), method="self_scan"
    )
    assert checkin.decision_code == "no_test"
    assert list(Alert.objects.values_list("kind", flat=True)) == ["test_overdue"]


def test_the_status_is_the_one_at_the_check_ins_time_not_the_clocks(resident):
    add_flag(
        resident,
        "fever_clinic",
        starts=NOW - dt.timedelta(hours=1),
        ends=NOW + dt.timedelta(hours=1),
    )
    venue = make_venue(entry_rule="none")
    now_yellow, _ = services.checkin_record(resident=resident, venue=venue, method="self_scan")
    assert now_yellow.colour == "yellow"
    # A scan carrying a time past the flag's end (a device's queued scan, say) is judged then.
    later, _ = services.checkin_record(
        resident=resident, venue=venue, method="self_scan", now=NOW + dt.timedelta(hours=2)
    )
    assert (later.colour, later.decision_code) == ("green", "pass")


# --- The repeat window -------------------------------------------------------------------------
def test_each_difference_breaks_the_repeat(resident, inspector, django_user_model):
    venue = make_venue(entry_rule="none")
    start = timezone.now()

    def scan(minutes, **kwargs):
        kwargs.setdefault("method", "self_scan")
        return services.checkin_record(
            resident=resident, venue=venue, now=start + dt.timedelta(minutes=minutes), **kwargs
        )

    first, created = scan(0)
    assert created
    assert scan(1) == (first, False)
    helper = django_user_model.objects.create_user(phone="13600000002", password="Pass-2026-x!")
    helped, created = scan(2, helper=helper)
    assert created and helped.helper == helper
    assert scan(3, helper=helper) == (helped, False)
    band, created = scan(4, helper=helper, temperature_band="normal")
    assert created
    assert scan(5, helper=helper, temperature_band="normal") == (band, False)
    assert CheckIn.objects.count() == 3


def test_another_persons_scan_at_the_same_venue_is_not_a_repeat(resident):
    venue = make_venue(entry_rule="none")
    mine, _ = services.checkin_record(resident=resident, venue=venue, method="self_scan")
    other = make_resident()
    theirs, created = services.checkin_record(
        resident=other, venue=venue, method="self_scan", now=NOW + dt.timedelta(minutes=1)
    )
    assert created and theirs.resident == other and theirs != mine


def test_alerts_are_dated_at_the_check_in_not_the_clock(resident):
    add_flag(resident, "close_contact", starts=NOW - dt.timedelta(hours=1))
    at = NOW + dt.timedelta(minutes=3)
    services.checkin_record(resident=resident, venue=make_venue(), method="self_scan", now=at)
    assert Alert.objects.get().created_at == at


def test_the_repeat_window_is_a_setting(resident, settings):
    settings.CHECKIN_REPEAT_SECONDS = 60
    venue = make_venue(entry_rule="none")
    first, _ = services.checkin_record(resident=resident, venue=venue, method="self_scan", now=NOW)
    again = services.checkin_record(
        resident=resident, venue=venue, method="self_scan", now=NOW + dt.timedelta(seconds=59)
    )
    assert again == (first, False)
    _later, created = services.checkin_record(
        resident=resident, venue=venue, method="self_scan", now=NOW + dt.timedelta(seconds=60)
    )
    assert created


# --- One venue per token -----------------------------------------------------------------------
def test_a_token_used_at_another_venue_is_a_409_that_writes_nothing(resident):
    token = tokens.issue_for(resident.health_code, now=NOW).token
    services.checkin_record(
        resident=resident, venue=make_venue(entry_rule="none"), method="self_scan", token=token
    )
    with pytest.raises(DomainError) as exc:
        services.checkin_record(
            resident=resident,
            venue=make_venue(entry_rule="none"),
            method="self_scan",
            token=token,
        )
    assert (exc.value.code, exc.value.status, exc.value.field) == (
        "token_used_elsewhere",
        409,
        None,
    )
    assert exc.value.message == "已在其他场所使用，请本人刷新健康码。"
    assert CheckIn.objects.count() == 1


# --- Manual registration -----------------------------------------------------------------------
def test_a_registered_person_is_checked_in_with_their_status_and_the_lookup_recorded(
    resident, inspector
):
    venue = make_venue(entry_rule="none")
    checkin = services.checkin_manual(
        venue=venue,
        scanned_by=inspector,
        name=resident.name,
        id_type=resident.id_type,
        id_number=resident.id_number,
        temperature_band="fever",
    )
    assert (checkin.resident, checkin.method, checkin.scanned_by) == (resident, "manual", inspector)
    assert (checkin.temperature_band, checkin.decision_code) == ("fever", "fever")
    assert checkin.checked_in_at == NOW
    lookup = lookups().get()
    assert (lookup.subject, lookup.actor, lookup.machine, lookup.action) == (
        resident,
        inspector,
        "",
        "inspector_manual",
    )


def test_a_device_read_of_a_registered_card(resident):
    venue = make_venue(entry_rule="none")
    checkin = services.checkin_manual(
        venue=venue,
        scanned_by=None,
        name=resident.name,
        id_type=resident.id_type,
        id_number=resident.id_number,
        method="device",
        machine="闸机 1",
        now=NOW - dt.timedelta(seconds=5),
    )
    assert (checkin.method, checkin.checked_in_at) == ("device", NOW - dt.timedelta(seconds=5))
    lookup = lookups().get()
    assert (lookup.subject, lookup.machine, lookup.action) == (resident, "闸机 1", "device")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "李四"), ("id_type", "passport"), ("id_number", "440524188001010014")],
)
def test_another_name_document_or_number_is_unregistered(resident, inspector, field, value):
    person = {"name": resident.name, "id_type": resident.id_type, "id_number": resident.id_number}
    person[field] = value
    checkin = services.checkin_manual(
        venue=make_venue(entry_rule="none"), scanned_by=inspector, **person
    )
    assert checkin.resident is None and checkin.decision_code == "unregistered"


def test_an_unregistered_person_is_stopped_recorded_as_typed_and_masked_in_the_lookup(inspector):
    venue = make_venue(entry_rule="none")
    checkin = services.checkin_manual(
        venue=venue,
        scanned_by=inspector,
        name="王五",
        id_type="resident_id",
        id_number="11010519491231002X",
        phone="13812341234",
        temperature_band="fever",
    )
    checkin.refresh_from_db()
    assert (checkin.resident, checkin.venue, checkin.checked_in_at, checkin.method) == (
        None,
        venue,
        NOW,
        "manual",
    )
    assert (checkin.decision, checkin.decision_code, checkin.decision_text) == (
        "stop",
        "unregistered",
        "未注册健康码，请人工核验身份与健康状况",
    )
    assert (checkin.manual_name, checkin.manual_id_number, checkin.manual_phone) == (
        "王五",
        "11010519491231002X",
        "13812341234",
    )
    assert (checkin.scanned_by, checkin.temperature_band, checkin.colour) == (
        inspector,
        "fever",
        "",
    )
    alert = Alert.objects.get()
    assert (alert.kind, alert.resident, alert.region_code, alert.created_at) == (
        "fever",
        None,
        "",
        NOW,
    )
    lookup = lookups().get()
    assert (lookup.subject, lookup.actor, lookup.action) == (None, inspector, "inspector_manual")
    assert "11010519491231002X" not in lookup.subject_masked_id
    assert lookup.subject_masked_id.startswith("1") and lookup.subject_masked_id.endswith("X")


def test_an_unregistered_device_read_at_a_given_time_without_fever_raises_no_alert():
    venue = make_venue(entry_rule="none")
    at = NOW - dt.timedelta(minutes=1)
    checkin = services.checkin_manual(
        venue=venue,
        scanned_by=None,
        name="王五",
        id_type="resident_id",
        id_number="11010519491231002X",
        method="device",
        machine="闸机 2",
        now=at,
    )
    assert (checkin.checked_in_at, checkin.method, checkin.temperature_band) == (at, "device", "")
    assert checkin.manual_phone == ""
    assert not Alert.objects.exists()
    assert lookups().get().action == "device"


def test_an_unregistered_person_with_an_unknown_band_writes_nothing(inspector):
    with pytest.raises(DomainError):
        services.checkin_manual(
            venue=make_venue(entry_rule="none"),
            scanned_by=inspector,
            name="王五",
            id_type="resident_id",
            id_number="11010519491231002X",
            temperature_band="hot",
        )
    assert not CheckIn.objects.exists()


# --- Alerts ------------------------------------------------------------------------------------
def test_an_alert_is_acknowledged_once_by_whoever_came_first(
    resident, inspector, django_user_model
):
    add_flag(resident, "close_contact", starts=NOW - dt.timedelta(hours=1))
    services.checkin_record(resident=resident, venue=make_venue(), method="self_scan")
    alert = Alert.objects.get()
    services.alert_acknowledge(alert=alert, user=inspector)
    alert.refresh_from_db()
    assert (alert.acknowledged_at, alert.acknowledged_by) == (NOW, inspector)
    other = django_user_model.objects.create_user(phone="13600000003", password="Pass-2026-x!")
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        services.alert_acknowledge(alert=alert, user=other)
    alert.refresh_from_db()
    assert (alert.acknowledged_at, alert.acknowledged_by) == (NOW, inspector)


def test_acknowledging_writes_only_who_and_when(resident, inspector):
    add_flag(resident, "close_contact", starts=NOW - dt.timedelta(hours=1))
    services.checkin_record(resident=resident, venue=make_venue(), method="self_scan")
    alert = Alert.objects.get()
    Alert.objects.filter(pk=alert.pk).update(region_code="330106")  # changed meanwhile
    services.alert_acknowledge(alert=alert, user=inspector)
    alert.refresh_from_db()
    assert (alert.region_code, alert.acknowledged_by) == ("330106", inspector)


def test_make_resident_region_is_kept_on_alerts():
    resident = make_resident(region_code="330106")
    add_flag(resident, "fever_clinic", starts=NOW - dt.timedelta(hours=1))
    services.checkin_record(resident=resident, venue=make_venue(), method="self_scan")
    assert Alert.objects.get().region_code == "330106"
