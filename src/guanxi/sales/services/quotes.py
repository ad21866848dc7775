"""Quotes and discount approval: the price a deal is sold at."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.core.models import User
from guanxi.core.visibility import manages
from guanxi.customers.selectors import customer_get

from ..models import (
    DEPOSIT_STAGES,
    Deal,
    Product,
    Quote,
    SalesSettings,
)
from ..permissions import (
    approves_own_discounts,
)
from .base import CENT, Stage, money, record_event, set_stage


class StandingQuote(Conflict):
    """Another salesperson's live quote for the product stands; it names the quote."""

    def __init__(self, standing: Quote) -> None:
        super().__init__(
            _("%(who)s already quoted ¥%(price)s for this product; that price stands.")
            % {"who": standing.quoted_by, "price": standing.price},
            code="standing_quote",
            field="price",
        )
        self.standing = standing


def quote_issue(
    *,
    actor: User,
    customer_id: int,
    product_id: int,
    price,
    deal_id=None,
    note: str = "",
    valid_until: date | None = None,
) -> Quote:
    """One authoritative price per customer and product. Another salesperson is shown the
    standing quote instead; the same salesperson's new quote supersedes the old one. A
    discount above the threshold waits for a manager."""
    price = money(price, "price")
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id, for_update=True)
        product = Product.objects.filter(pk=product_id, active=True).first()
        if product is None:
            raise ValidationFailed.single("product_id", "not_found", _("No such product."))
        if deal_id and not Deal.objects.filter(pk=deal_id, customer=customer).exists():
            raise ValidationFailed.single("deal_id", "not_found", _("No such deal."))
        live = (
            Quote.objects.select_for_update()
            .filter(
                customer=customer,
                product=product,
                status__in=[Quote.Status.PENDING, Quote.Status.ACTIVE],
            )
            .first()
        )
        if live and live.quoted_by_id != actor.pk and not manages(actor, customer):
            raise StandingQuote(live)
        list_price = _list_price(product)
        exact_discount = (list_price - price) / list_price * 100 if list_price else Decimal(0)
        discount = exact_discount.quantize(CENT)
        threshold = SalesSettings.current().discount_approval_pct
        # The exact discount decides: 5.0000005 % is above 5 %, though it prints as 5.00.
        needs_approval = exact_discount > threshold and not approves_own_discounts(actor)
        if live:
            live.status = Quote.Status.SUPERSEDED
            live.decided_at = timezone.now()
            live.save(update_fields=["status", "decided_at"])
        quote = Quote.objects.create(
            customer=customer,
            product=product,
            deal_id=deal_id,
            list_price=list_price,
            price=price,
            discount_pct=max(discount, Decimal("0")),
            quoted_by=actor,
            note=note[:300],
            status=Quote.Status.PENDING if needs_approval else Quote.Status.ACTIVE,
            valid_until=valid_until,
        )
        if not needs_approval:
            _quote_moves_deal(quote, actor)
        audit_record(
            actor=actor,
            verb="quote.issue",
            target=customer,
            changes={
                "product": [None, product.sku],
                "price": [None, str(price)],
                "discount_pct": [None, str(discount)],
            },
        )
    return quote


def _quote_moves_deal(quote: Quote, actor: User) -> None:
    """A standing quote on a deal still at lead or needs-confirmed moves it to quoted, at
    the quoted price, with its history event like any other move. Later, until the 认购书 is
    issued, a standing (approved) quote still sets the deal's price: the agreement and the
    payment schedule print what was approved. After the agreement, the price changes only
    through an approved change request (改价)."""
    if not quote.deal_id:
        return
    deal = Deal.objects.select_for_update(of=("self",)).filter(pk=quote.deal_id).first()
    if deal is None:
        return
    if deal.stage in (Stage.LEAD, Stage.NEEDS):
        deal.amount = quote.price
        set_stage(deal, Stage.QUOTED, actor, {"quote": str(quote.price)})
    elif (
        deal.stage in (Stage.QUOTED, *DEPOSIT_STAGES)
        and not deal.agreements.exists()
        and deal.amount != quote.price
    ):
        before = deal.amount
        deal.amount, deal.updated_at = quote.price, timezone.now()
        deal.save(update_fields=["amount", "updated_at"])
        record_event(deal, "price", actor, {"from": str(before), "to": str(quote.price)})


def standing_price(deal: Deal) -> Decimal | None:
    """The standing (approved) quote's price for the deal's customer and product, if any."""
    if not deal.product_id:
        return None
    return (
        Quote.objects.filter(
            customer_id=deal.customer_id, product_id=deal.product_id, status=Quote.Status.ACTIVE
        )
        .values_list("price", flat=True)
        .first()
    )


def _list_price(product: Product) -> Decimal:
    today = timezone.localdate()
    entry = (
        product.prices.filter(price_list__active=True, price_list__valid_from__lte=today)
        .exclude(price_list__valid_to__lt=today)
        .order_by("-price_list__valid_from")
        .first()
    )
    return entry.price if entry else product.list_price


def quote_decide(*, actor: User, quote_id: int, approve: bool, note: str = "") -> Quote:
    with transaction.atomic():
        quote = (
            Quote.objects.select_for_update()
            .select_related("customer")
            .filter(pk=quote_id, status=Quote.Status.PENDING)
            .first()
        )
        if quote is None or not manages(actor, quote.customer):
            raise NotFound(_("No quote waiting for your approval."))
        quote.status = Quote.Status.ACTIVE if approve else Quote.Status.REJECTED
        quote.approved_by, quote.decided_at = actor, timezone.now()
        quote.save(update_fields=["status", "approved_by", "decided_at"])
        if approve:
            _quote_moves_deal(quote, actor)
        audit_record(
            actor=actor,
            verb="quote.approve" if approve else "quote.reject",
            target=quote.customer,
            changes={"price": [None, str(quote.price)]},
            note=note[:500],
        )
    return quote
