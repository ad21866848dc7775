"""Insights fixtures: purchases dated in the past, recorded through the sales services as
finance records them (the payment's date is when the money came in)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.sales import services as sales
from guanxi.sales.models import Product
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401
from tests.loyalty.conftest import _loyalty_defaults  # noqa: F401
from tests.sales.conftest import _pipeline  # noqa: F401

_receipts = iter(range(1, 10**7))


@pytest.fixture
def goods(db):
    return Product.objects.create(
        name="美的空调", sku="MD-AC", category="空调", list_price=Decimal("3000.00")
    )


def purchase(owner, finance, customer, product, amount="1000.00", days_ago=0, now=None):
    """An order paid in full `days_ago` days before `now`."""
    order = sales.order_create(
        actor=owner,
        customer_id=customer.pk,
        items=[{"product_id": product.pk, "unit_price": str(amount)}],
        ship_method="pickup",
        receiver_name=customer.name,
        payer=customer.name,
    )
    sales.payment_record(
        actor=finance,
        order_id=order.pk,
        amount=str(amount),
        method="cash",
        receipt_number=f"I{next(_receipts):07d}",
        received_at=(now or timezone.now()) - timedelta(days=days_ago),
    )
    return order


def history(owner, finance, customer, product, days_ago: list[int], amount="1000.00"):
    for days in sorted(days_ago, reverse=True):
        purchase(owner, finance, customer, product, amount, days)
