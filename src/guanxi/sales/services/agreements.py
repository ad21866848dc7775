"""The 认购书 (agreement): preview, issue, amendments and the payment schedule."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import User

from ..models import (
    DEPOSIT_STAGES,
    Agreement,
    Deal,
    Instalment,
)
from ..permissions import (
    can_set_schedule,
    can_work_deal,
)
from ..selectors import deal_get
from .base import (
    Stage,
    Unit,
    deal_for_update,
    money,
    money_sum,
    next_number,
    record_event,
    set_stage,
    unit_move,
)


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
    deal = deal_get(viewer=actor, pk=deal_id)
    _agreement_check(actor, deal)
    deposits = money_sum(deal.instalments.exclude(status=Instalment.Status.CANCELLED))
    return _snapshot(deal, deposits)


def agreement_issue(*, actor: User, deal_id: int, note: str = "") -> Agreement:
    """认购书: numbered, snapshotted, four copies; the unit becomes subscribed. `note` (the
    person's comment on the confirmation) goes on the stage change's audit entry."""
    with transaction.atomic():
        deal = deal_for_update(actor, deal_id)
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
            unit_move(deal.unit, Unit.SUBSCRIBED, deal=deal, actor=actor)
        set_stage(deal, Stage.SUBSCRIPTION, actor, {"agreement": agreement.number}, note=note)
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
            deal = deal_for_update(actor, original.deal_id)
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
        record_event(deal, "amendment", actor, {"number": amendment.number})
    return amendment


def schedule_set(*, actor: User, deal_id: int, instalments: list[dict]) -> list[Instalment]:
    """The payment plan after the deposits: replaces the unpaid, non-deposit instalments."""
    with transaction.atomic():
        deal = deal_for_update(actor, deal_id)
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
        record_event(deal, "schedule", actor, {"instalments": len(rows)})
    return created
