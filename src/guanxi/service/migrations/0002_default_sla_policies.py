"""Default SLA policies for every type × priority (a complaint: 24 working hours for the
first response and for the resolution, SPEC C5). Re-runnable: existing rows are kept."""

from decimal import Decimal

from django.db import migrations

HOURS = {
    "complaint": (24, 24),
    "repair": (8, 40),
    "inquiry": (8, 16),
    "request": (8, 40),
}
PRIORITIES = ("low", "normal", "high", "urgent")


def create(apps, schema_editor):
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    for ticket_type, (response, resolution) in HOURS.items():
        for priority in PRIORITIES:
            SlaPolicy.objects.get_or_create(
                type=ticket_type,
                priority=priority,
                defaults={
                    "first_response_hours": Decimal(response),
                    "resolution_hours": Decimal(resolution),
                    "warn_before_hours": Decimal(2),
                },
            )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_tickets_sla_knowledge_base")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
