"""A device's or an inspector's recorded scan writes the lookup of the person in the same
commit as the check-in (one flush of the log a scan); a scan refused or failing after the
person was read still leaves its lookup."""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from checkins import services
from checkins.models import CheckIn
from healthcode import tokens
from tests.checkins.test_token_reuse import confirm, device_at, device_scan, inspector_at
from tests.factories import make_venue

pytestmark = pytest.mark.django_db


def lookups_of(resident, action: str) -> int:
    return AuditEvent.objects.filter(subject=resident, action=action).count()


@pytest.fixture
def token(resident):
    return tokens.issue_for(resident.health_code, now=timezone.now()).token


def test_a_gate_scan_leaves_one_lookup_and_one_checkin(resident, token):
    venue = make_venue()
    assert device_scan(device_at(venue), token).json()["decision"] == "pass"
    assert lookups_of(resident, "device") == 1
    assert CheckIn.objects.filter(resident=resident, venue=venue).count() == 1
    event = AuditEvent.objects.get(subject=resident, action="device")
    assert event.venue_name == venue.full_name and event.machine.startswith("device ")


def test_a_refused_scan_still_leaves_its_lookup(resident, token):
    first, second = make_venue(full_name="甲超市"), make_venue(full_name="乙餐厅")
    assert device_scan(device_at(first), token).status_code == 200
    assert device_scan(device_at(second), token).status_code == 409
    assert lookups_of(resident, "device") == 2  # the refusal read the person too
    assert confirm(inspector_at(second, "13511110009"), second, token).status_code == 409
    assert lookups_of(resident, "inspector_confirm") == 1
    assert CheckIn.objects.filter(resident=resident).count() == 1


def test_a_scan_that_fails_after_the_read_leaves_its_lookup(resident, monkeypatch):
    venue = make_venue()

    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services, "_checkin_record", broken)
    lookup = {"action": "device", "machine": "device 1", "subject": resident}
    with pytest.raises(RuntimeError):
        services.checkin_record_looked_up(
            lookup=lookup, resident=resident, venue=venue, method="device"
        )
    assert lookups_of(resident, "device") == 1
    assert not CheckIn.objects.exists()
