"""SPEC C3: the protection period is 2 calendar months by default (it was 60 days).

Branches still on the old default (60 days, no months: the value every branch got on first
use) move to 2 calendar months; a branch whose manager chose another period keeps it.
Re-runnable: a second run finds nothing left on the old default.
"""

from django.db import migrations, models


def to_two_months(apps, schema_editor):
    ReceptionSettings = apps.get_model("reception", "ReceptionSettings")
    ReceptionSettings.objects.filter(protection_days=60, protection_months=0).update(
        protection_months=2
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reception", "0004_protection_in_calendar_months"),
    ]

    operations = [
        migrations.AlterField(
            model_name="receptionsettings",
            name="protection_months",
            field=models.PositiveSmallIntegerField(
                default=2, verbose_name="protection period (calendar months; 0 counts days)"
            ),
        ),
        migrations.RunPython(to_two_months, migrations.RunPython.noop),
    ]
