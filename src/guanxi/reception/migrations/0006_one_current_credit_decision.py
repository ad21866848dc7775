from django.db import migrations, models
from django.db.models import Max


def keep_the_newest_current(apps, schema_editor):
    """A race before the constraint could leave two current decisions: the newest stands."""
    CreditDecision = apps.get_model("reception", "CreditDecision")
    doubled = (
        CreditDecision.objects.filter(is_current=True)
        .values("customer_id")
        .annotate(newest=Max("id"), n=models.Count("id"))
        .filter(n__gt=1)
    )
    for row in doubled.iterator():
        CreditDecision.objects.filter(customer_id=row["customer_id"], is_current=True).exclude(
            pk=row["newest"]
        ).update(is_current=False)


class Migration(migrations.Migration):
    dependencies = [
        ("reception", "0005_protection_default_two_calendar_months"),
    ]

    operations = [
        migrations.RunPython(keep_the_newest_current, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="creditdecision",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_current", True)),
                fields=("customer",),
                name="one_current_credit",
            ),
        ),
    ]
