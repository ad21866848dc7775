"""Reads of the loyalty app, always through the customer's visibility."""

from guanxi.core.models import User
from guanxi.customers.selectors import customer_get

from .models import PointsEntry, PointsLot, TierChange


def ledger_for(*, viewer: User, customer_id: int, limit: int = 50):
    customer = customer_get(viewer=viewer, pk=customer_id)
    return customer, list(
        PointsEntry.objects.filter(customer_id=customer.pk)
        .select_related("actor", "reward")
        .order_by("-at", "-id")[:limit]
    )


def open_lots(customer_id: int):
    return list(
        PointsLot.objects.filter(customer_id=customer_id, remaining__gt=0).order_by(
            "expires_at", "id"
        )
    )


def tier_history(customer_id: int, limit: int = 20):
    return list(
        TierChange.objects.filter(customer_id=customer_id)
        .select_related("from_tier", "to_tier")
        .order_by("-at", "-id")[:limit]
    )
