"""What loyalty does when the apps below it announce an event (core.events)."""

from decimal import Decimal

from .services import (
    points_earn_for_desk_visit,
    points_earn_for_spend,
    points_merge,
    points_refund_quietly,
)


def _ref(payload: dict) -> str:
    if payload.get("deal_id"):
        return f"deal:{payload['deal_id']}"
    if payload.get("order_id"):
        return f"order:{payload['order_id']}"
    return ""


def on_payment(event: str, payload: dict) -> None:
    """Money received earns points by the spend rules, once per payment."""
    amount = Decimal(str(payload.get("amount") or "0"))
    if amount > 0 and payload.get("customer_id"):
        points_earn_for_spend(
            customer_id=payload["customer_id"],
            amount=amount,
            key=f"payment:{payload['id']}",
            ref=_ref(payload),
        )


def on_visit_received(event: str, payload: dict) -> None:
    """A visitor received at the desk earns the visit points, once per visit (a call
    earns nothing: the rules give points per visit)."""
    if payload.get("kind") == "visit" and payload.get("id") and payload.get("customer_id"):
        points_earn_for_desk_visit(visit_id=payload["id"], customer_id=payload["customer_id"])


def on_deal_stage(event: str, payload: dict) -> None:
    """A deal lost after money came in is a refund (退房): what it earned is taken back."""
    if payload.get("to_stage") == "lost":
        points_refund_quietly(ref=f"deal:{payload['id']}")


def on_customer_merged(event: str, payload: dict) -> None:
    if not payload.get("merged_id") or not payload.get("id"):
        return
    points_merge(keep_id=payload["id"], merge_id=payload["merged_id"])
