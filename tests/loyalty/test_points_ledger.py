"""Loyalty points (C6): earned per amount spent or per visit by rules, redeemed for rewards
or discounts, expiring earliest first; a refund takes back exactly what its order earned
and gives back the lots it consumed; the ledger is append-only and idempotent per event."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from guanxi.core.errors import Conflict, Forbidden, ValidationFailed
from guanxi.loyalty import services
from guanxi.loyalty.listeners import on_payment
from guanxi.loyalty.models import LotUse, PointsAccount, PointsEntry, PointsLot, Reward

from .conftest import buy


def balance(customer) -> int:
    account = PointsAccount.objects.filter(customer_id=customer.pk).first()
    return account.balance if account else 0


def lots_total(customer) -> int:
    return sum(
        PointsLot.objects.filter(customer_id=customer.pk).values_list("remaining", flat=True)
    )


def ledger(customer):
    return list(
        PointsEntry.objects.filter(customer_id=customer.pk)
        .order_by("id")
        .values_list("kind", "points", "balance_after")
    )


def test_points_are_earned_per_amount_spent_when_finance_records_the_payment(
    owner, finance, customer, tv
):
    order, payment = buy(owner, finance, customer, tv, "3999.00")
    assert balance(customer) == 399  # 1 point per ¥10, rounded down
    entry = PointsEntry.objects.get(customer_id=customer.pk)
    assert (entry.key, entry.ref, entry.amount) == (
        f"payment:{payment.pk}",
        f"order:{order.pk}",
        Decimal("3999.00"),
    )
    assert lots_total(customer) == 399


def test_earning_is_idempotent_on_a_replayed_payment_event(owner, finance, customer, tv):
    _order, payment = buy(owner, finance, customer, tv, "1000.00")
    replay = {"id": payment.pk, "customer_id": customer.pk, "amount": "1000.00", "order_id": 1}
    on_payment("payment.recorded", replay)
    on_payment("payment.recorded", replay)
    assert balance(customer) == 100
    assert PointsEntry.objects.filter(customer_id=customer.pk).count() == 1


def test_points_are_earned_per_visit_once_per_visit(receptionist, customer):
    services.points_earn_visit(actor=receptionist, customer_id=customer.pk, key="V-1")
    services.points_earn_visit(actor=receptionist, customer_id=customer.pk, key="V-1")
    services.points_earn_visit(actor=receptionist, customer_id=customer.pk, key="V-2")
    assert balance(customer) == 20


def test_redeeming_for_a_reward_takes_its_price(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "3000.00")
    kettle = Reward.objects.create(name="电水壶", points=120)
    entry = services.points_redeem(
        actor=owner, customer_id=customer.pk, key="r1", reward_id=kettle.pk
    )
    assert (entry.points, entry.balance_after, balance(customer)) == (-120, 180, 180)


def test_redeeming_for_a_discount_takes_the_points_entered(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "3000.00")
    services.points_redeem(actor=owner, customer_id=customer.pk, key="d1", points="50")
    assert balance(customer) == 250


def test_a_redemption_retried_with_its_key_is_taken_once(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "3000.00")
    first = services.points_redeem(actor=owner, customer_id=customer.pk, key="k", points=100)
    again = services.points_redeem(actor=owner, customer_id=customer.pk, key="k", points=100)
    assert first.pk == again.pk and balance(customer) == 200


def test_points_expire_by_lots_earliest_expiring_first(owner, finance, customer, tv):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=700), tick=False):
        buy(owner, finance, customer, tv, "1000.00")  # 100 points, expire in 24 months
    with time_machine.travel(start - timedelta(days=100), tick=False):
        buy(owner, finance, customer, tv, "2000.00")  # 200 points, later
    # Spending 150 takes the older lot first: 100 from it, 50 from the newer.
    entry = services.points_redeem(actor=owner, customer_id=customer.pk, key="x", points=150)
    uses = list(LotUse.objects.filter(entry=entry).order_by("lot__expires_at"))
    assert [u.points for u in uses] == [100, 50]
    lots = list(PointsLot.objects.filter(customer_id=customer.pk).order_by("expires_at"))
    assert [lot.remaining for lot in lots] == [0, 150]
    # Expiry takes what remains of a lot past its date, and only that.
    with time_machine.travel(start + timedelta(days=700), tick=False):
        assert services.points_expire_due() == 1
        assert services.points_expire_due() == 0  # idempotent
    assert balance(customer) == 0 and lots_total(customer) == 0


def test_expiry_takes_only_the_lots_past_their_date(owner, finance, customer, tv):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=800), tick=False):
        buy(owner, finance, customer, tv, "1000.00")
    buy(owner, finance, customer, tv, "500.00")
    assert services.points_expire_due() == 1
    assert balance(customer) == 50
    assert [k for k, _p, _b in ledger(customer)] == ["earn", "earn", "expire"]


def test_a_refund_takes_back_exactly_what_its_order_earned(owner, finance, manager, customer, tv):
    buy(owner, finance, customer, tv, "500.00")
    order, _payment = buy(owner, finance, customer, tv, "3000.00")
    assert balance(customer) == 350
    result = services.points_refund(actor=finance, ref=f"order:{order.pk}")
    assert result == {"ref": f"order:{order.pk}", "taken_back": 300, "given_back": 0}
    assert balance(customer) == 50 and lots_total(customer) == 50


def test_a_refund_gives_back_the_lots_its_order_consumed(owner, finance, customer, tv):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=30), tick=False):
        buy(owner, finance, customer, tv, "1000.00")  # 100 points
    order, _ = buy(owner, finance, customer, tv, "2000.00")  # 200 points
    old_lot = PointsLot.objects.filter(customer_id=customer.pk).order_by("expires_at").first()
    services.points_redeem(
        actor=owner,
        customer_id=customer.pk,
        key="pay-in-points",
        points=80,
        ref=f"order:{order.pk}",
    )
    old_lot.refresh_from_db()
    assert old_lot.remaining == 20
    services.points_refund(actor=finance, ref=f"order:{order.pk}")
    old_lot.refresh_from_db()
    assert old_lot.remaining == 100  # given back to the very lot, with its own date
    assert balance(customer) == 100 == lots_total(customer)


def test_a_lost_deal_with_money_in_takes_back_its_points(owner, finance, manager, customer):
    from guanxi.sales import services as sales

    deal = sales.deal_create(actor=owner, customer_id=customer.pk, title="延保", amount="8000")
    sales.deal_take_deposit(actor=owner, deal_id=deal.pk, kind="small_deposit", amount="2000")
    sales.payment_record(
        actor=finance, deal_id=deal.pk, amount="2000", method="bank", receipt_number="DEP-1"
    )
    assert balance(customer) == 200
    change = sales.change_request(
        actor=owner, deal_id=deal.pk, kind="refund", reason="客户退订", data={}
    )
    sales.change_decide(actor=manager, change_id=change.pk, approve=True)  # 退房
    assert balance(customer) == 0
    assert [k for k, _p, _b in ledger(customer)] == ["earn", "reverse"]


# ---- bad input: a clear error, the ledger unchanged ----------------------------------------


def _unchanged(customer, before):
    assert ledger(customer) == before
    assert balance(customer) == lots_total(customer)


def test_redeeming_more_than_the_balance_is_refused(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "1000.00")
    before = ledger(customer)
    with pytest.raises(Conflict) as caught:
        services.points_redeem(actor=owner, customer_id=customer.pk, key="big", points=101)
    assert caught.value.code == "insufficient_points"
    assert caught.value.message == "Not enough points: the balance is 100."
    _unchanged(customer, before)


@pytest.mark.parametrize(
    ("points", "code"),
    [
        (-5, "not_positive"),
        (0, "not_positive"),
        ("2.5", "not_whole"),
        (2.5, "not_whole"),
        ("abc", "invalid"),
        (True, "invalid"),
    ],
)
def test_negative_zero_or_fractional_points_are_refused(owner, finance, customer, tv, points, code):
    buy(owner, finance, customer, tv, "1000.00")
    before = ledger(customer)
    with pytest.raises(ValidationFailed) as caught:
        services.points_redeem(actor=owner, customer_id=customer.pk, key="bad", points=points)
    assert (caught.value.code, caught.value.field) == (code, "points")
    _unchanged(customer, before)


def test_an_expired_reward_is_refused(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "1000.00")
    old = Reward.objects.create(
        name="中秋月饼", points=10, valid_until=timezone.localdate() - timedelta(days=1)
    )
    before = ledger(customer)
    with pytest.raises(Conflict) as caught:
        services.points_redeem(actor=owner, customer_id=customer.pk, key="m", reward_id=old.pk)
    assert caught.value.code == "reward_expired"
    _unchanged(customer, before)


def test_refunding_an_order_twice_is_refused(owner, finance, customer, tv):
    order, _ = buy(owner, finance, customer, tv, "1000.00")
    services.points_refund(actor=finance, ref=f"order:{order.pk}")
    before = ledger(customer)
    with pytest.raises(Conflict) as caught:
        services.points_refund(actor=finance, ref=f"order:{order.pk}")
    assert caught.value.code == "already_refunded"
    _unchanged(customer, before)


def test_a_refund_of_points_already_spent_is_refused_and_changes_nothing(
    owner, finance, customer, tv
):
    order, _ = buy(owner, finance, customer, tv, "1000.00")
    services.points_redeem(actor=owner, customer_id=customer.pk, key="spent", points=60)
    before = ledger(customer)
    with pytest.raises(Conflict) as caught:
        services.points_refund(actor=finance, ref=f"order:{order.pk}")
    assert caught.value.code == "insufficient_points"
    _unchanged(customer, before)


def test_a_salesperson_cannot_refund_points(owner, finance, customer, tv):
    order, _ = buy(owner, finance, customer, tv, "1000.00")
    with pytest.raises(Forbidden):
        services.points_refund(actor=owner, ref=f"order:{order.pk}")


def test_an_outsider_cannot_redeem_another_branchs_customer(outsider, owner, finance, customer, tv):
    from guanxi.core.errors import NotFound

    buy(owner, finance, customer, tv, "1000.00")
    with pytest.raises(NotFound):
        services.points_redeem(actor=outsider, customer_id=customer.pk, key="o", points=1)


# ---- the database itself refuses a negative balance ----------------------------------------


def test_a_negative_balance_is_impossible_even_by_a_direct_sql_update(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "1000.00")
    table = PointsAccount._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET balance = -1 WHERE customer_id = %s", [customer.pk])
    assert balance(customer) == 100


def test_the_ledger_is_append_only(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "1000.00")
    entry = PointsEntry.objects.get(customer_id=customer.pk)
    entry.points = 5000
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_merging_two_customers_keeps_every_point_of_both(owner, finance, customer, tv):
    from guanxi.customers.services import customer_merge
    from tests.conftest import new_customer

    twin = new_customer(owner, "张三(重复)", ("13912345678",))
    buy(owner, finance, customer, tv, "1000.00")
    buy(owner, finance, twin, tv, "500.00")
    customer_merge(actor=owner, keep_id=customer.pk, merge_id=twin.pk)
    assert balance(customer) == 150 == lots_total(customer)
    assert balance(twin) == 0
    assert [k for k, _p, _b in ledger(customer)] == ["earn", "earn", "merge"]
