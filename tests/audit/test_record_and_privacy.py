"""The resident's record reads its lookups from the trail's reads, as before: a kind of viewer
and a venue, never a staff member; status changes are not listed twice (the colour history is
HealthCodeChange's). And after a seeded scenario that goes through every audited path, no
event holds an ID number or a phone anywhere but masked."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent, AuditKind
from audit.services import audit_lookup
from checkins.models import Device, Method
from checkins.services import checkin_manual, checkin_record
from healthcode import services, tokens
from healthcode.errors import DomainError
from healthcode.models import Resident, User
from proxy_scan import services as proxy_services
from tests.factories import add_flag, make_officer, make_resident, make_venue, resident_id
from tracing import services as tracing_services

pytestmark = pytest.mark.django_db


def record_of(user) -> dict:
    api = APIClient()
    api.force_authenticate(user)
    return api.get(reverse("api-me-record")).json()


def test_the_record_lists_each_read_once_and_no_change_as_a_lookup(resident):
    venue = make_venue(full_name="西湖区文三路联华超市")
    officer = make_officer(phone="13611115001", region_codes=("110105",)).user
    add_flag(resident, "close_contact")  # a status change and its event
    audit_lookup(action="device", machine="device 1", subject=resident, venue_name=venue.full_name)
    audit_lookup(action="admin", actor=officer, subject=resident)
    assert AuditEvent.objects.filter(subject=resident, kind=AuditKind.CHANGE).count() == 2
    body = record_of(resident.user)
    assert [(x["viewer_kind"], x["venue"]) for x in body["lookups"]] == [
        ("卫生健康部门工作人员", ""),
        ("场所扫码设备", venue.full_name),
    ]
    assert sorted((c["old_colour"], c["new_colour"]) for c in body["changes"]) == [
        ("", "green"),
        ("green", "red"),
    ]
    client = Client()
    client.force_login(resident.user)
    html = client.get(reverse("records:record")).content.decode()
    assert "场所扫码设备" in html and "卫生健康部门工作人员" in html
    assert officer.phone not in html and "device 1" not in html


def test_an_export_of_nobody_is_in_no_ones_record(resident):
    venue = make_venue()
    checkin_record(resident=resident, venue=venue, method=Method.SELF_SCAN)
    client = Client()
    client.force_login(venue.administrator)
    assert client.get(reverse("venues:checkins-csv")).status_code == 200
    assert record_of(resident.user)["lookups"] == []


def test_no_event_holds_an_id_number_or_a_phone_after_a_seeded_scenario(
    django_capture_on_commit_callbacks,
):
    call_command("seed_demo", stdout=StringIO())
    venue = make_venue(full_name="西湖区文三路联华超市")
    people = [make_resident(name=n) for n in ("赵一", "钱二", "孙三")]
    officer = make_officer(phone="13611115002", region_codes=("110105", "330106")).user
    start = timezone.now() - dt.timedelta(hours=3)
    for person in people:
        checkin_record(resident=person, venue=venue, method=Method.SELF_SCAN, now=start)
    # The door: a device, an unmatched ID card, a 帮扫 that matches and one that does not.
    row, key = Device.create_with_key(venue=venue, name="东门闸机")
    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    token = tokens.issue_for(people[0].health_code, now=timezone.now()).token
    device.post(reverse("api-devices-verify"), {"code": token}, format="json")
    stranger = resident_id(birth="19700101", seq=951)
    checkin_manual(
        venue=venue,
        scanned_by=venue.administrator,
        name="周陌生",
        id_type="resident_id",
        id_number=stranger,
        phone="13912340000",
    )
    helper = people[2].user
    proxy_services.proxy_checkin(
        helper=helper,
        venue=venue,
        way="id_card",
        name=people[1].name,
        id_number=people[1].id_number,
    )
    with pytest.raises(DomainError):
        proxy_services.proxy_checkin(
            helper=helper, venue=venue, way="id_card", name="错名字", id_number=people[0].id_number
        )
    # Flags with a stranger's number, a trace applied and withdrawn, the officer's pages.
    services.risk_flags_import(
        records=[
            {
                "source": "市疾控",
                "external_id": "X1",
                "id_type": "resident_id",
                "id_number": stranger,
                "name": "周陌生",
                "kind": "close_contact",
                "starts_at": start.isoformat(),
            }
        ],
        entered_by=officer,
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = tracing_services.case_register(
            by=officer,
            id_type=people[0].id_type,
            id_number=people[0].id_number,
            onset_at=start + dt.timedelta(hours=1),
        )
        trace = tracing_services.trace_start(case=case, by=officer)
    application = tracing_services.trace_apply(trace=trace, by=officer, reason="流调确认")
    tracing_services.application_withdraw(application=application, by=officer, reason="误判")
    client = Client()
    client.force_login(officer)
    for name in ("tracing:trace", "tracing:export"):
        assert client.get(reverse(name, args=[trace.public_id])).status_code == 200
    assert client.get(reverse("tracing:case", args=[case.public_id])).status_code == 200

    secrets = {r.id_number for r in Resident.objects.all()} | {stranger}
    secrets |= {u.phone for u in User.objects.all()} | {"13912340000"}
    events = list(AuditEvent.objects.all())
    actions = {e.action for e in events}
    assert {"device", "inspector_manual", "proxy_scan", "status_change", "flag_create"} <= actions
    assert {
        "trace_apply",
        "application_withdraw",
        "officer_trace_view",
        "officer_export",
    } <= actions
    for event in events:
        text = json.dumps(
            [event.detail, event.reason, event.venue_name, event.machine, event.subject_masked_id],
            ensure_ascii=False,
        )
        leaks = [s for s in secrets if s in text]
        assert not leaks, (event.action, text)
