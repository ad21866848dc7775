"""Retail orders: what, who ships and how, who receives, who pays; serial-numbered items are
sold once; shipping and delivery are tracked; paying in full counts as a purchase once."""

from decimal import Decimal

import pytest

from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.sales import services
from guanxi.sales.models import InventoryUnit, Order, UnitEvent

from .conftest import make_units

D = Decimal


def new_order(actor, customer, items, **kwargs):
    return services.order_create(
        actor=actor,
        customer_id=customer.pk,
        items=items,
        ship_method=kwargs.pop("ship_method", "courier"),
        receiver_name=kwargs.pop("receiver_name", "张三"),
        payer=kwargs.pop("payer", "张三"),
        address=kwargs.pop("address", "北京市朝阳区建国路 1 号"),
        **kwargs,
    )


@pytest.fixture
def phones(phone_product):
    return make_units(phone_product, 3)


def test_an_order_sells_its_serial_numbers_and_totals_exactly(
    owner, customer, phones, service_product
):
    order = new_order(
        owner,
        customer,
        [
            {"product_id": phones[0].product_id, "unit_id": phones[0].pk, "unit_price": "5899.90"},
            {"product_id": service_product.pk, "quantity": 3, "unit_price": "0.10"},
        ],
    )
    assert order.number.startswith("SO") and order.status == "new"
    assert order.total == D("5900.20")
    unit = InventoryUnit.objects.get(pk=phones[0].pk)
    assert unit.status == "sold"
    assert UnitEvent.objects.get(unit=unit).note == order.number


def test_a_serial_number_is_sold_once(owner, customer, phones):
    item = {"product_id": phones[0].product_id, "unit_id": phones[0].pk}
    new_order(owner, customer, [item])
    with pytest.raises(Conflict) as caught:
        new_order(owner, customer, [item])
    assert caught.value.code == "unit_not_available"
    assert Order.objects.count() == 1
    assert UnitEvent.objects.filter(unit=phones[0]).count() == 1


def test_order_numbers_follow_each_other(owner, customer, service_product):
    first = new_order(owner, customer, [{"product_id": service_product.pk}])
    second = new_order(owner, customer, [{"product_id": service_product.pk}])
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_an_order_needs_items_a_receiver_and_a_payer(owner, customer, service_product):
    with pytest.raises(ValidationFailed):
        new_order(owner, customer, [])
    with pytest.raises(ValidationFailed):
        new_order(owner, customer, [{"product_id": service_product.pk}], payer=" ")
    with pytest.raises(ValidationFailed) as caught:
        new_order(owner, customer, [{"product_id": service_product.pk}], ship_method="drone")
    assert caught.value.code == "invalid_choice"


def test_ship_then_deliver(owner, customer, service_product):
    order = new_order(owner, customer, [{"product_id": service_product.pk}])
    shipped = services.order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking="SF123")
    assert (shipped.status, shipped.shipper_id, shipped.tracking) == ("shipped", owner.pk, "SF123")
    with pytest.raises(Conflict):
        services.order_ship(actor=owner, order_id=order.pk)
    with pytest.raises(ValidationFailed):
        services.order_deliver(actor=owner, order_id=order.pk, received_by=" ")
    delivered = services.order_deliver(actor=owner, order_id=order.pk, received_by="张三本人")
    assert (delivered.status, delivered.received_by) == ("delivered", "张三本人")
    assert delivered.delivered_at is not None
    with pytest.raises(Conflict):
        services.order_deliver(actor=owner, order_id=order.pk, received_by="张三")


def test_paying_an_order_in_full_counts_once(owner, finance, customer, service_product):
    order = new_order(owner, customer, [{"product_id": service_product.pk, "quantity": 2}])
    assert order.total == D("798.00")
    kwargs = {"actor": finance, "order_id": order.pk, "method": "wechat"}
    services.payment_record(amount="400.00", receipt_number="O-1", **kwargs)
    assert Customer.objects.get(pk=customer.pk).order_count == 0
    services.payment_record(amount="398.00", receipt_number="O-2", **kwargs)
    customer.refresh_from_db()
    assert (customer.order_count, customer.revenue) == (1, D("798.00"))
    assert customer.last_purchase_at is not None
    with pytest.raises(ValidationFailed) as caught:
        services.payment_record(amount="0.01", receipt_number="O-3", **kwargs)
    assert caught.value.code == "over_total"
    assert Customer.objects.get(pk=customer.pk).order_count == 1


def test_only_finance_takes_money_for_an_order(owner, customer, service_product):
    from guanxi.core.errors import Forbidden

    order = new_order(owner, customer, [{"product_id": service_product.pk}])
    with pytest.raises(Forbidden):
        services.payment_record(
            actor=owner, order_id=order.pk, amount="399.00", method="cash", receipt_number="O-9"
        )


def test_an_outsider_cannot_order_for_the_customer(outsider, customer, service_product):
    from guanxi.core.errors import NotFound

    with pytest.raises(NotFound):
        new_order(outsider, customer, [{"product_id": service_product.pk}])
