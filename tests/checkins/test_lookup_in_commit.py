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


def test_a_resent_confirmation_that_meets_the_constraint_leaves_its_lookup(resident):
    """The resend's insert meets the one-row-per-client-id constraint (the colour changed in
    between): its transaction, lookup included, is rolled back and the first row is the
    answer — and the resend, which read the person again, is still a lookup."""
    import uuid

    from tests.checkins.test_offline_confirm import confirm as confirm_with
    from tests.checkins.test_offline_confirm import make_inspector, token_at
    from tests.factories import add_flag

    inspector = make_inspector()
    token, client_id = token_at(resident, timezone.now()), str(uuid.uuid4())
    first = confirm_with(inspector, token, client_id=client_id)
    add_flag(resident, "close_contact")  # red now: the resend is no repeat
    again = confirm_with(inspector, token, client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["checkin_id"] == first.json()["checkin_id"]
    assert lookups_of(resident, "inspector_confirm") == 2
    assert CheckIn.objects.filter(resident=resident).count() == 1
