"""Points expiry, set-based (C6): the pass expires due lots in batches, a handful of
statements per batch whatever its size, earliest-expiring first, each lot once — on a
rerun, with two passes at once, and with a redemption racing it — and the balance always
equals the lots' remaining points."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.core.errors import Conflict
from guanxi.loyalty import services
from guanxi.loyalty.models import LotUse, PointsAccount, PointsEntry, PointsLot
from tests.conftest import new_customer
from tests.races import run_together

from .conftest import buy


def _state(customer) -> tuple[int, int]:
    balance = PointsAccount.objects.get(customer_id=customer.pk).balance
    lots = sum(
        PointsLot.objects.filter(customer_id=customer.pk).values_list("remaining", flat=True)
    )
    return balance, lots


def _history(owner, finance, customers, tv, start):
    """Per customer: lots of 10, 20 and 30 points bought 800, 760 and 740 days ago (due),
    and one of 50 bought 10 days ago (not due)."""
    for customer in customers:
        for days, amount in ((800, "100.00"), (760, "200.00"), (740, "300.00"), (10, "500.00")):
            with time_machine.travel(start - timedelta(days=days), tick=False):
                buy(owner, finance, customer, tv, amount)


@pytest.mark.django_db
def test_expiry_pass_expires_each_due_lot_once_in_batches(owner, finance, customer, tv):
    other = new_customer(owner, "李四", ("13900002222",))
    start = timezone.now()
    _history(owner, finance, [customer, other], tv, start)
    due = list(
        PointsLot.objects.filter(expires_at__lte=start)
        .order_by("expires_at", "id")
        .values_list("pk", flat=True)
    )
    assert len(due) == 6
    assert services.points_expire_due(batch=4) == 6  # two batches: 4, then 2
    assert services.points_expire_due(batch=4) == 0  # a rerun finds nothing
    expired = list(PointsEntry.objects.filter(kind="expire").order_by("id"))
    # One line per lot, keyed by the lot, earliest-expiring first.
    assert [e.key for e in expired] == [f"expire:{pk}" for pk in due]
    for person in (customer, other):
        lines = [(e.points, e.balance_after) for e in expired if e.customer_id == person.pk]
        # Each line carries the balance after it: 110 − 10, − 20, − 30.
        assert lines == [(-10, 100), (-20, 80), (-30, 50)]
        assert _state(person) == (50, 50)
    # The lots say which debit emptied them, as any other debit's do.
    assert sorted(LotUse.objects.filter(entry__kind="expire").values_list("lot_id", "points")) == [
        (pk, PointsLot.objects.get(pk=pk).points) for pk in sorted(due)
    ]
    assert not PointsLot.objects.filter(pk__in=due, remaining__gt=0).exists()


@pytest.mark.django_db
def test_expiry_pass_statements_do_not_grow_with_the_lots_in_a_batch(owner, finance, tv):
    start = timezone.now()
    people = [new_customer(owner, f"客户{n}", (f"1390000{n:04d}",)) for n in range(4)]
    _history(owner, finance, people, tv, start)
    with CaptureQueriesContext(connection) as twelve:
        assert services.points_expire_due(batch=100) == 12
    # Not per lot: the batch's reads and locks, the ledger lines, their lot uses, the
    # balances, the lots, then the empty read that ends the pass (and the savepoints).
    statements = [q for q in twelve.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 8, [q["sql"][:80] for q in statements]


@pytest.mark.django_db
def test_a_lot_given_back_by_a_refund_after_its_date_expires_again(owner, finance, customer, tv):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=800), tick=False):
        buy(owner, finance, customer, tv, "1000.00")  # 100 points, due
    with time_machine.travel(start - timedelta(days=760), tick=False):
        order, _payment = buy(owner, finance, customer, tv, "5.00")  # no points
        services.points_redeem(
            actor=owner,
            customer_id=customer.pk,
            key="paid-in-points",
            points=40,
            ref=f"order:{order.pk}",
        )
    assert services.points_expire_due() == 1  # the 60 left of the old lot
    services.points_refund(actor=finance, ref=f"order:{order.pk}")  # the 40 come back, late
    assert _state(customer) == (40, 40)
    assert services.points_expire_due() == 1
    assert services.points_expire_due() == 0
    old = PointsLot.objects.filter(customer_id=customer.pk).order_by("expires_at").first()
    keys = list(
        PointsEntry.objects.filter(kind="expire", uses__lot=old)
        .order_by("id")
        .values_list("key", "points")
    )
    assert keys == [(f"expire:{old.pk}", -60), (f"expire:{old.pk}:2", -40)]
    assert _state(customer) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_two_expiry_passes_at_once_expire_each_lot_once(owner, finance, tv):
    start = timezone.now()
    people = [new_customer(owner, f"客户{n}", (f"1390001{n:04d}",)) for n in range(3)]
    _history(owner, finance, people, tv, start)
    outcomes = run_together(
        lambda: services.points_expire_due(batch=2), lambda: services.points_expire_due(batch=2)
    )
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 9, outcomes
    assert PointsEntry.objects.filter(kind="expire").count() == 9
    assert LotUse.objects.filter(entry__kind="expire").count() == 9
    for person in people:
        assert _state(person) == (50, 50)


@pytest.mark.django_db(transaction=True)
def test_a_redemption_racing_the_expiry_never_spends_expired_points(owner, finance, customer, tv):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=800), tick=False):
        buy(owner, finance, customer, tv, "1000.00")  # 100 points, due
    buy(owner, finance, customer, tv, "300.00")  # 30 points, not due

    def redeem():
        return services.points_redeem(actor=owner, customer_id=customer.pk, key="race", points=120)

    outcomes = run_together(services.points_expire_due, redeem)
    expired, redeemed = outcomes
    if isinstance(redeemed, Conflict):  # the expiry came first: 30 left, 120 refused
        assert (expired, redeemed.code, _state(customer)) == (1, "insufficient_points", (30, 30))
    else:  # the redemption came first: it took 100 from the due lot, 20 from the other
        assert isinstance(redeemed, PointsEntry), outcomes
        assert (expired, _state(customer)) == (0, (10, 10))
    # Never both: what the lots lost is what the ledger took off, and nothing below zero.
    lost = sum(e.points for e in PointsEntry.objects.filter(customer_id=customer.pk))
    assert lost == _state(customer)[0] >= 0
