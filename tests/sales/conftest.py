"""Sales fixtures on top of the shared ones: a block of flats, deals at any stage, and the
money and documents that move a deal along, all through the services as the UI does."""

import importlib
from decimal import Decimal

import pytest

from guanxi.sales import services
from guanxi.sales.models import InventoryUnit, PipelineStage, Product
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

FLAT_PRICE = Decimal("2000000.00")


@pytest.fixture(autouse=True)
def _pipeline(db):
    """The default pipeline is migration data; a transactional test elsewhere flushes it."""
    if not PipelineStage.objects.exists():
        migration = importlib.import_module("guanxi.sales.migrations.0002_default_pipeline")
        for position, (code, zh, en, probability) in enumerate(migration.STAGES):
            PipelineStage.objects.create(
                code=code, name_zh=zh, name_en=en, position=position, probability=probability
            )


@pytest.fixture
def flat(db):
    """A product sold as individual flats (房源)."""
    return Product.objects.create(
        name="锦绣华庭 三居室", sku="JXHT-3R", list_price=FLAT_PRICE, has_units=True
    )


@pytest.fixture
def phone_product(db):
    """A retail product sold by serial number."""
    return Product.objects.create(
        name="华为 Mate 手机", sku="HW-MATE", list_price=Decimal("5999.00"), has_units=True
    )


@pytest.fixture
def service_product(db):
    """Something sold without units: the amount is whatever the deal says."""
    return Product.objects.create(name="延保服务", sku="EXT-2Y", list_price=Decimal("399.00"))


def make_units(product, count: int, *, status="available", price=None, building="1", first=1):
    """`count` units on floors first.., four to a floor, already released (or `status`)."""
    units = []
    for n in range(first, first + count):
        floor, number = (n - 1) // 4 + 1, (n - 1) % 4 + 1
        units.append(
            InventoryUnit(
                product=product,
                code=f"{product.sku}-{building}-{floor:02d}{number:02d}",
                building=building,
                floor=floor,
                number=f"{floor:02d}{number:02d}",
                area=Decimal("118.50"),
                list_price=price if price is not None else product.list_price,
                status=status,
            )
        )
    return InventoryUnit.objects.bulk_create(units)


@pytest.fixture
def units(flat):
    """Eight flats for sale at the list price."""
    return make_units(flat, 8)


def open_deal(actor, customer, product=None, title="三居室", amount="0"):
    return services.deal_create(
        actor=actor,
        customer_id=customer.pk,
        title=title,
        amount=amount,
        product_id=product.pk if product else None,
    )


@pytest.fixture
def deal(owner, customer, flat):
    """张三's deal for a flat, at the lead stage, owned by sales1."""
    return open_deal(owner, customer, flat)


def deposit(actor, deal, unit=None, amount="50000", kind="small_deposit", **kwargs):
    return services.deal_take_deposit(
        actor=actor,
        deal_id=deal.pk,
        kind=kind,
        amount=amount,
        unit_id=unit.pk if unit else None,
        **kwargs,
    )


def to_subscription(actor, deal, unit=None, amount="50000"):
    """Small deposit on `unit`, then the 认购书: returns the agreement."""
    deposit(actor, deal, unit, amount)
    return services.agreement_issue(actor=actor, deal_id=deal.pk)


def to_contract(actor, deal, unit=None, amount="50000"):
    to_subscription(actor, deal, unit, amount)
    return services.deal_move(actor=actor, deal_id=deal.pk, to_stage="contract")


_receipts = iter(range(1, 10**6))


def pay(actor, deal, amount, instalment=None, receipt=None, method="bank"):
    return services.payment_record(
        actor=actor,
        deal_id=deal.pk,
        amount=amount,
        method=method,
        receipt_number=receipt or f"R{next(_receipts):06d}",
        instalment_id=instalment.pk if instalment else None,
    )
