"""Points and tiers over JSON: balance, ledger, redemption, visit points, refunds, rewards."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from guanxi.core.validation import column_limit

from . import services
from .models import PointsEntry, Tier
from .selectors import ledger_for

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class EntryOut(Schema):
    id: int
    kind: str
    points: int
    balance_after: int
    key: str
    ref: str
    amount: Decimal
    reward_id: int | None
    note: str
    at: dt.datetime


class AccountOut(Schema):
    customer_id: int
    balance: int
    tier: str | None
    tier_name: str | None
    tier_until: dt.date | None
    expiring_30_days: int
    entries: list[EntryOut]


@router.get("/customers/{customer_id}", response=AccountOut)
def account_get(request, customer_id: int):
    """Balance, tier and the newest 50 ledger lines of a visible customer."""
    customer, entries = ledger_for(viewer=request.user, customer_id=customer_id)
    summary = services.account_summary(customer.pk)
    tier = summary["tier"] or Tier.objects.first()
    return {
        "customer_id": customer.pk,
        "balance": summary["balance"],
        "tier": tier.code if tier else None,
        "tier_name": str(tier) if tier else None,
        "tier_until": summary["tier_until"],
        "expiring_30_days": summary["expiring_30_days"],
        "entries": entries,
    }


class RedeemIn(Strict):
    key: str = Field(max_length=100, description="idempotency key: a retry changes nothing")
    reward_id: int | None = None
    points: int | str | None = None
    ref: str = Field("", max_length=column_limit(PointsEntry, "ref"))


@router.post("/customers/{customer_id}/redemptions", response={201: EntryOut})
def redeem(request, customer_id: int, payload: RedeemIn):
    """409 `insufficient_points` beyond the balance, 409 `reward_expired`, 422 `not_whole` /
    `not_positive` for fractional or negative points; the ledger is then unchanged."""
    return Status(
        201, services.points_redeem(actor=request.user, customer_id=customer_id, **payload.dict())
    )


class VisitIn(Strict):
    key: str = Field(max_length=100, description="the visit's id: one earning per visit")


@router.post("/customers/{customer_id}/visits", response={201: EntryOut})
def visit(request, customer_id: int, payload: VisitIn):
    return Status(
        201,
        services.points_earn_visit(actor=request.user, customer_id=customer_id, key=payload.key),
    )


class RefundIn(Strict):
    ref: str = Field(
        max_length=column_limit(PointsEntry, "ref"),
        description="the order or deal: `order:12`, `deal:5`",
    )


class RefundOut(Schema):
    ref: str
    taken_back: int
    given_back: int


@router.post("/refunds", response=RefundOut)
def refund(request, payload: RefundIn):
    """Take back what the order earned, give back what it redeemed; 409 `already_refunded`."""
    return services.points_refund(actor=request.user, ref=payload.ref)


class RewardOut(Schema):
    id: int
    name: str
    kind: str
    points: int
    discount_amount: Decimal
    valid_until: dt.date | None


@router.get("/rewards", response=list[RewardOut])
def rewards(request):
    return list(services.rewards_available())
