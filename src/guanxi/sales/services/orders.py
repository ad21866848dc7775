"""Retail orders: creation, shipping and delivery."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.core.models import User
from guanxi.core.webhooks import webhook_emit
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

from ..models import (
    Order,
    OrderItem,
    Product,
)
from .base import Unit, money, next_number, record_id, unit_claim


def order_create(
    *,
    actor: User,
    customer_id: int,
    items: list[dict],
    ship_method: str,
    receiver_name: str,
    payer: str,
    receiver_phone: str = "",
    address: str = "",
    shipper_id: int | None = None,
) -> Order:
    if ship_method not in Order.ShipMethod.values:
        raise ValidationFailed.single("ship_method", "invalid_choice", _("How is it delivered?"))
    if not items:
        raise ValidationFailed.single("items", "required", _("Add at least one item."))
    if not receiver_name.strip() or not payer.strip():
        raise ValidationFailed.single(
            "receiver_name", "required", _("Say who receives and who pays.")
        )
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        order = Order.objects.create(
            customer=customer,
            number=next_number("SO"),
            created_by=actor,
            ship_method=ship_method,
            receiver_name=receiver_name.strip()[:100],
            receiver_phone=receiver_phone[:20],
            address=address[:200],
            payer=payer.strip()[:100],
            shipper_id=shipper_id,
        )
        total = Decimal("0.00")
        for index, item in enumerate(items):
            product = Product.objects.filter(
                pk=record_id(item.get("product_id")), active=True
            ).first()
            if product is None:
                raise ValidationFailed.single(
                    f"items.{index}.product_id", "not_found", _("No such product.")
                )
            quantity = int(item.get("quantity", 1))
            if quantity < 1:
                raise ValidationFailed.single(
                    f"items.{index}.quantity", "not_positive", _("At least one.")
                )
            price = money(item.get("unit_price", product.list_price), f"items.{index}.unit_price")
            unit = None
            if item.get("unit_id"):
                unit = unit_claim(
                    unit_id=item["unit_id"],
                    to=Unit.SOLD,
                    deal=None,
                    actor=actor,
                    product=product,
                    note=order.number,
                    message=_("This item is not available."),
                )
            OrderItem.objects.create(
                order=order, product=product, unit=unit, quantity=quantity, unit_price=price
            )
            total += price * quantity
        order.total = total
        order.save(update_fields=["total"])
        audit_record(
            actor=actor, verb="order.create", target=order, changes={"total": [None, str(total)]}
        )
        webhook_emit(
            "order.created",
            {
                "id": order.pk,
                "number": order.number,
                "customer_id": order.customer_id,
                "total": str(total),
                "created_at": order.created_at.isoformat(),
            },
        )
    return order


def order_ship(*, actor: User, order_id: int, carrier: str = "", tracking: str = "") -> Order:
    with transaction.atomic():
        order = _order_for_update(actor, order_id)
        if order.status != Order.Status.NEW:
            raise Conflict(_("Only a new order ships."), code="wrong_status")
        order.status, order.shipped_at = Order.Status.SHIPPED, timezone.now()
        order.carrier, order.tracking = carrier[:50], tracking[:60]
        order.shipper = order.shipper or actor
        order.save()
        audit_record(actor=actor, verb="order.ship", target=order)
    return order


def order_deliver(*, actor: User, order_id: int, received_by: str) -> Order:
    """Delivered and signed for: counts for the cadence rule "per 3 deliveries"."""
    if not received_by.strip():
        raise ValidationFailed.single("received_by", "required", _("Who signed for it?"))
    with transaction.atomic():
        order = _order_for_update(actor, order_id)
        if order.status not in (Order.Status.NEW, Order.Status.SHIPPED):
            raise Conflict(_("This order cannot be delivered now."), code="wrong_status")
        order.status, order.delivered_at = Order.Status.DELIVERED, timezone.now()
        order.received_by = received_by.strip()[:100]
        order.save()
        audit_record(actor=actor, verb="order.deliver", target=order)
    return order


def _order_for_update(actor: User, order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if (
        order is None
        or not Customer.objects.visible_to(actor).filter(pk=order.customer_id).exists()
    ):
        raise NotFound(_("Order not found."))
    return order
