"""Money received (finance only): deposits, instalments and order payments."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import User
from guanxi.core.webhooks import webhook_emit
from guanxi.customers.models import Customer
from guanxi.customers.services import purchase_record

from ..models import (
    Deal,
    Instalment,
    Order,
    Payment,
)
from ..permissions import (
    is_finance,
)
from .base import Stage, Unit, money, money_sum, record_event, set_stage, unit_move
from .commission import commission_settle


def _refuse_own_money(actor: User, seller_id: int | None) -> None:
    # Separation of duties (C4/C8): the person who sold never books the money for it, even
    # when they hold the finance role as well.
    if seller_id == actor.pk:
        raise Forbidden(
            _("You cannot record money for your own sale; ask another finance colleague."),
            code="own_sale",
        )


def _require_finance(actor: User) -> None:
    if not is_finance(actor):
        raise Forbidden(_("Only finance records money received."), code="finance_only")


def payment_record(
    *,
    actor: User,
    amount,
    method: str,
    receipt_number: str,
    deal_id: int | None = None,
    order_id: int | None = None,
    instalment_id: int | None = None,
    received_at=None,
    note: str = "",
) -> Payment:
    """Finance records money received, against a deal's instalment or a retail order.
    `note` (the comment given on the web page's confirmation) goes on the audit entry."""
    _require_finance(actor)
    amount = money(amount)
    if method not in Payment.Method.values:
        raise ValidationFailed.single("method", "invalid_choice", _("Unknown payment method."))
    receipt_number = receipt_number.strip()
    if not receipt_number:
        raise ValidationFailed.single("receipt_number", "required", _("Enter the receipt number."))
    if (deal_id is None) == (order_id is None):
        raise ValidationFailed.single("deal_id", "required", _("Pay a deal or an order."))
    duplicate = Conflict(
        _("This receipt number is already recorded."),
        code="duplicate_receipt",
        field="receipt_number",
    )
    try:
        with transaction.atomic():
            if Payment.objects.filter(receipt_number=receipt_number).exists():
                raise duplicate
            if deal_id is not None:
                payment = _pay_deal(
                    actor, deal_id, instalment_id, amount, method, receipt_number, received_at
                )
            else:
                payment = _pay_order(actor, order_id, amount, method, receipt_number, received_at)
            audit_record(
                actor=actor,
                verb="payment.record",
                target=payment,
                changes={"amount": [None, str(amount)], "receipt": [None, receipt_number]},
                note=note[:500],
            )
            webhook_emit(
                "payment.recorded",
                {
                    "id": payment.pk,
                    "deal_id": payment.deal_id,
                    "order_id": payment.order_id,
                    "customer_id": payment.customer_id,
                    "amount": str(payment.amount),
                    "method": payment.method,
                    "received_at": payment.received_at.isoformat(),
                },
            )
    except IntegrityError:
        # Two desks entering one receipt at the same instant: the unique index decides.
        if Payment.objects.filter(receipt_number=receipt_number).exists():
            raise duplicate from None
        raise
    return payment


def _pay_deal(actor, deal_id, instalment_id, amount, method, receipt_number, received_at):
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("customer", "unit")
        .filter(pk=deal_id)
        .first()
    )
    if deal is None or not Deal.objects.visible_to(actor).filter(pk=deal_id).exists():
        raise NotFound(_("Deal not found."))
    _refuse_own_money(actor, deal.owner_id)
    if deal.stage == Stage.LOST:
        raise Conflict(_("This deal is lost."), code="deal_closed")
    due = deal.instalments.select_for_update().filter(status=Instalment.Status.DUE)
    instalment = (
        due.filter(pk=instalment_id).first()
        if instalment_id
        else due.order_by("due_date", "id").first()
    )
    if instalment_id and instalment is None:
        raise ValidationFailed.single("instalment_id", "not_due", _("No such unpaid instalment."))
    if instalment and amount > instalment.outstanding:
        raise ValidationFailed.single(
            "amount",
            "over_instalment",
            _("More than is due on this instalment (%s).") % instalment.outstanding,
        )
    if instalment is None and deal.amount > 0:
        outstanding = deal.amount - money_sum(deal.payments)
        if amount > outstanding:
            raise ValidationFailed.single(
                "amount",
                "over_amount",
                _("More than is still due on this deal (%s).") % max(outstanding, Decimal(0)),
            )
    payment = Payment.objects.create(
        deal=deal,
        instalment=instalment,
        customer=deal.customer,
        amount=amount,
        method=method,
        receipt_number=receipt_number,
        received_at=received_at or timezone.now(),
        recorded_by=actor,
    )
    if instalment:
        instalment.paid_amount += amount
        if instalment.paid_amount >= instalment.amount:
            instalment.status = Instalment.Status.PAID
        instalment.save(update_fields=["paid_amount", "status"])
    record_event(deal, "payment", actor, {"amount": str(amount), "receipt": receipt_number})
    complete_if_paid(deal, actor)
    if (
        deal.in_default
        and not deal.instalments.filter(
            status=Instalment.Status.DUE, due_date__lt=timezone.localdate()
        ).exists()
    ):
        Deal.objects.filter(pk=deal.pk).update(in_default=False)
    return payment


def complete_if_paid(deal: Deal, actor) -> bool:
    """A signed deal whose money is all in becomes paid: the unit is sold, the customer's
    running figures and the commission ledger follow, in the same transaction. Reached by
    the last payment, or by signing when everything was paid before the contract."""
    if deal.stage != Stage.CONTRACT or deal.amount <= 0:
        return False
    if (
        money_sum(deal.payments) < deal.amount
        or deal.instalments.filter(status=Instalment.Status.DUE).exists()
    ):
        return False
    if deal.unit_id:
        unit_move(deal.unit, Unit.SOLD, deal=deal, actor=actor)
    set_stage(deal, Stage.PAID, actor)
    purchase_record(customer_id=deal.customer_id, amount=deal.amount)
    commission_settle(deal)
    return True


def _pay_order(actor, order_id, amount, method, receipt_number, received_at):
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if (
        order is None
        or not Customer.objects.visible_to(actor).filter(pk=order.customer_id).exists()
    ):
        raise NotFound(_("Order not found."))
    _refuse_own_money(actor, order.created_by_id)
    if order.status == Order.Status.CANCELLED:
        raise Conflict(_("This order is cancelled."), code="order_cancelled")
    if order.paid + amount > order.total:
        raise ValidationFailed.single("amount", "over_total", _("More than the order total."))
    payment = Payment.objects.create(
        order=order,
        customer_id=order.customer_id,
        amount=amount,
        method=method,
        receipt_number=receipt_number,
        received_at=received_at or timezone.now(),
        recorded_by=actor,
    )
    was_paid = order.paid >= order.total
    order.paid += amount
    order.save(update_fields=["paid"])
    if not was_paid and order.paid >= order.total:
        purchase_record(customer_id=order.customer_id, amount=order.total)
    return payment
