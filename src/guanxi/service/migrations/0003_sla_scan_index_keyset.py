"""The SLA scan walks its partial index in (sla_check_at, id) keyset order: the index
carries the id, so a batch is one range read with no sort. The queue's "all statuses" and
"late only" filters get (due_at, id) indexes of their own, so they read a page, not sort
the table (tests/service/test_query_plans.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("service", "0002_default_sla_policies")]

    operations = [
        migrations.RemoveIndex(model_name="ticket", name="ticket_sla_check"),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("sla_check_at__isnull", False)),
                fields=["sla_check_at", "id"],
                name="ticket_sla_check_due",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["due_at", "id"], name="ticket_due_queue"),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("response_breached", True), ("resolution_breached", True), _connector="OR"),
                fields=["due_at", "id"],
                name="ticket_breached_queue",
            ),
        ),
    ]
