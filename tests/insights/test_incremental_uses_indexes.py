"""The per-event paths that must stay fast at a million customers read through indexes, never
a whole table (C6 benchmarks: incremental update per order ≤ 5 ms, recommendations p95 ≤
50 ms): the plan of every query of the incremental update, the recommendations and the
points earning, asked of the database itself (core.query_plans)."""

from decimal import Decimal

from guanxi.core.query_plans import full_scans
from guanxi.insights.engine import recompute_all, recompute_one
from guanxi.insights.recommend import rebuild_pairs, recommend_for
from guanxi.loyalty.services import points_earn_for_spend
from guanxi.sales.models import Product
from tests.conftest import new_customer

from .conftest import history

# One-row settings and a handful of rules: read whole by design.
SMALL = frozenset(
    {
        "insights_insightssettings",
        "loyalty_loyaltysettings",
        "loyalty_earningrule",
        "loyalty_tier",
        "customers_loadbatch",  # one row per import: visibility leaves out unpublished ones
        # Users and org units: hundreds of rows in an office, not millions; joined to one
        # customer, PostgreSQL may walk their whole primary key when its statistics (which
        # autovacuum refreshes whenever it runs) say they are tiny.
        "core_user",
        "core_orgunit",
    }
)


def _base(owner, finance, customer, goods):
    other = Product.objects.create(name="延保", sku="EXT", list_price=Decimal("300"))
    for n in range(3):
        buyer = new_customer(owner, f"买家{n}", (f"1360000000{n}",))
        history(owner, finance, buyer, goods, [200, 100, 10])
        history(owner, finance, buyer, other, [5])
    history(owner, finance, customer, goods, [300, 120, 30])
    recompute_all()
    rebuild_pairs()


def test_the_incremental_update_reads_only_through_indexes(owner, finance, customer, goods):
    _base(owner, finance, customer, goods)
    assert full_scans(lambda: recompute_one(customer.pk), small_tables=SMALL) == []


def test_the_recommendations_read_only_through_indexes(owner, finance, customer, goods):
    _base(owner, finance, customer, goods)
    assert recommend_for(customer)
    assert full_scans(lambda: recommend_for(customer), small_tables=SMALL) == []


def test_earning_points_at_a_payment_reads_only_through_indexes(owner, finance, customer, goods):
    _base(owner, finance, customer, goods)
    run = lambda: points_earn_for_spend(  # noqa: E731
        customer_id=customer.pk, amount=Decimal("1000"), key="plan-check", ref="order:0"
    )
    assert full_scans(run, small_tables=SMALL) == []


def test_redeeming_points_reads_only_through_indexes(owner, finance, customer, goods):
    from guanxi.loyalty.services import points_redeem

    _base(owner, finance, customer, goods)
    run = lambda: points_redeem(  # noqa: E731
        actor=owner, customer_id=customer.pk, key="plan-check", points=10
    )
    assert full_scans(run, small_tables=SMALL) == []


def test_the_check_finds_a_query_that_reads_a_whole_table(owner, finance, customer, goods):
    from guanxi.loyalty.models import PointsEntry

    _base(owner, finance, customer, goods)
    found = full_scans(lambda: list(PointsEntry.objects.filter(note="x")), small_tables=SMALL)
    assert len(found) == 1 and found[0][1]
