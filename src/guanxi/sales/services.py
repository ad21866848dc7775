"""Every change in the sales process: permission, one transaction, history and audit.

No unit is ever sold twice: a unit changes hands only through a conditional UPDATE
(`… WHERE status = 'available'`), which exactly one of any number of racing requests wins.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import Role, User
from guanxi.core.validation import check_money
from guanxi.core.visibility import can_edit, manages
from guanxi.core.webhooks import webhook_emit
from guanxi.customers.models import Customer
from guanxi.customers.ownership import Reason, ownership_change
from guanxi.customers.selectors import customer_get
from guanxi.customers.services import follow_up_due_now, purchase_record
from guanxi.notifications.services import Notice, notify_many
from guanxi.reception.selectors import current_credit_split

from .models import (
    DEPOSIT_STAGES,
    STAGE_ORDER,
    Agreement,
    ChangeRequest,
    CommissionEntry,
    Deal,
    DealEvent,
    Instalment,
    InventoryUnit,
    NumberSequence,
    Order,
    OrderItem,
    Payment,
    PipelineStage,
    Product,
    Quote,
    SalesSettings,
    UnitEvent,
)
from .permissions import (
    approves_own_discounts,
    can_open_deals,
    can_set_schedule,
    can_work_deal,
    hears_of_overdue,
    is_finance,
    manages_sales,
)

CENT = Decimal("0.01")
Stage = PipelineStage.Code
Unit = InventoryUnit.Status


def money(value, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """Exact CNY with two places; floats are refused (they are never exact), and so are more
    than two decimal places (core.validation: refused, never rounded)."""
    if isinstance(value, float):
        raise ValidationFailed.single(field, "inexact", _("Send amounts as strings or decimals."))
    try:
        amount = check_money(Decimal(str(value)), field=field).quantize(CENT)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed.single(field, "invalid", _("Enter an amount in yuan.")) from exc
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed.single(field, "not_positive", _("The amount must be positive."))
    if amount >= Decimal("1e12"):
        raise ValidationFailed.single(field, "too_large", _("The amount is too large."))
    return amount


def money_sum(queryset, field: str = "amount") -> Decimal:
    """SUM of a money column, to the cent: SQLite adds decimals as floats and hands back
    e.g. 300.300000000000, so the sum is rounded back to the cent it must be."""
    value = queryset.aggregate(s=Sum(field))["s"]
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def next_number(prefix: str) -> str:
    """RG2026-000001: taken under a row lock, so numbers never repeat or skip."""
    year = timezone.localdate().year
    NumberSequence.objects.get_or_create(prefix=prefix, year=year)
    sequence = NumberSequence.objects.select_for_update().get(prefix=prefix, year=year)
    sequence.last = F("last") + 1
    sequence.save(update_fields=["last"])
    sequence.refresh_from_db()
    return f"{prefix}{year}-{sequence.last:06d}"


def _event(deal: Deal, kind: str, actor, data=None, from_stage="", to_stage="") -> None:
    DealEvent.objects.create(
        deal=deal, kind=kind, actor=actor, data=data or {}, from_stage=from_stage, to_stage=to_stage
    )


def _unit_move(unit: InventoryUnit, to: str, *, deal, actor, note: str = "") -> None:
    UnitEvent.objects.create(
        unit=unit, from_status=unit.status, to_status=to, deal=deal, actor=actor, note=note
    )
    unit.status = to
    unit.deal = deal if to not in (Unit.AVAILABLE, Unit.HELD) else None
    unit.updated_at = timezone.now()
    unit.save(update_fields=["status", "deal", "updated_at"])


def _require_manager(actor: User) -> None:
    if not manages_sales(actor):
        raise Forbidden(_("A manager must do this."))


# ---- products and units ---------------------------------------------------------------------


def product_create(
    *, actor: User, name: str, sku: str, list_price, category: str = "", has_units: bool = False
) -> Product:
    _require_manager(actor)
    if not name.strip() or not sku.strip():
        raise ValidationFailed.single("name", "required", _("Name and code are required."))
    with transaction.atomic():
        if Product.objects.filter(sku=sku.strip()).exists():
            raise ValidationFailed.single("sku", "duplicate", _("This code is taken."))
        product = Product.objects.create(
            name=name.strip()[:100],
            sku=sku.strip()[:40],
            category=category[:50],
            has_units=has_units,
            list_price=money(list_price, "list_price"),
        )
        audit_record(actor=actor, verb="product.create", target=product)
    return product


def units_create(*, actor: User, product_id: int, units: list[dict]) -> list[InventoryUnit]:
    """Add flats or serial-numbered items; they start held back until a manager releases."""
    _require_manager(actor)
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("Product not found."))
    rows = []
    for index, data in enumerate(units):
        code = str(data.get("code", "")).strip()
        if not code:
            raise ValidationFailed.single(
                f"units.{index}.code", "required", _("Each unit needs a code.")
            )
        rows.append(
            InventoryUnit(
                product=product,
                code=code[:40],
                building=str(data.get("building", ""))[:20],
                floor=data.get("floor"),
                number=str(data.get("number", ""))[:20],
                area=data.get("area"),
                list_price=money(
                    data.get("list_price", product.list_price), f"units.{index}.list_price"
                ),
            )
        )
    with transaction.atomic():
        try:
            created = InventoryUnit.objects.bulk_create(rows)
        except IntegrityError as exc:
            raise ValidationFailed.single("units", "duplicate", _("A unit code is taken.")) from exc
        audit_record(
            actor=actor,
            verb="units.create",
            target=product,
            changes={"units": [None, len(created)]},
        )
    return created


def unit_set_release(*, actor: User, unit_id: int, release: bool) -> InventoryUnit:
    """预销控: only a manager releases a held unit for sale, or holds an available one back."""
    _require_manager(actor)
    source, target = (Unit.HELD, Unit.AVAILABLE) if release else (Unit.AVAILABLE, Unit.HELD)
    with transaction.atomic():
        unit = InventoryUnit.objects.select_for_update().filter(pk=unit_id).first()
        if unit is None:
            raise NotFound(_("Unit not found."))
        if unit.status != source:
            raise Conflict(_("The unit is %s.") % unit.get_status_display(), code="wrong_status")
        _unit_move(unit, target, deal=None, actor=actor, note="release" if release else "hold back")
    return unit


# ---- deals ----------------------------------------------------------------------------------


def _deal_for_update(actor: User, deal_id: int) -> Deal:
    # Lock the deal row only: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join select_related adds for the unit.
    deal = (
        Deal.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("customer", "unit", "owner")
        .filter(pk=deal_id)
        .first()
    )
    if deal is None:
        raise NotFound(_("Deal not found."))
    return deal


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
        _event(deal, "created", actor, to_stage=deal.stage)
        audit_record(actor=actor, verb="deal.create", target=deal)
    return deal


# Stages entered only through their own service (which checks money, units, documents).
GUARDED = {
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
        deal = _deal_for_update(actor, deal_id)
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
        _set_stage(deal, to_stage, actor)
        if to_stage == Stage.CONTRACT:
            if deal.unit_id:
                _unit_move(deal.unit, Unit.SIGNED, deal=deal, actor=actor)
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
            _complete_if_paid(deal, actor)
    return deal


def _set_stage(deal: Deal, to_stage: str, actor, data=None, note: str = "") -> None:
    before = deal.stage
    now = timezone.now()
    deal.stage, deal.stage_changed_at, deal.updated_at = to_stage, now, now
    if to_stage in (Stage.PAID, Stage.LOST):
        deal.closed_at = now
    deal.save()
    _event(deal, "stage", actor, data, from_stage=before, to_stage=to_stage)
    audit_record(
        actor=actor,
        verb="deal.stage",
        target=deal,
        changes={"stage": [before, to_stage]},
        note=note[:500],
    )
    webhook_emit(
        "deal.stage_changed",
        {
            "id": deal.pk,
            "customer_id": deal.customer_id,
            "owner_id": deal.owner_id,
            "from_stage": before,
            "to_stage": to_stage,
            "amount": str(deal.amount),
        },
    )


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
        deal = _deal_for_update(actor, deal_id)
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
                # The one statement that decides who gets the unit.
                won = InventoryUnit.objects.filter(pk=unit_id, status=Unit.AVAILABLE).update(
                    status=Unit.RESERVED, deal=deal, updated_at=timezone.now()
                )
                if not won:
                    raise Conflict(
                        _("This unit is not available."), code="unit_not_available", field="unit_id"
                    )
                unit = InventoryUnit.objects.get(pk=unit_id)
                UnitEvent.objects.create(
                    unit=unit,
                    from_status=Unit.AVAILABLE,
                    to_status=Unit.RESERVED,
                    deal=deal,
                    actor=actor,
                )
                deal.unit = unit
                deal.product_id = deal.product_id or unit.product_id
                if deal.amount == 0:
                    # The approved quote's price, else the unit's list price.
                    deal.amount = _standing_price(deal) or unit.list_price
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
        _set_stage(deal, kind, actor, {"deposit": str(amount), "unit": deal.unit_id})
    return deal


def _agreement_check(actor: User, deal: Deal) -> None:
    if not can_work_deal(actor, deal):
        raise Forbidden(_("Only the deal's owner or a manager issues the agreement."))
    if deal.agreements.filter(kind=Agreement.Kind.AGREEMENT).exists():
        raise Conflict(
            _("This deal already has its agreement; issue an amendment."), code="already_issued"
        )
    if deal.stage not in DEPOSIT_STAGES:
        raise Conflict(
            _("Take a deposit before issuing the subscription agreement."),
            code="deposit_required",
        )


def agreement_preview(*, actor: User, deal_id: int) -> dict:
    """What the 认购书 would say (buyer, unit, price, deposit, balance), with the same checks
    as issuing it, for the person to confirm first; nothing is written."""
    deal = (
        Deal.objects.visible_to(actor)
        .select_related("customer", "unit", "owner", "product")
        .filter(pk=deal_id)
        .first()
    )
    if deal is None:
        raise NotFound(_("Deal not found."))
    _agreement_check(actor, deal)
    deposits = money_sum(deal.instalments.exclude(status=Instalment.Status.CANCELLED))
    return _snapshot(deal, deposits)


def agreement_issue(*, actor: User, deal_id: int, note: str = "") -> Agreement:
    """认购书: numbered, snapshotted, four copies; the unit becomes subscribed. `note` (the
    person's comment on the confirmation) goes on the stage change's audit entry."""
    with transaction.atomic():
        deal = _deal_for_update(actor, deal_id)
        _agreement_check(actor, deal)
        deposits = money_sum(deal.instalments.exclude(status=Instalment.Status.CANCELLED))
        agreement = Agreement.objects.create(
            deal=deal,
            kind=Agreement.Kind.AGREEMENT,
            number=next_number("RG"),
            issued_by=actor,
            content=_snapshot(deal, deposits),
        )
        if deal.unit_id:
            _unit_move(deal.unit, Unit.SUBSCRIBED, deal=deal, actor=actor)
        _set_stage(deal, Stage.SUBSCRIPTION, actor, {"agreement": agreement.number}, note=note)
    return agreement


def _snapshot(deal: Deal, deposits: Decimal) -> dict:
    unit = deal.unit
    return {
        "buyer": deal.buyer_name or deal.customer.name,
        "customer_id": deal.customer_id,
        "product": str(deal.product or ""),
        "unit": unit.code if unit else "",
        "building": unit.building if unit else "",
        "floor": unit.floor if unit else None,
        "area": str(unit.area) if unit and unit.area is not None else "",
        "price": str(deal.amount),
        "deposit": str(deposits),
        "balance": str(deal.amount - deposits),
        "salesperson": str(deal.owner),
        "date": str(timezone.localdate()),
    }


# Terms of the 认购书 that only an approved change request changes (换名, 换房, 改价), and the
# figures that follow from them.
CHANGE_REQUEST_TERMS = frozenset(
    {"buyer", "unit", "building", "floor", "price", "deposit", "balance", "customer_id"}
    | {"salesperson", "transfer_fee"}
)


def agreement_amend(*, actor: User, agreement_id: int, changes: dict, reason: str) -> Agreement:
    """Changes never touch an issued agreement: each is a numbered amendment."""
    if not reason.strip():
        raise ValidationFailed.single("reason", "required", _("Say why it changes."))
    with transaction.atomic():
        original = Agreement.objects.filter(pk=agreement_id, kind=Agreement.Kind.AGREEMENT).first()
        if original is None:
            raise NotFound(_("Agreement not found."))
        try:
            # The deal's row lock also numbers concurrent amendments one after the other.
            deal = _deal_for_update(actor, original.deal_id)
        except NotFound as exc:
            raise NotFound(_("Agreement not found.")) from exc
        if not can_work_deal(actor, deal):
            raise Forbidden(_("Only the deal's owner or a manager amends the agreement."))
        guarded = sorted(set(changes) & CHANGE_REQUEST_TERMS)
        if guarded:
            # 换名, 换房 and 改价 need the manager's approval (issue 12): they are change
            # requests, which amend the agreement once approved, with the deal and schedule.
            raise Conflict(
                _(
                    "The buyer, the unit and the price change only through a change request "
                    "that a manager approves."
                ),
                code="change_request_required",
                field="changes",
            )
        count = original.amendments.count()
        content = {
            **original.content,
            **{k: str(v) for k, v in changes.items()},
            "reason": reason.strip()[:500],
            "amends": original.number,
        }
        amendment = Agreement.objects.create(
            deal=deal,
            kind=Agreement.Kind.AMENDMENT,
            parent=original,
            number=f"{original.number}-A{count + 1}",
            content=content,
            issued_by=actor,
        )
        _event(deal, "amendment", actor, {"number": amendment.number})
    return amendment


def schedule_set(*, actor: User, deal_id: int, instalments: list[dict]) -> list[Instalment]:
    """The payment plan after the deposits: replaces the unpaid, non-deposit instalments."""
    with transaction.atomic():
        deal = _deal_for_update(actor, deal_id)
        if not can_set_schedule(actor, deal):
            raise Forbidden(_("Only the owner, a manager or finance sets the schedule."))
        rows = []
        for index, item in enumerate(instalments):
            label = str(item.get("label", "")).strip()
            due = item.get("due_date")
            if not label or not isinstance(due, date):
                raise ValidationFailed.single(
                    f"instalments.{index}",
                    "required",
                    _("Each instalment needs a label and a due date."),
                )
            rows.append(
                Instalment(
                    deal=deal,
                    label=label[:60],
                    due_date=due,
                    amount=money(item.get("amount"), f"instalments.{index}.amount"),
                )
            )
        deal.instalments.filter(status=Instalment.Status.DUE, paid_amount=0).exclude(
            label__icontains="定"
        ).delete()
        created = Instalment.objects.bulk_create(rows)
        planned = money_sum(deal.instalments.exclude(status=Instalment.Status.CANCELLED))
        if deal.amount and planned > deal.amount:
            raise ValidationFailed.single(
                "instalments", "over_amount", _("The schedule exceeds the deal amount.")
            )
        _event(deal, "schedule", actor, {"instalments": len(rows)})
    return created


# ---- payments (finance only) ----------------------------------------------------------------


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
    _event(deal, "payment", actor, {"amount": str(amount), "receipt": receipt_number})
    _complete_if_paid(deal, actor)
    if (
        deal.in_default
        and not deal.instalments.filter(
            status=Instalment.Status.DUE, due_date__lt=timezone.localdate()
        ).exists()
    ):
        Deal.objects.filter(pk=deal.pk).update(in_default=False)
    return payment


def _complete_if_paid(deal: Deal, actor) -> bool:
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
        _unit_move(deal.unit, Unit.SOLD, deal=deal, actor=actor)
    _set_stage(deal, Stage.PAID, actor)
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


# ---- quotes --------------------------------------------------------------------------------


def quote_issue(
    *,
    actor: User,
    customer_id: int,
    product_id: int,
    price,
    deal_id=None,
    note: str = "",
    valid_until: date | None = None,
) -> Quote:
    """One authoritative price per customer and product. Another salesperson is shown the
    standing quote instead; the same salesperson's new quote supersedes the old one. A
    discount above the threshold waits for a manager."""
    price = money(price, "price")
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id, for_update=True)
        product = Product.objects.filter(pk=product_id, active=True).first()
        if product is None:
            raise ValidationFailed.single("product_id", "not_found", _("No such product."))
        if deal_id and not Deal.objects.filter(pk=deal_id, customer=customer).exists():
            raise ValidationFailed.single("deal_id", "not_found", _("No such deal."))
        live = (
            Quote.objects.select_for_update()
            .filter(
                customer=customer,
                product=product,
                status__in=[Quote.Status.PENDING, Quote.Status.ACTIVE],
            )
            .first()
        )
        if live and live.quoted_by_id != actor.pk and not manages(actor, customer):
            error = Conflict(
                _("%(who)s already quoted ¥%(price)s for this product; that price stands.")
                % {"who": live.quoted_by, "price": live.price},
                code="standing_quote",
                field="price",
            )
            error.standing = live
            raise error
        list_price = _list_price(product)
        exact_discount = (list_price - price) / list_price * 100 if list_price else Decimal(0)
        discount = exact_discount.quantize(CENT)
        threshold = SalesSettings.current().discount_approval_pct
        # The exact discount decides: 5.0000005 % is above 5 %, though it prints as 5.00.
        needs_approval = exact_discount > threshold and not approves_own_discounts(actor)
        if live:
            live.status = Quote.Status.SUPERSEDED
            live.decided_at = timezone.now()
            live.save(update_fields=["status", "decided_at"])
        quote = Quote.objects.create(
            customer=customer,
            product=product,
            deal_id=deal_id,
            list_price=list_price,
            price=price,
            discount_pct=max(discount, Decimal("0")),
            quoted_by=actor,
            note=note[:300],
            status=Quote.Status.PENDING if needs_approval else Quote.Status.ACTIVE,
            valid_until=valid_until,
        )
        if not needs_approval:
            _quote_moves_deal(quote, actor)
        audit_record(
            actor=actor,
            verb="quote.issue",
            target=customer,
            changes={
                "product": [None, product.sku],
                "price": [None, str(price)],
                "discount_pct": [None, str(discount)],
            },
        )
    return quote


def _quote_moves_deal(quote: Quote, actor: User) -> None:
    """A standing quote on a deal still at lead or needs-confirmed moves it to quoted, at
    the quoted price, with its history event like any other move. Later, until the 认购书 is
    issued, a standing (approved) quote still sets the deal's price: the agreement and the
    payment schedule print what was approved. After the agreement, the price changes only
    through an approved change request (改价)."""
    if not quote.deal_id:
        return
    deal = Deal.objects.select_for_update(of=("self",)).filter(pk=quote.deal_id).first()
    if deal is None:
        return
    if deal.stage in (Stage.LEAD, Stage.NEEDS):
        deal.amount = quote.price
        _set_stage(deal, Stage.QUOTED, actor, {"quote": str(quote.price)})
    elif (
        deal.stage in (Stage.QUOTED, *DEPOSIT_STAGES)
        and not deal.agreements.exists()
        and deal.amount != quote.price
    ):
        before = deal.amount
        deal.amount, deal.updated_at = quote.price, timezone.now()
        deal.save(update_fields=["amount", "updated_at"])
        _event(deal, "price", actor, {"from": str(before), "to": str(quote.price)})


def _standing_price(deal: Deal) -> Decimal | None:
    """The standing (approved) quote's price for the deal's customer and product, if any."""
    if not deal.product_id:
        return None
    return (
        Quote.objects.filter(
            customer_id=deal.customer_id, product_id=deal.product_id, status=Quote.Status.ACTIVE
        )
        .values_list("price", flat=True)
        .first()
    )


def _list_price(product: Product) -> Decimal:
    today = timezone.localdate()
    entry = (
        product.prices.filter(price_list__active=True, price_list__valid_from__lte=today)
        .exclude(price_list__valid_to__lt=today)
        .order_by("-price_list__valid_from")
        .first()
    )
    return entry.price if entry else product.list_price


def quote_decide(*, actor: User, quote_id: int, approve: bool, note: str = "") -> Quote:
    with transaction.atomic():
        quote = (
            Quote.objects.select_for_update()
            .select_related("customer")
            .filter(pk=quote_id, status=Quote.Status.PENDING)
            .first()
        )
        if quote is None or not manages(actor, quote.customer):
            raise NotFound(_("No quote waiting for your approval."))
        quote.status = Quote.Status.ACTIVE if approve else Quote.Status.REJECTED
        quote.approved_by, quote.decided_at = actor, timezone.now()
        quote.save(update_fields=["status", "approved_by", "decided_at"])
        if approve:
            _quote_moves_deal(quote, actor)
        audit_record(
            actor=actor,
            verb="quote.approve" if approve else "quote.reject",
            target=quote.customer,
            changes={"price": [None, str(quote.price)]},
            note=note[:500],
        )
    return quote


# ---- changes: 换房, 换名, 退房 ---------------------------------------------------------------


def change_request(
    *, actor: User, deal_id: int, kind: str, reason: str, data: dict
) -> ChangeRequest:
    if kind not in ChangeRequest.Kind.values:
        raise ValidationFailed.single("kind", "invalid_choice", _("Unknown change."))
    if not reason.strip():
        raise ValidationFailed.single("reason", "required", _("Say why."))
    with transaction.atomic():
        deal = _deal_for_update(actor, deal_id)
        if not can_work_deal(actor, deal):
            raise Forbidden(_("Only the deal's owner or a manager requests changes."))
        _check_change_allowed(deal, kind, data)
        change = ChangeRequest.objects.create(
            deal=deal,
            kind=kind,
            reason=reason.strip()[:500],
            data=data,
            requested_by=actor,
            fee=_name_change_fee(data.get("fee")) if kind == "name_change" else Decimal("0.00"),
        )
        _event(deal, "change_requested", actor, {"kind": kind})
    return change


def _name_change_fee(value) -> Decimal:
    """The transfer fee (过户费) asked for, or the company's default when none is given."""
    if value is None or str(value).strip() == "":
        return SalesSettings.current().name_change_fee
    return money(value, "fee", allow_zero=True)


def _check_change_allowed(deal: Deal, kind: str, data: dict) -> None:
    if deal.stage == Stage.LOST:
        raise Conflict(_("This deal is closed."), code="deal_closed")
    signed = deal.stage in (Stage.CONTRACT, Stage.PAID, Stage.DELIVERED)
    if kind == ChangeRequest.Kind.REFUND:
        if signed:
            raise Conflict(
                _("After the contract is signed there is no refund (退房)."),
                code="refund_after_contract",
            )
        if deal.stage not in (*DEPOSIT_STAGES, Stage.SUBSCRIPTION):
            raise Conflict(_("Nothing to refund: the deal holds no deposit."), code="wrong_stage")
    elif kind == ChangeRequest.Kind.PRICE_CHANGE:
        if deal.stage in (Stage.PAID, Stage.DELIVERED):
            raise Conflict(_("A sold unit is not changed."), code="deal_closed")
        price = money(data.get("price"), "price")
        scheduled = money_sum(deal.instalments.exclude(status=Instalment.Status.CANCELLED))
        if price < scheduled:
            raise ValidationFailed.single(
                "price",
                "below_schedule",
                _("The payment schedule already asks for more: change the schedule first."),
            )
    elif kind == ChangeRequest.Kind.NAME_CHANGE:
        if not signed:
            raise Conflict(_("A name change (换名) is for signed contracts."), code="not_signed")
        if not str(data.get("new_name", "")).strip():
            raise ValidationFailed.single("new_name", "required", _("Enter the new buyer's name."))
    else:
        if deal.stage in (Stage.PAID, Stage.DELIVERED):
            raise Conflict(_("A sold unit is not changed."), code="deal_closed")
        if not deal.unit_id:
            raise Conflict(_("The deal holds no unit."), code="no_unit")
        new = InventoryUnit.objects.filter(pk=data.get("unit_id")).first()
        if new is None:
            raise ValidationFailed.single("unit_id", "not_found", _("No such unit."))
        if new.list_price < deal.amount:
            raise ValidationFailed.single(
                "unit_id",
                "smaller_amount",
                _("A unit change (换房) goes to an equal or larger amount."),
            )
        if new.status != Unit.AVAILABLE:
            raise Conflict(
                _("This unit is not available."), code="unit_not_available", field="unit_id"
            )


def change_decide(*, actor: User, change_id: int, approve: bool, note: str = "") -> ChangeRequest:
    """A manager approves (and the change is carried out at once) or rejects."""
    with transaction.atomic():
        change = (
            ChangeRequest.objects.select_for_update()
            .select_related("deal__customer")
            .filter(pk=change_id, status=ChangeRequest.Status.PENDING)
            .first()
        )
        if change is None or not manages(actor, change.deal.customer):
            raise NotFound(_("No change waiting for your approval."))
        deal = (
            Deal.objects.select_for_update(of=("self",))
            .select_related("unit", "customer")
            .get(pk=change.deal_id)
        )
        if approve:
            _check_change_allowed(deal, change.kind, change.data)
            {
                "unit_change": _do_unit_change,
                "name_change": _do_name_change,
                "refund": _do_refund,
                "price_change": _do_price_change,
            }[change.kind](deal, change, actor)
        change.status = ChangeRequest.Status.DONE if approve else ChangeRequest.Status.REJECTED
        change.decided_by, change.decided_at = actor, timezone.now()
        # `data` too: a unit change records which units and the difference it made.
        change.save(update_fields=["status", "decided_by", "decided_at", "data"])
        audit_record(
            actor=actor,
            verb=f"deal.{change.kind}." + ("approve" if approve else "reject"),
            target=deal,
            # The request's reason, then the approver's comment from the confirmation.
            note=(change.reason + (f" — {note.strip()}" if note.strip() else ""))[:1000],
        )
    return change


def _do_unit_change(deal: Deal, change: ChangeRequest, actor) -> None:
    old = InventoryUnit.objects.select_for_update().get(pk=deal.unit_id)
    won = InventoryUnit.objects.filter(pk=change.data["unit_id"], status=Unit.AVAILABLE).update(
        status=old.status, deal=deal, updated_at=timezone.now()
    )
    if not won:
        raise Conflict(_("This unit is not available."), code="unit_not_available")
    new = InventoryUnit.objects.get(pk=change.data["unit_id"])
    UnitEvent.objects.create(
        unit=new,
        from_status=Unit.AVAILABLE,
        to_status=new.status,
        deal=deal,
        actor=actor,
        note="unit change",
    )
    _unit_move(old, Unit.AVAILABLE, deal=None, actor=actor, note="unit change")
    difference = new.list_price - deal.amount
    deal.unit, deal.amount, deal.updated_at = new, new.list_price, timezone.now()
    deal.save(update_fields=["unit", "amount", "updated_at"])
    change.data = {
        **change.data,
        "from_unit": old.code,
        "to_unit": new.code,
        "difference": str(difference),
    }
    _amend_if_issued(deal, actor, {"unit": new.code, **_price_terms(deal)}, change.reason)
    _event(deal, "unit_change", actor, change.data)


def _do_name_change(deal: Deal, change: ChangeRequest, actor) -> None:
    before = deal.buyer_name
    deal.buyer_name = str(change.data["new_name"]).strip()[:100]
    deal.save(update_fields=["buyer_name"])
    _amend_if_issued(
        deal, actor, {"buyer": deal.buyer_name, "transfer_fee": str(change.fee)}, change.reason
    )
    if change.fee > 0:
        Instalment.objects.create(
            deal=deal,
            label=_("Name-change fee (换名)"),
            due_date=timezone.localdate(),
            amount=change.fee,
        )
    _event(
        deal, "name_change", actor, {"from": before, "to": deal.buyer_name, "fee": str(change.fee)}
    )


def _do_price_change(deal: Deal, change: ChangeRequest, actor) -> None:
    """改价: the approved price becomes the deal's amount and, once issued, the agreement's
    (an amendment with the balance that follows)."""
    before = deal.amount
    deal.amount, deal.updated_at = money(change.data["price"], "price"), timezone.now()
    deal.save(update_fields=["amount", "updated_at"])
    change.data = {**change.data, "from": str(before), "to": str(deal.amount)}
    _amend_if_issued(deal, actor, _price_terms(deal), change.reason)
    _event(deal, "price_change", actor, change.data)


def _price_terms(deal: Deal) -> dict:
    """The agreement's money lines for the deal as it stands: the deposit the 认购书 recorded,
    the new price and the balance that follows."""
    terms = {"price": str(deal.amount)}
    original = deal.agreements.filter(kind=Agreement.Kind.AGREEMENT).first()
    if original is not None and original.content.get("deposit"):
        deposit = Decimal(original.content["deposit"])
        terms["balance"] = str(deal.amount - deposit)
    return terms


def _do_refund(deal: Deal, change: ChangeRequest, actor) -> None:
    if deal.unit_id:
        unit = InventoryUnit.objects.select_for_update().get(pk=deal.unit_id)
        _unit_move(unit, Unit.AVAILABLE, deal=None, actor=actor, note="refund")
    deal.instalments.filter(status=Instalment.Status.DUE).update(status=Instalment.Status.CANCELLED)
    deal.lost_reason = _("Refund (退房): %s") % change.reason
    deal.save(update_fields=["lost_reason"])
    _set_stage(deal, Stage.LOST, actor, {"refund": True})


def _amend_if_issued(deal: Deal, actor, changes: dict, reason: str) -> None:
    original = deal.agreements.filter(kind=Agreement.Kind.AGREEMENT).first()
    if original:
        count = original.amendments.count()
        Agreement.objects.create(
            deal=deal,
            kind=Agreement.Kind.AMENDMENT,
            parent=original,
            number=f"{original.number}-A{count + 1}",
            issued_by=actor,
            content={**original.content, **changes, "reason": reason, "amends": original.number},
        )


# ---- retail orders -------------------------------------------------------------------------


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
            product = Product.objects.filter(pk=item.get("product_id"), active=True).first()
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
                won = InventoryUnit.objects.filter(
                    pk=item["unit_id"], product=product, status=Unit.AVAILABLE
                ).update(status=Unit.SOLD, updated_at=timezone.now())
                if not won:
                    raise Conflict(_("This item is not available."), code="unit_not_available")
                unit = InventoryUnit.objects.get(pk=item["unit_id"])
                UnitEvent.objects.create(
                    unit=unit,
                    from_status=Unit.AVAILABLE,
                    to_status=Unit.SOLD,
                    actor=actor,
                    note=order.number,
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


# ---- overdue instalments (periodic) --------------------------------------------------------


PAYMENT_OVERDUE = gettext_lazy(
    "Payment overdue %(days)d days: %(label)s ¥%(amount)s (%(customer)s)"
)


def overdue_scan(now=None) -> dict:
    """催款通知: a notice per overdue instalment to the deal's owner and to finance, a
    follow-up due now for the owner, and `in_default` after the configured days. Idempotent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    limit = SalesSettings.current().default_after_days
    # Finance of the customer's branch only: a notice names the customer and the amount,
    # which finance of another branch may not see.
    finance = list(
        User.objects.filter(is_active=True, roles__role=Role.FINANCE)
        .select_related("org_unit")
        .distinct()
    )
    overdue = (
        Instalment.objects.filter(status=Instalment.Status.DUE, due_date__lt=today)
        .exclude(deal__stage=Stage.LOST)
        .select_related("deal__customer")
    )
    notices, customers, defaulted = [], set(), set()
    for item in overdue.iterator(chunk_size=2000):
        days = (today - item.due_date).days
        params = {
            "days": days,
            "label": item.label,
            "amount": str(item.outstanding),
            "customer": item.deal.customer.name,
        }
        unit_id = item.deal.customer.org_unit_id
        desk = {person.pk for person in finance if hears_of_overdue(person, unit_id)}
        for user_id in {item.deal.owner_id, *desk}:
            notices.append(
                Notice(
                    recipient_id=user_id,
                    key=f"overdue:{item.pk}:{today:%Y%W}",
                    kind="payment_overdue",
                    title=PAYMENT_OVERDUE,
                    params=params,
                    url=f"/sales/deals/{item.deal_id}/",
                )
            )
        customers.add(item.deal.customer_id)
        if days > limit:
            defaulted.add(item.deal_id)
    with transaction.atomic():
        notify_many(notices, now=now)
        follow_up_due_now(customer_ids=customers, rule="overdue", now=now)
        Deal.objects.filter(pk__in=defaulted, in_default=False).update(in_default=True)
    return {"notices": len(notices), "defaulted": len(defaulted)}
