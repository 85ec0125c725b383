"""The audit trail cannot be rewritten by the application's database user: PostgreSQL refuses
an UPDATE of any row and a DELETE of a row younger than the floor, through the ORM and in raw
SQL alike. Retention's delete of a row past the floor goes through."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import services
from audit.models import AUDIT_DELETE_FLOOR_DAYS, ActorRole, AuditEvent, AuditKind
from tests.factories import make_resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL (CI runs it there)")


def test_a_read_names_kind_role_and_subject_and_keeps_no_identity(resident):
    event = services.audit_read(action="inspector_scan", subject=resident, machine="设备 A1")
    event.refresh_from_db()
    assert (event.kind, event.role, event.subject) == (AuditKind.READ, ActorRole.MACHINE, resident)
    assert resident.id_number not in str(event.detail) + event.reason


def test_an_event_with_no_actor_no_machine_and_not_the_system_is_refused():
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.create(kind=AuditKind.READ, action="x", role=ActorRole.RESIDENT)


def test_update_is_refused(postgres_only, resident):
    event = services.audit_read(action="inspector_scan", subject=resident, machine="A1")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.action = "nothing"
        event.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET subject_id = NULL")
    event.refresh_from_db()
    assert (event.action, event.reason, event.subject) == ("inspector_scan", "", resident)


def test_delete_of_a_recent_row_is_refused(postgres_only, resident):
    young = timezone.now() - dt.timedelta(days=AUDIT_DELETE_FLOOR_DAYS - 1)
    event = services.audit_change(action="flag", subject=resident, at=young)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_delete_of_a_row_past_the_floor_goes_through(postgres_only):
    resident = make_resident()
    old = timezone.now() - dt.timedelta(days=AUDIT_DELETE_FLOOR_DAYS, minutes=1)
    kept = services.audit_change(action="flag", subject=resident)
    gone = services.audit_change(action="flag", subject=resident, at=old)
    AuditEvent.objects.filter(pk=gone.pk).delete()
    left = AuditEvent.objects.filter(pk__in=[kept.pk, gone.pk]).values_list("pk", flat=True)
    assert list(left) == [kept.pk]
