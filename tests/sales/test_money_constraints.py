"""Money the database itself refuses to hold wrong (C4): whatever code writes a deal's
amount, an instalment or a payment, a negative price or an empty payment never lands."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from guanxi.sales.models import Deal, Instalment, Payment, Product

from .conftest import open_deal, pay, to_contract


def _refused(queryset, **values) -> bool:
    try:
        with transaction.atomic():
            queryset.update(**values)
    except IntegrityError:
        return True
    return False


def test_a_deal_amount_is_never_negative(deal):
    assert _refused(Deal.objects.filter(pk=deal.pk), amount=Decimal("-0.01"))
    assert not _refused(Deal.objects.filter(pk=deal.pk), amount=Decimal("0.00"))


def test_a_product_price_is_never_negative(deal):
    assert _refused(Product.objects.filter(pk=deal.product_id), list_price=Decimal("-1"))


@pytest.fixture
def signed(owner, finance, customer, service_product):
    """A signed deal: its small deposit is an instalment, paid once."""
    deal = open_deal(owner, customer, service_product, amount="0.30")
    to_contract(owner, deal, amount="0.10")
    pay(finance, deal, "0.10", instalment=Instalment.objects.filter(deal=deal).first())
    return deal


def test_an_instalment_is_more_than_nothing_and_its_paid_part_not_negative(signed):
    instalment = Instalment.objects.filter(deal=signed)
    assert _refused(instalment, amount=Decimal("0"))
    assert _refused(instalment, paid_amount=Decimal("-0.01"))


def test_a_payment_of_nothing_is_refused(signed):
    payment = Payment.objects.filter(deal=signed).first()
    assert payment is not None
    assert _refused(Payment.objects.filter(pk=payment.pk), amount=Decimal("0"))
    assert not _refused(Payment.objects.filter(pk=payment.pk), amount=Decimal("-5.00"))
