"""One live customer per e-mail, held by the database (C1; issue #10 item 7, #12 item 4).

Before the index: where two live customers already share an e-mail (possible before, when
two creates raced), every one but the oldest stops counting for uniqueness and search by
e-mail (its `email_key` is emptied); the address itself stays on the record for a person to
merge or correct. Re-runnable; nothing to undo.
"""

from django.db import migrations, models
from django.db.models import Count, Min


def release_duplicate_email_keys(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    live = Customer.objects.filter(merged_into__isnull=True).exclude(email_key="")
    duplicates = (
        live.values("email_key").annotate(n=Count("id"), first=Min("id")).filter(n__gt=1)
    )
    for row in duplicates.iterator():
        live.filter(email_key=row["email_key"]).exclude(pk=row["first"]).update(email_key="")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_partial_time_indexes"),
    ]

    operations = [
        migrations.RunPython(release_duplicate_email_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email_key", ""), _negated=True)
                & models.Q(("merged_into__isnull", True)),
                fields=("email_key",),
                name="unique_live_customer_email",
            ),
        ),
    ]
