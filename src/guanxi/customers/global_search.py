"""Customers in the header's global search, found by the customer list's own search
(name, pinyin, initials, phone digits, e-mail) and visibility: customers.selectors."""

from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.search import SearchHit

from .selectors import CustomerFilter, customer_list


def customer_hits(*, viewer: User, q: str, limit: int) -> list[SearchHit]:
    items = customer_list(viewer=viewer, filters=CustomerFilter(q=q), limit=limit).items
    # The list is newest first; the customer whose name is exactly the query comes first.
    items.sort(key=lambda c: c.name != q)
    hits = []
    for customer in items:
        parts = [customer.phone_display, customer.company]
        if customer.owner_id:
            parts.append(_("owner: %(owner)s") % {"owner": customer.owner})
        hits.append(
            SearchHit(
                title=customer.name,
                url=customer.get_absolute_url(),
                detail=" · ".join(p for p in parts if p),
            )
        )
    return hits


def customer_list_url(q: str) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    return f"{reverse('customers:list')}?{urlencode({'q': q})}"
