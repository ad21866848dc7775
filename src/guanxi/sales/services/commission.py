"""Commission, settled for whoever holds the customer's credit when the deal completes."""

from decimal import ROUND_HALF_UP, Decimal

from guanxi.customers.models import Customer
from guanxi.reception.selectors import current_credit_split

from ..models import (
    CommissionEntry,
    Deal,
    SalesSettings,
)
from .base import CENT


def commission_settle(deal: Deal) -> list[CommissionEntry]:
    """The deal's commission, split as the customer's current credit decision says (C3),
    or all to the deal's owner when there is none."""
    rate = SalesSettings.current().commission_rate_pct
    base = (deal.amount * rate / Decimal("100")).quantize(CENT, rounding=ROUND_HALF_UP)
    # Whoever holds the credit now (reception's selector): after a redistribution, a pool
    # claim, a dispute decision or a reassignment, the new holder; nobody for a customer
    # whose credit lapsed to the public pool.
    customer = Customer.objects.get(pk=deal.customer_id)
    lines = current_credit_split(customer)
    if not lines and customer.credit_since is None and customer.in_pool_since is None:
        # A record that never had a credit holder (created by someone who is not a
        # salesperson, before any reception): the deal's owner, as before the desk existed.
        lines = [(deal.owner_id, None, Decimal("100"), None)]
    entries = []
    allotted = Decimal("0.00")
    for index, (person, department, pct, case) in enumerate(lines):
        amount = (base * pct / Decimal("100")).quantize(CENT, rounding=ROUND_HALF_UP)
        if index == len(lines) - 1:
            amount = base - allotted  # the last line takes the rounding cent
        allotted += amount
        entries.append(
            CommissionEntry(
                deal=deal,
                salesperson_id=person,
                department_id=department,
                percent=pct,
                amount=amount,
                case_number=case,
            )
        )
    return CommissionEntry.objects.bulk_create(entries)
