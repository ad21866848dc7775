"""Insights over JSON: a customer's value figures, the churn watch list and its decisions."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema
from pydantic import ConfigDict, Field

from guanxi.customers.selectors import customer_get

from . import services
from .recommend import recommend_for
from .rules import NEXT_ACTIONS
from .selectors import next_best_actions, value_of

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ValueOut(Schema):
    customer_id: int
    purchases: int
    revenue: Decimal
    last_purchase_at: dt.datetime | None
    r: int | None
    f: int | None
    m: int | None
    segment: str
    segment_name: str
    abc: str
    stage: str
    stage_name: str
    next_action: str
    median_gap_days: float | None
    churn_threshold_days: float | None
    value: Decimal
    cost: Decimal
    profit: Decimal


@router.get("/customers/{customer_id}", response=ValueOut)
def value_get(request, customer_id: int):
    """RFM, A/B/C, lifecycle with its next action, cycle and profitability."""
    customer = customer_get(viewer=request.user, pk=customer_id)

    row = value_of(customer.pk) or services.value_refresh(customer.pk)
    assert row is not None
    return {
        **{f: getattr(row, f) for f in ValueOut.model_fields if hasattr(row, f)},
        "segment_name": row.get_segment_display() if row.segment else "",
        "stage_name": row.get_stage_display(),
        "next_action": str(NEXT_ACTIONS[row.stage]),
    }


class RecommendationOut(Schema):
    product_id: int
    product: str
    because_of: str
    together: int
    buyers: int
    confidence: float
    reason: str


@router.get("/customers/{customer_id}/recommendations", response=list[RecommendationOut])
def recommendations(request, customer_id: int, limit: int = 5):
    """What to offer next, from co-purchase, with the reason; none for do-not-contact."""

    customer = customer_get(viewer=request.user, pk=customer_id)
    return [
        {**r.__dict__, "reason": r.reason}
        for r in recommend_for(customer, limit=max(1, min(limit, 20)))
    ]


class NextActionOut(Schema):
    customer_id: int
    name: str
    abc: str
    stage: str
    stage_name: str
    next_action: str
    churn_reason: str
    recommendation: RecommendationOut | None


@router.get("/next-actions", response=list[NextActionOut])
def next_actions(request, limit: int = 5):
    """The signed-in salesperson's customers that call for work first (those on the churn
    watch list, then by lifecycle stage, the most valuable first), each with the work its
    stage calls for and the best product to offer: the "my day" section as JSON."""

    out = []
    for a in next_best_actions(user=request.user, limit=max(1, min(limit, 20))):
        offer = a["offer"]
        out.append(
            {
                "customer_id": a["customer"].pk,
                "name": a["customer"].name,
                "abc": a["value"].abc,
                "stage": a["value"].stage,
                "stage_name": a["stage_name"],
                "next_action": a["next_action"],
                "churn_reason": a["churn_reason"],
                "recommendation": {**offer.__dict__, "reason": offer.reason} if offer else None,
            }
        )
    return out


class WarningOut(Schema):
    id: int
    customer_id: int
    rule: str
    reason: str
    days_since: int
    usual_gap_days: float | None
    status: str
    snoozed_until: dt.datetime | None
    note: str
    created_at: dt.datetime

    @staticmethod
    def resolve_reason(obj) -> str:
        return obj.reason()


@router.get("/churn", response=list[WarningOut])
def watch_list(request, status: str = "open"):
    return services.watch_list(viewer=request.user, status=status)


class DecideIn(Strict):
    action: str = Field(pattern="^(dismiss|snooze)$")
    reason: str = Field(max_length=300)
    days: int | None = None


@router.post("/churn/{warning_id}/decide", response=WarningOut)
def decide(request, warning_id: int, payload: DecideIn):
    """Dismiss or snooze (1–365 days) a warning, always with a reason."""
    if payload.action == "snooze":
        return services.churn_snooze(
            actor=request.user, warning_id=warning_id, days=payload.days or 0, reason=payload.reason
        )
    return services.churn_dismiss(actor=request.user, warning_id=warning_id, reason=payload.reason)
