"""Check-ins become stays: ``left_at`` (filled for existing rows with the venue's default
stay, capped at 24 h, as an assumed end) and ``left_how``."""

import datetime as dt

from django.db import migrations, models
from django.db.models import F


def fill_assumed_ends(apps, schema_editor):
    CheckIn = apps.get_model("checkins", "CheckIn")
    Venue = apps.get_model("venues", "Venue")
    for venue_id, minutes in Venue.objects.values_list("pk", "default_stay_minutes"):
        stay = min(dt.timedelta(minutes=minutes), dt.timedelta(hours=24))
        CheckIn.objects.filter(venue_id=venue_id, left_at__isnull=True).update(
            left_at=F("checked_in_at") + stay
        )


class Migration(migrations.Migration):
    dependencies = [
        ("checkins", "0003_checkin_helper_proxy_methods"),
        ("venues", "0002_approval_and_credit_code"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkin",
            name="left_at",
            field=models.DateTimeField(null=True, verbose_name="离开时间"),
        ),
        migrations.AddField(
            model_name="checkin",
            name="left_how",
            field=models.CharField(
                choices=[
                    ("assumed", "按场所默认停留时长推定"),
                    ("checkout", "离开时扫码（明确）"),
                    ("next_checkin", "在其他场所扫码时结束"),
                ],
                default="assumed",
                max_length=16,
                verbose_name="离开时间来源",
            ),
        ),
        migrations.RunPython(fill_assumed_ends, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="checkin",
            name="left_at",
            field=models.DateTimeField(verbose_name="离开时间"),
        ),
        migrations.AddConstraint(
            model_name="checkin",
            constraint=models.CheckConstraint(
                condition=models.Q(("left_at__gte", models.F("checked_in_at"))),
                name="checkin_left_after_arrival",
            ),
        ),
    ]
