"""What to offer a customer next (C6): item-item co-purchase.

The nightly run counts, for every pair of products, how many customers bought both
(`ProductPair`). A customer's recommendations are the products most often bought by the
buyers of what they already have, excluding what they own or hold (an open deal or a
live quote), each with its reason ("customers who bought X also bought Y: 38 of 120").
A customer marked do-not-contact gets none: nobody should be offering them anything.
"""

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from django.db import connection, transaction
from django.utils.translation import gettext as _

from guanxi.sales.models import Deal, Order, OrderItem, Product, Quote

from .models import ProductPair

MIN_TOGETHER = 2  # a pair seen once is chance, not a pattern


def _bought_sql() -> str:
    o, i, d = Order._meta.db_table, OrderItem._meta.db_table, Deal._meta.db_table
    return f"""
        SELECT o.customer_id, i.product_id FROM {i} i JOIN {o} o ON o.id = i.order_id
        WHERE o.status <> 'cancelled'
        UNION
        SELECT d.customer_id, d.product_id FROM {d} d
        WHERE d.product_id IS NOT NULL AND d.stage IN ('paid', 'delivered')
        ORDER BY 1
    """


def rebuild_pairs() -> int:
    """Count co-purchases over every customer; replaces the table (idempotent)."""
    buyers: Counter = Counter()
    together: Counter = Counter()
    with connection.cursor() as cursor:
        cursor.execute(_bought_sql())
        current: int | None = None
        products: set[int] = set()

        def flush():
            buyers.update(products)
            together.update(combinations(sorted(products), 2))

        while batch := cursor.fetchmany(50000):
            for customer_id, product_id in batch:
                if customer_id != current:
                    flush()
                    current, products = customer_id, set()
                products.add(product_id)
        flush()
    rows = []
    for (a, b), n in together.items():
        if n < MIN_TOGETHER:
            continue
        rows.append(
            ProductPair(
                product_a_id=a,
                product_b_id=b,
                together=n,
                buyers_a=buyers[a],
                confidence=n / buyers[a],
            )
        )
        rows.append(
            ProductPair(
                product_a_id=b,
                product_b_id=a,
                together=n,
                buyers_a=buyers[b],
                confidence=n / buyers[b],
            )
        )
    with transaction.atomic():
        ProductPair.objects.all().delete()
        ProductPair.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


@dataclass
class Recommendation:
    product_id: int
    product: str
    because_of: str
    together: int
    buyers: int
    confidence: float

    @property
    def reason(self) -> str:
        return _("Customers who bought %(x)s also bought %(y)s: %(n)s of %(m)s.") % {
            "x": self.because_of,
            "y": self.product,
            "n": f"{self.together:,}",
            "m": f"{self.buyers:,}",
        }


def owned_or_held(customer_id: int) -> set[int]:
    # One query (a UNION) instead of one per source: the customer page asks on every view.
    ordered = (
        OrderItem.objects.filter(order__customer_id=customer_id)
        .exclude(order__status="cancelled")
        .values_list("product_id", flat=True)
        .order_by()
    )
    dealt = (
        Deal.objects.filter(customer_id=customer_id, product__isnull=False)
        .exclude(stage="lost")
        .values_list("product_id", flat=True)
        .order_by()
    )
    quoted = (
        Quote.objects.filter(customer_id=customer_id, status__in=["pending", "active"])
        .values_list("product_id", flat=True)
        .order_by()
    )
    return set(ordered.union(dealt, quoted))


def recommend_for(customer, limit: int = 5) -> list[Recommendation]:
    """The customer (already visibility-checked) and what to offer them, best first."""
    if customer.do_not_contact:
        return []
    have = owned_or_held(customer.pk)
    if not have:
        return []

    best: dict[int, ProductPair] = {}
    pairs = list(
        ProductPair.objects.filter(product_a_id__in=have)
        .exclude(product_b_id__in=have)
        .order_by("-confidence", "-together")[: limit * 10]
    )
    # Withdrawn products are left out by their ids, not by a join to the catalogue (which
    # PostgreSQL would answer by reading every product).
    active = set(
        Product.objects.filter(pk__in={p.product_b_id for p in pairs}, active=True).values_list(
            "pk", flat=True
        )
    )
    for pair in pairs:
        if pair.product_b_id in active and pair.product_b_id not in best:
            best[pair.product_b_id] = pair
        if len(best) >= limit:
            break
    names = dict(
        Product.objects.filter(
            pk__in={*best, *(p.product_a_id for p in best.values())}
        ).values_list("id", "name")
    )
    return [
        Recommendation(
            product_id=b,
            product=names.get(b, ""),
            because_of=names.get(p.product_a_id, ""),
            together=p.together,
            buyers=p.buyers_a,
            confidence=p.confidence,
        )
        for b, p in best.items()
    ]
