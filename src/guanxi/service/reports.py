"""The service reports: CSAT per agent and type, FAQ deflections, and the service value —
revenue from customers who bought again within N months of a resolved ticket (service is
not only a cost: "怎么其它部门的同事都认为我们的售后服务部门只是花钱而挣不来钱")."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Min

from guanxi.core.models import User
from guanxi.sales.models import Payment

from .models import Ticket

MAX_CUSTOMERS = 20000  # a small report: beyond this, the oldest resolutions are left out


@dataclass
class ServiceValue:
    months: int
    customers_served: int = 0
    customers_bought_again: int = 0
    revenue: Decimal = Decimal("0.00")

    @property
    def rate_pct(self) -> Decimal:
        if not self.customers_served:
            return Decimal("0")
        return (Decimal(100) * self.customers_bought_again / self.customers_served).quantize(
            Decimal("0.1")
        )


def service_value(*, viewer: User, since: datetime, months: int = 6) -> ServiceValue:
    """Customers with a ticket resolved since `since`; of them, those with a payment in the
    `months` after their first such resolution, and the sum of those payments."""

    result = ServiceValue(months=months)
    first = dict(
        Ticket.objects.visible_to(viewer)
        .filter(resolved_at__gte=since, customer__isnull=False)
        .values("customer_id")
        .annotate(first=Min("resolved_at"))
        .order_by("-first")
        .values_list("customer_id", "first")[:MAX_CUSTOMERS]
    )
    result.customers_served = len(first)
    if not first:
        return result
    window = timedelta(days=30 * months)
    buyers = set()
    for customer_id, amount, at in Payment.objects.filter(
        customer_id__in=list(first), received_at__gte=min(first.values())
    ).values_list("customer_id", "amount", "received_at"):
        start = first[customer_id]
        if start < at <= start + window:
            buyers.add(customer_id)
            result.revenue += amount
    result.customers_bought_again = len(buyers)
    result.revenue = Decimal(result.revenue).quantize(Decimal("0.01"))
    return result
