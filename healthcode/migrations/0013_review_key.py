from django.db import migrations, models


class Migration(migrations.Migration):
    """The sweep pages through due codes by (review_at, resident): the composite index is made
    before the plain review_at index it replaces is dropped, so the sweep is never without
    one."""

    dependencies = [
        ("healthcode", "0012_riskflag_withdrawn"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="healthcode",
            index=models.Index(fields=["review_at", "resident"], name="healthcode_review_key"),
        ),
        migrations.AlterField(
            model_name="healthcode",
            name="review_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="下次复核时间"),
        ),
    ]
