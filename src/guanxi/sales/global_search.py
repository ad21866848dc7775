"""Deals and units in the header's global search, read through the sales selectors' rules:
a deal is found when its customer is visible; units are on the sales-control board,
which every colleague reads."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.core.formatting import money
from guanxi.core.models import User
from guanxi.core.search import SearchHit

from .models import Deal, InventoryUnit


def deal_hits(*, viewer: User, q: str, limit: int) -> list[SearchHit]:
    deals = (
        Deal.objects.visible_to(viewer)
        .filter(
            Q(title__icontains=q) | Q(customer__name__startswith=q) | Q(unit__code__istartswith=q)
        )
        .select_related("customer", "owner", "unit")
        .order_by("-updated_at")[:limit]
    )
    hits = []
    for deal in deals:
        parts = [deal.customer.name, deal.get_stage_display(), money(deal.amount)]
        if deal.unit_id:
            parts.append(deal.unit.code)
        hits.append(
            SearchHit(
                title=deal.title,
                url=reverse("sales:deal", args=[deal.pk]),
                detail=" · ".join(parts),
            )
        )
    return hits


def unit_hits(*, viewer: User, q: str, limit: int) -> list[SearchHit]:
    units = (
        InventoryUnit.objects.filter(code__istartswith=q)
        .select_related("product")
        .order_by("code")[:limit]
    )
    visible_deals = set(
        Deal.objects.visible_to(viewer)
        .filter(pk__in=[u.deal_id for u in units if u.deal_id])
        .values_list("pk", flat=True)
    )
    hits = []
    for unit in units:
        if unit.deal_id in visible_deals:
            url = reverse("sales:deal", args=[unit.deal_id])
        else:
            url = f"{reverse('sales:board')}?product={unit.product_id}"
        parts = [unit.product.name, unit.get_status_display(), money(unit.list_price)]
        if unit.area:
            parts.append(_("%(area)s m²") % {"area": unit.area})
        hits.append(SearchHit(title=unit.code, url=url, detail=" · ".join(parts)))
    return hits
