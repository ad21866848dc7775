"""The customer's credit holder (customers 0008) from the desk's current credit decisions.

A current decision whose holder is still the owner stands. One whose credit went to the
department leaves no salesperson holding it. One whose holder is no longer the owner (the
customer was redistributed, reassigned or claimed since) no longer holds: the owner took the
credit with the customer. A customer in the public pool holds no credit since entering it.
"""

from django.db import migrations
from django.db.models import F
from django.utils import timezone


def credit_from_decisions(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    CreditDecision = apps.get_model("reception", "CreditDecision")
    now = timezone.now()
    current = CreditDecision.objects.filter(is_current=True)
    department = current.filter(credit_user__isnull=True).values("customer_id")
    Customer.objects.filter(pk__in=department).update(credit_holder=None)
    passed = current.exclude(credit_user__isnull=True).exclude(
        credit_user_id=F("customer__owner_id")
    )
    Customer.objects.filter(pk__in=passed.values("customer_id"), owner__isnull=False).update(
        credit_since=now
    )
    Customer.objects.filter(in_pool_since__isnull=False).update(
        credit_holder=None, credit_since=F("in_pool_since")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reception", "0001_initial"),
        ("customers", "0008_credit_holder"),
    ]

    operations = [migrations.RunPython(credit_from_decisions, migrations.RunPython.noop)]
