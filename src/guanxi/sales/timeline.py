"""Timeline source of this app: deal events, quotes and payments."""

from django.utils.translation import gettext as _

from guanxi.core.timeline import TimelineEvent

from .models import DealEvent, Payment, PipelineStage, Quote

KIND_TITLES = {
    "created": _("Deal opened"),
    "stage": _("Deal moved"),
    "payment": _("Payment received"),
    "amendment": _("Agreement amended"),
    "schedule": _("Payment schedule set"),
    "change_requested": _("Change requested"),
    "unit_change": _("Unit changed (换房)"),
    "name_change": _("Name changed (换名)"),
}


def _stage_label(code: str) -> str:
    return str(PipelineStage.Code(code).label) if code in PipelineStage.Code.values else code


def deal_events(*, customer, viewer, limit: int):
    for event in (
        DealEvent.objects.filter(deal__customer=customer)
        .select_related("deal", "actor")
        .order_by("-at")[:limit]
    ):
        body = event.deal.title
        if event.kind == "stage":
            body += f": {_stage_label(event.from_stage)} → {_stage_label(event.to_stage)}"
        yield TimelineEvent(
            at=event.at,
            kind="deal",
            title=str(KIND_TITLES.get(event.kind, event.kind)),
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
