"""The lookups kept before the trail existed are in it after the migration: audit 0003 copies
every PersonLookup row into a read event (channel → action, viewer → actor, the role from the
channel or the viewer's account, the venue, the subject or its masked number, the time), and
healthcode 0010 then drops the model."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import ActorRole, AuditEvent, AuditKind
from healthcode.models import User
from tests.factories import PASSWORD, make_officer, make_resident

BEFORE = [("healthcode", "0009_lookup_venue_name"), ("audit", "0002_append_only_trigger")]
AFTER = [
    ("healthcode", "0011_personlookup_moved_to_audit"),
    ("audit", "0003_person_lookups_into_the_trail"),
]


@pytest.mark.django_db(transaction=True)
def test_the_lookups_kept_before_are_reads_in_the_trail_after():
    resident = make_resident(name="张三丰")
    inspector = User.objects.create_user(phone="13522226000", password=PASSWORD)
    officer = make_officer(phone="13611116000").user
    at = timezone.now() - dt.timedelta(days=3)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps.get_model("healthcode", "PersonLookup")
        old.objects.create(
            viewer_id=inspector.pk,
            resident_id=resident.pk,
            channel="inspector_scan",
            venue_name="西湖区文三路联华超市",
            looked_up_at=at,
        )
        old.objects.create(
            machine="device 7", subject_masked_id="1101**********002X", channel="device"
        )
        old.objects.create(viewer_id=officer.pk, resident_id=resident.pk, channel="admin")
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    reads = list(AuditEvent.objects.filter(kind=AuditKind.READ).order_by("pk"))
    assert [(e.action, e.role, e.actor_id, e.machine) for e in reads] == [
        ("inspector_scan", ActorRole.INSPECTOR, inspector.pk, ""),
        ("device", ActorRole.MACHINE, None, "device 7"),
        ("admin", ActorRole.OFFICER, officer.pk, ""),
    ]
    assert [(e.subject_id, e.subject_masked_id, e.venue_name) for e in reads] == [
        (resident.pk, "", "西湖区文三路联华超市"),
        (None, "1101**********002X", ""),
        (resident.pk, "", ""),
    ]
    assert reads[0].at == at
    assert "healthcode_personlookup" not in connection.introspection.table_names()
