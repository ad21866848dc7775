"""Timeline source of this app: deal events, quotes and payments."""

from django.utils.translation import gettext as _

from guanxi.core.timeline import TimelineEvent

from .models import DealEvent, Payment, Quote


def deal_events(*, customer, viewer, limit: int):
    for event in (
        DealEvent.objects.filter(deal__customer=customer)
        .select_related("deal", "actor")
        .order_by("-at")[:limit]
    ):
        body = event.deal.title
        if event.kind == "stage":
            body += f": {event.get_from_stage_display()} → {event.get_to_stage_display()}"
        yield TimelineEvent(
            at=event.at,
            kind="deal",
            title=event.get_kind_display(),
            body=body,
            actor=str(event.actor or ""),
            icon="briefcase",
        )
    for quote in (
        Quote.objects.filter(customer=customer)
        .select_related("product", "quoted_by")
        .order_by("-created_at")[:limit]
    ):
        yield TimelineEvent(
            at=quote.created_at,
            kind="deal",
            title=_("Quote: %(product)s ¥%(price)s")
            % {"product": quote.product, "price": quote.price},
            body=_("discount %s%%") % quote.discount_pct,
            actor=str(quote.quoted_by),
            icon="tag",
            badges=[quote.get_status_display()],
        )
    for payment in (
        Payment.objects.filter(customer=customer)
        .select_related("recorded_by")
        .order_by("-received_at")[:limit]
    ):
        yield TimelineEvent(
            at=payment.received_at,
            kind="deal",
            title=_("Payment ¥%(amount)s, receipt %(receipt)s")
            % {"amount": payment.amount, "receipt": payment.receipt_number},
            actor=str(payment.recorded_by),
            icon="cash-coin",
            badges=[payment.get_method_display()],
        )
