"""Changes after sale: 换房 (unit), 换名 (name), price and 退房 (refund), each approved by a
manager."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import User
from guanxi.core.visibility import manages

from ..models import (
    DEPOSIT_STAGES,
    Agreement,
    ChangeRequest,
    Deal,
    Instalment,
    InventoryUnit,
    SalesSettings,
)
from ..permissions import (
    can_work_deal,
)
from .base import (
    Stage,
    Unit,
    deal_for_update,
    money,
    money_sum,
    record_event,
    record_id,
    set_stage,
    unit_claim,
    unit_move,
)


def change_request(
    *, actor: User, deal_id: int, kind: str, reason: str, data: dict
) -> ChangeRequest:
    if kind not in ChangeRequest.Kind.values:
        raise ValidationFailed.single("kind", "invalid_choice", _("Unknown change."))
    if not reason.strip():
        raise ValidationFailed.single("reason", "required", _("Say why."))
    with transaction.atomic():
        deal = deal_for_update(actor, deal_id)
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
        record_event(deal, "change_requested", actor, {"kind": kind})
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
        new = InventoryUnit.objects.filter(pk=record_id(data.get("unit_id"))).first()
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
    old = InventoryUnit.objects.select_for_update().get(pk=deal.unit_id or 0)
    new = unit_claim(
        unit_id=change.data["unit_id"], to=old.status, deal=deal, actor=actor, note="unit change"
    )
    unit_move(old, Unit.AVAILABLE, deal=None, actor=actor, note="unit change")
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
    record_event(deal, "unit_change", actor, change.data)


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
    record_event(
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
    record_event(deal, "price_change", actor, change.data)


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
        unit_move(unit, Unit.AVAILABLE, deal=None, actor=actor, note="refund")
    deal.instalments.filter(status=Instalment.Status.DUE).update(status=Instalment.Status.CANCELLED)
    deal.lost_reason = _("Refund (退房): %s") % change.reason
    deal.save(update_fields=["lost_reason"])
    set_stage(deal, Stage.LOST, actor, {"refund": True})


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
