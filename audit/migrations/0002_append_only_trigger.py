"""On PostgreSQL, the audit table refuses UPDATE always and DELETE of rows younger than
``AUDIT_DELETE_FLOOR_DAYS`` (90): the application's database user cannot rewrite the trail,
and retention can remove only rows past their period. (TRUNCATE is not a row operation and is
left to the table's owner: tests flush tables with it; a production deployment runs the
application as a role that does not own the table.) SQLite has no such guard; the suite
checks it on PostgreSQL."""

from django.db import migrations

FLOOR_DAYS = 90  # audit.models.AUDIT_DELETE_FLOOR_DAYS, frozen here as the trigger has it

CREATE = f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit_auditevent is append-only: UPDATE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.at > now() - interval '{FLOOR_DAYS} days' THEN
        RAISE EXCEPTION 'audit_auditevent is append-only: DELETE of a row younger than {FLOOR_DAYS} days refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
