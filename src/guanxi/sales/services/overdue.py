"""The periodic scan of overdue instalments."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from guanxi.core.models import Role, User
from guanxi.customers.services import follow_up_due_now
from guanxi.notifications.services import Notice, notify_many

from ..models import (
    Deal,
    Instalment,
    SalesSettings,
)
from ..permissions import (
    hears_of_overdue,
)
from .base import Stage

PAYMENT_OVERDUE = gettext_lazy(
    "Payment overdue %(days)d days: %(label)s ¥%(amount)s (%(customer)s)"
)


def overdue_scan(now=None) -> dict:
    """催款通知: a notice per overdue instalment to the deal's owner and to finance, a
    follow-up due now for the owner, and `in_default` after the configured days. Idempotent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    limit = SalesSettings.current().default_after_days
    # Finance of the customer's branch only: a notice names the customer and the amount,
    # which finance of another branch may not see.
    finance = list(
        User.objects.filter(is_active=True, roles__role=Role.FINANCE)
        .select_related("org_unit")
        .distinct()
    )
    overdue = (
        Instalment.objects.filter(status=Instalment.Status.DUE, due_date__lt=today)
        .exclude(deal__stage=Stage.LOST)
        .select_related("deal__customer")
    )
    notices, customers, defaulted = [], set(), set()
    for item in overdue.iterator(chunk_size=2000):
        days = (today - item.due_date).days
        params = {
            "days": days,
            "label": item.label,
            "amount": str(item.outstanding),
            "customer": item.deal.customer.name,
        }
        unit_id = item.deal.customer.org_unit_id
        desk = {person.pk for person in finance if hears_of_overdue(person, unit_id)}
        for user_id in {item.deal.owner_id, *desk}:
            notices.append(
                Notice(
                    recipient_id=user_id,
                    key=f"overdue:{item.pk}:{today:%Y%W}",
                    kind="payment_overdue",
                    title=PAYMENT_OVERDUE,
                    params=params,
                    url=f"/sales/deals/{item.deal_id}/",
                )
            )
        customers.add(item.deal.customer_id)
        if days > limit:
            defaulted.add(item.deal_id)
    with transaction.atomic():
        notify_many(notices, now=now)
        follow_up_due_now(customer_ids=customers, rule="overdue", now=now)
        Deal.objects.filter(pk__in=defaulted, in_default=False).update(in_default=True)
    return {"notices": len(notices), "defaulted": len(defaulted)}
