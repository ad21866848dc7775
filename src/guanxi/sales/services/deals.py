"""Deals through the pipeline: creation, stage moves and the deposit that reserves a unit."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, Forbidden, ValidationFailed
from guanxi.core.models import User
from guanxi.core.visibility import can_edit
from guanxi.customers.models import Customer
from guanxi.customers.ownership import Reason, ownership_change
from guanxi.customers.selectors import customer_get

from ..models import (
    DEPOSIT_STAGES,
    STAGE_ORDER,
    Deal,
    Instalment,
    InventoryUnit,
    PipelineStage,
    Product,
)
from ..permissions import (
    can_open_deals,
    can_work_deal,
)
from .base import (
    Stage,
    Unit,
    deal_for_update,
    money,
    record_event,
    set_stage,
    unit_claim,
    unit_move,
)
from .payments import complete_if_paid
from .quotes import standing_price


def deal_create(
    *,
    actor: User,
    customer_id: int,
    title: str,
    amount="0",
    product_id=None,
    expected_close: date | None = None,
) -> Deal:
    if not can_open_deals(actor):
        raise Forbidden(_("Only salespeople and managers open deals."))
    if not title.strip():
        raise ValidationFailed.single("title", "required", _("Give the deal a title."))
    if len(title) > 120:
        raise ValidationFailed.single("title", "max_length", _("At most 120 characters."))
    amount = money(amount, allow_zero=True)
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        if customer.archived_at:
            raise Conflict(_("This customer is archived."), code="archived")
        if not can_edit(actor, customer):
            raise Forbidden(_("Only the customer's owner or a manager opens a deal."))
        product = Product.objects.filter(pk=product_id, active=True).first() if product_id else None
        if product_id and product is None:
            raise ValidationFailed.single("product_id", "not_found", _("No such product."))
        deal = Deal.objects.create(
            customer=customer,
            owner=customer.owner or actor,
            title=title.strip(),
            amount=amount,
            product=product,
            expected_close=expected_close,
            buyer_name=customer.name,
        )
        record_event(deal, "created", actor, to_stage=deal.stage)
        audit_record(actor=actor, verb="deal.create", target=deal)
    return deal


# Stages entered only through their own service (which checks money, units, documents).
GUARDED: dict[str, str] = {
    Stage.SMALL_DEPOSIT: "deposit_required",
    Stage.LARGE_DEPOSIT: "deposit_required",
    Stage.SUBSCRIPTION: "agreement_required",
    Stage.PAID: "payment_required",
}


def deal_move(*, actor: User, deal_id: int, to_stage: str, lost_reason: str = "") -> Deal:
    """Drag on the kanban. The stage rules:

    - early stages (lead, needs confirmed, quoted) move freely among themselves;
    - deposit stages are reached by taking a deposit, subscription by issuing the 认购书,
      paid by finance recording the last instalment;
    - contract (签约) only from subscription; delivered only once paid;
    - lost needs a reason; a deal holding a deposit is refunded, not dropped;
    - closed deals (paid, delivered, lost) do not move, except paid → delivered.
    """
    if to_stage not in STAGE_ORDER:
        raise ValidationFailed.single("stage", "invalid_choice", _("Unknown stage."))
    if not PipelineStage.objects.filter(code=to_stage, active=True).exists():
        raise ValidationFailed.single("stage", "inactive", _("This stage is not used."))
    with transaction.atomic():
        deal = deal_for_update(actor, deal_id)
        if not can_work_deal(actor, deal):
            raise Forbidden(_("Only the deal's owner or a manager moves it."))
        current = deal.stage
        if to_stage == current:
            return deal
        if current in (Stage.DELIVERED, Stage.LOST) or (
            current == Stage.PAID and to_stage != Stage.DELIVERED
        ):
            raise Conflict(_("This deal is closed."), code="deal_closed")
        if to_stage in GUARDED:
            message = {
                "deposit_required": _("Take the deposit to move the deal there."),
                "agreement_required": _("Issue the subscription agreement (认购书) first."),
                "payment_required": _("A deal is paid when finance records the last payment."),
            }[GUARDED[to_stage]]
            raise Conflict(message, code=GUARDED[to_stage])
        if to_stage == Stage.CONTRACT and current != Stage.SUBSCRIPTION:
            raise Conflict(
                _("A deal reaches 签约 only from a subscription (认购)."),
                code="subscription_required",
            )
        if to_stage == Stage.DELIVERED and current != Stage.PAID:
            raise Conflict(_("Only a paid deal is delivered."), code="payment_required")
        if to_stage == Stage.LOST:
            if not lost_reason.strip():
                raise ValidationFailed.single("lost_reason", "required", _("Say why it was lost."))
            if current in (*DEPOSIT_STAGES, Stage.SUBSCRIPTION, Stage.CONTRACT):
                raise Conflict(
                    _("This deal holds a deposit: request a refund (退房) instead."),
                    code="refund_required",
                )
            deal.lost_reason = lost_reason.strip()[:300]
        elif STAGE_ORDER.index(to_stage) < STAGE_ORDER.index(current) and current not in (
            Stage.LEAD,
            Stage.NEEDS,
            Stage.QUOTED,
        ):
            raise Conflict(_("A deal past the deposit does not move back."), code="backwards")
        set_stage(deal, to_stage, actor)
        if to_stage == Stage.CONTRACT:
            if deal.unit_id:
                unit_move(deal.unit, Unit.SIGNED, deal=deal, actor=actor)
            # A deal closes the ownership question (SPEC C3).
            customer = Customer.objects.select_for_update().get(pk=deal.customer_id)
            if customer.ownership_settled_at is None:
                ownership_change(
                    customer=customer,
                    reason=Reason.DEAL_SETTLEMENT,
                    actor=actor,
                    settle=True,
                    note=deal.title,
                )
            complete_if_paid(deal, actor)
    return deal


def deal_take_deposit(
    *,
    actor: User,
    deal_id: int,
    kind: str,
    amount,
    unit_id: int | None = None,
    due_date: date | None = None,
) -> Deal:
    """小定 / 大定: check and reserve the unit in the same transaction, and put the deposit on
    the payment schedule for finance to receive (salespeople never collect money)."""
    if kind not in DEPOSIT_STAGES:
        raise ValidationFailed.single("kind", "invalid_choice", _("Small or large deposit?"))
    amount = money(amount)
    with transaction.atomic():
        deal = deal_for_update(actor, deal_id)
        if not can_work_deal(actor, deal):
            raise Forbidden(_("Only the deal's owner or a manager takes a deposit."))
        if deal.is_closed or STAGE_ORDER.index(deal.stage) > STAGE_ORDER.index(kind):
            raise Conflict(_("The deal is past this stage."), code="wrong_stage")
        unit_id = unit_id or deal.unit_id
        if unit_id:
            if deal.unit_id and deal.unit_id != unit_id:
                raise Conflict(
                    _("The deal already holds another unit; use a unit change."), code="has_unit"
                )
            if deal.unit_id != unit_id:
                if (
                    deal.product_id
                    and InventoryUnit.objects.filter(pk=unit_id)
                    .exclude(product_id=deal.product_id)
                    .exists()
                ):
                    raise ValidationFailed.single(
                        "unit_id", "wrong_product", _("This unit is not of the deal's product.")
                    )
                unit = unit_claim(
                    unit_id=unit_id, to=Unit.RESERVED, deal=deal, actor=actor, field="unit_id"
                )
                deal.unit = unit
                deal.product_id = deal.product_id or unit.product_id
                if deal.amount == 0:
                    # The approved quote's price, else the unit's list price.
                    deal.amount = standing_price(deal) or unit.list_price
        elif deal.product and deal.product.has_units:
            raise ValidationFailed.single("unit_id", "required", _("Choose the unit."))
        if deal.stage == kind:
            # The deposit stages are reached only by taking that deposit, so this one is a
            # repeat (double click, retry): the deal row lock makes the second request wait
            # and see it, so it never becomes a second instalment.
            raise Conflict(_("This deposit is already taken."), code="deposit_taken")
        Instalment.objects.create(
            deal=deal,
            label=_("Small deposit (小定)")
            if kind == Stage.SMALL_DEPOSIT
            else _("Large deposit (大定)"),
            due_date=due_date or timezone.localdate(),
            amount=amount,
        )
        set_stage(deal, kind, actor, {"deposit": str(amount), "unit": deal.unit_id})
    return deal
