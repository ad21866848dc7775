"""Insights follows the events sales and customers emit (core.events): nothing in sales
calls this app."""

from .models import ChurnWarning
from .services import value_refresh


def on_payment(event: str, payload: dict) -> None:
    if payload.get("customer_id"):
        value_refresh(payload["customer_id"])


def on_deal_stage(event: str, payload: dict) -> None:
    # A refund (lost after money in) changes the purchases; a paid deal closes one.
    if payload.get("to_stage") in ("lost", "paid") and payload.get("customer_id"):
        value_refresh(payload["customer_id"])


def on_customer_merged(event: str, payload: dict) -> None:
    if not payload.get("merged_id") or not payload.get("id"):
        return
    ChurnWarning.objects.filter(
        customer_id=payload["merged_id"], status__in=["open", "snoozed"]
    ).update(status="resolved")
    value_refresh(payload["merged_id"])
    value_refresh(payload["id"])
