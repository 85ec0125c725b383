"""Every ``healthcode.PersonLookup`` becomes an ``AuditEvent`` of kind read: the channel is the
action, the viewer the actor, the role what the channel or the viewer's account says (as
``audit.services`` derives it now). healthcode's next migration then deletes the model: one
place for lookups, not two. Reversed, the reads that were lookups go back."""

from django.db import migrations

BATCH = 2000

# audit.services.ACTION_ROLES as it was when the lookups were copied.
CHANNEL_ROLES = {
    "inspector_scan": "inspector",
    "inspector_confirm": "inspector",
    "inspector_manual": "inspector",
    "device": "machine",
    "proxy_scan": "resident",
    "family": "resident",
    "api_verify": "staff",
    "officer_trace": "officer",
}


def _role(lookup, officers, staff) -> str:
    if lookup.channel in CHANNEL_ROLES:
        return CHANNEL_ROLES[lookup.channel]
    if lookup.viewer_id is None:
        return "machine"
    if lookup.viewer_id in officers:
        return "officer"
    return "staff" if lookup.viewer_id in staff else "resident"


def forwards(apps, schema_editor):
    PersonLookup = apps.get_model("healthcode", "PersonLookup")
    HealthOfficer = apps.get_model("healthcode", "HealthOfficer")
    User = apps.get_model("healthcode", "User")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    officers = set(HealthOfficer.objects.values_list("user_id", flat=True))
    staff = set(
        User.objects.filter(is_staff=True).values_list("pk", flat=True)
    ) | set(User.objects.filter(is_superuser=True).values_list("pk", flat=True))
    events = []
    for lookup in PersonLookup.objects.order_by("looked_up_at", "pk").iterator(BATCH):
        events.append(
            AuditEvent(
                at=lookup.looked_up_at,
                kind="read",
                action=lookup.channel,
                actor_id=lookup.viewer_id,
                machine=lookup.machine,
                role=_role(lookup, officers, staff),
                venue_name=lookup.venue_name,
                subject_id=lookup.resident_id,
                subject_masked_id=lookup.subject_masked_id,
                detail={"copied_from_lookup": lookup.pk},
            )
        )
        if len(events) == BATCH:
            AuditEvent.objects.bulk_create(events)
            events = []
    AuditEvent.objects.bulk_create(events)


def backwards(apps, schema_editor):
    PersonLookup = apps.get_model("healthcode", "PersonLookup")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    reads = AuditEvent.objects.filter(kind="read").exclude(subject=None, subject_masked_id="")
    reads = reads.exclude(actor=None, machine="")
    PersonLookup.objects.bulk_create(
        (
            PersonLookup(
                looked_up_at=event.at,
                channel=event.action[:32],
                viewer_id=event.actor_id,
                machine=event.machine,
                venue_name=event.venue_name,
                resident_id=event.subject_id,
                subject_masked_id=event.subject_masked_id,
            )
            for event in reads.order_by("at", "pk").iterator(BATCH)
        ),
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_trigger"),
        ("healthcode", "0009_lookup_venue_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
