"""Shared values and small helpers of the interaction tests."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from guanxi.customers.models import Customer
from guanxi.interactions import services

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday, 10:00 in Shanghai


def local(year, month, day, hour=0, minute=0) -> datetime:
    """An aware datetime in Shanghai time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def log(actor, customer, kind="call_out", summary="Talked about the new model", **kwargs):
    return services.interaction_log(
        actor=actor, customer_id=customer.pk, kind=kind, summary=summary, **kwargs
    )


def follow_up(customer) -> tuple[str | None, str]:
    """The customer's next follow-up as Shanghai wall-clock text, and the rule that set it."""
    customer.refresh_from_db()
    at = customer.next_follow_up_at
    return (at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else None), (
        customer.follow_up_rule
    )


def set_fields(customer, **fields) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(**fields)
    customer.refresh_from_db()
    return customer


def section(html: str, element_id: str) -> str:
    """The inner HTML of the list with this id on a page (up to its closing tag)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</ul>', html, re.S)
    assert match, f"#{element_id} not on the page"
    return match.group(1)
