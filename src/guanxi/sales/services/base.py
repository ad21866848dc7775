"""What every part of the sales process shares: money parsing, numbering, the deal's
history, a unit's claim and moves, the locked read of a deal and its stage change."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.core.ids import id_in_range
from guanxi.core.models import User
from guanxi.core.validation import check_money
from guanxi.core.webhooks import webhook_emit

from ..models import (
    Deal,
    DealEvent,
    InventoryUnit,
    NumberSequence,
    PipelineStage,
    UnitEvent,
)
from ..permissions import (
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


def record_id(value: object) -> int:
    """An id from a request's items as a lookup takes it: 0 (found nowhere) when it is no
    record id at all."""
    return value if isinstance(value, int) and id_in_range(value) else 0


def next_number(prefix: str) -> str:
    """RG2026-000001: taken under a row lock, so numbers never repeat or skip."""
    year = timezone.localdate().year
    NumberSequence.objects.get_or_create(prefix=prefix, year=year)
    sequence = NumberSequence.objects.select_for_update().get(prefix=prefix, year=year)
    sequence.last = F("last") + 1
    sequence.save(update_fields=["last"])
    sequence.refresh_from_db()
    return f"{prefix}{year}-{sequence.last:06d}"


def record_event(deal: Deal, kind: str, actor, data=None, from_stage="", to_stage="") -> None:
    DealEvent.objects.create(
        deal=deal, kind=kind, actor=actor, data=data or {}, from_stage=from_stage, to_stage=to_stage
    )


def unit_claim(
    *,
    unit_id: int,
    to: str,
    deal,
    actor,
    product=None,
    note: str = "",
    field: str | None = None,
    message=None,
) -> InventoryUnit:
    """Take an available unit: the one statement that decides who gets it (a conditional
    UPDATE that exactly one of any number of racing requests wins), then its history."""
    claimed = InventoryUnit.objects.filter(pk=unit_id, status=Unit.AVAILABLE)
    if product is not None:
        claimed = claimed.filter(product=product)
    if not claimed.update(status=to, deal=deal, updated_at=timezone.now()):
        raise Conflict(
            message or _("This unit is not available."), code="unit_not_available", field=field
        )
    unit = InventoryUnit.objects.get(pk=unit_id)
    UnitEvent.objects.create(
        unit=unit, from_status=Unit.AVAILABLE, to_status=to, deal=deal, actor=actor, note=note
    )
    return unit


def unit_move(unit: InventoryUnit | None, to: str, *, deal, actor, note: str = "") -> None:
    if unit is None:
        return
    UnitEvent.objects.create(
        unit=unit, from_status=unit.status, to_status=to, deal=deal, actor=actor, note=note
    )
    unit.status = to
    unit.deal = deal if to not in (Unit.AVAILABLE, Unit.HELD) else None
    unit.updated_at = timezone.now()
    unit.save(update_fields=["status", "deal", "updated_at"])


def require_manager(actor: User) -> None:
    if not manages_sales(actor):
        raise Forbidden(_("A manager must do this."))


def deal_for_update(actor: User, deal_id: int) -> Deal:
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


def set_stage(deal: Deal, to_stage: str, actor, data=None, note: str = "") -> None:
    before = deal.stage
    now = timezone.now()
    deal.stage, deal.stage_changed_at, deal.updated_at = to_stage, now, now
    if to_stage in (Stage.PAID, Stage.LOST):
        deal.closed_at = now
    deal.save()
    record_event(deal, "stage", actor, data, from_stage=before, to_stage=to_stage)
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
