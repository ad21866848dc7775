"""Deal facts for the follow-up cadence rules (interactions.cadence)."""

from django.db.models import Max

from .models import ABOUT_TO_SIGN, OPEN_STAGES, Deal, Order, Quote


def deal_facts(customer, facts) -> None:
    deals = Deal.objects.filter(customer=customer)
    stages = set(deals.values_list("stage", flat=True))
    facts.about_to_sign = bool(stages & set(ABOUT_TO_SIGN))
    facts.open_deal = facts.about_to_sign or bool(stages & set(OPEN_STAGES))
    closed = deals.filter(stage__in=["contract", "paid", "delivered"]).aggregate(
        at=Max("stage_changed_at")
    )["at"]
    if closed:
        facts.deal_closed_at = closed
        # A return visit is done once someone has been in touch after the deal closed.
        facts.return_visit_done = bool(
            customer.last_contact_at and customer.last_contact_at > closed
        )
    quoted = Quote.objects.filter(customer=customer, status="active").aggregate(
        at=Max("created_at")
    )["at"]
    if quoted and "quoted" in stages:
        facts.quoted_at = quoted
    since = customer.last_contact_at
    deliveries = Order.objects.filter(customer=customer, delivered_at__isnull=False)
    if since:
        deliveries = deliveries.filter(delivered_at__gt=since)
    facts.deliveries_since_contact = deliveries.count()
