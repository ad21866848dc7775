"""Loyalty fixtures: the default tiers and rules (migration data), a retail product, and
money received through the sales services, as finance records it."""

import importlib
from decimal import Decimal

import pytest

from guanxi.loyalty.models import EarningRule, Tier
from guanxi.sales import services as sales
from guanxi.sales.models import Product
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401
from tests.sales.conftest import _pipeline  # noqa: F401

_receipts = iter(range(1, 10**6))


@pytest.fixture(autouse=True)
def _loyalty_defaults(db):
    """Tiers and earning rules are migration data; a transactional test elsewhere flushes them."""
    if not Tier.objects.exists() or not EarningRule.objects.exists():
        migration = importlib.import_module(
            "guanxi.loyalty.migrations.0002_default_tiers_and_rules"
        )
        from django.apps import apps

        migration.create(apps, None)


@pytest.fixture
def tv(db):
    return Product.objects.create(name="海信电视", sku="HX-TV55", list_price=Decimal("3999.00"))


def buy(actor, finance, customer, product, amount, receipt=None):
    """A retail order for `amount` paid in full by finance: returns (order, payment)."""
    order = sales.order_create(
        actor=actor,
        customer_id=customer.pk,
        items=[{"product_id": product.pk, "unit_price": str(amount)}],
        ship_method="pickup",
        receiver_name=customer.name,
        payer=customer.name,
    )
    payment = sales.payment_record(
        actor=finance,
        order_id=order.pk,
        amount=str(amount),
        method="wechat",
        receipt_number=receipt or f"L{next(_receipts):06d}",
    )
    return order, payment
