"""The notices kept by interactions before the notification centre existed move here."""

from django.db import migrations

COLUMNS = ["user_id", "key", "title", "body", "url", "created_at", "read_at", "email_state"]


def copy_notifications(apps, schema_editor):
    Old = apps.get_model("interactions", "Notification")
    New = apps.get_model("notifications", "Notification")
    rows = Old.objects.order_by("pk").values_list(*COLUMNS)
    batch = []
    for values in rows.iterator(chunk_size=2000):
        batch.append(New(**dict(zip(COLUMNS, values, strict=True))))
        if len(batch) == 2000:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("interactions", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_notifications, migrations.RunPython.noop)]
