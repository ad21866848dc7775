"""The points balance has one home: loyalty's own account row, kept in the transaction of
each ledger line. The customer record carries no copy that could go stale (the former
`Customer.points_balance` column is gone), so what the customer page and the API show is
the ledger's sum after every kind of change."""

import re
from datetime import timedelta

import time_machine
from django.db.models import Sum
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.loyalty import services
from guanxi.loyalty.models import PointsAccount, PointsEntry, PointsLot

from .conftest import buy


def ledger_sum(customer) -> int:
    return PointsEntry.objects.filter(customer_id=customer.pk).aggregate(s=Sum("points"))["s"] or 0


def shown(client, customer) -> tuple[int, int]:
    """The balance on the customer page's points panel and in the API."""
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    match = re.search(r'id="loyalty-balance">([\d,]+)<', page)
    assert match, "the points panel shows a balance"
    api = client.get(f"/api/v1/loyalty/customers/{customer.pk}").json()["balance"]
    return int(match.group(1).replace(",", "")), api


def assert_consistent(client, customer, expected: int) -> None:
    lots = PointsLot.objects.filter(customer_id=customer.pk).aggregate(s=Sum("remaining"))["s"]
    account = PointsAccount.objects.get(customer_id=customer.pk).balance
    assert (ledger_sum(customer), lots or 0, account) == (expected, expected, expected)
    assert shown(client, customer) == (expected, expected)


def test_the_customer_record_keeps_no_copy_of_the_points_balance():
    names = {f.name for f in Customer._meta.get_fields()}
    assert "points_balance" not in names


def test_the_shown_balance_equals_the_ledger_after_earn_redeem_refund_and_expiry(
    client, owner, finance, customer, tv
):
    client.force_login(owner)
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=800), tick=False):
        buy(owner, finance, customer, tv, "1000.00")  # earn 100, expires before today
    assert_consistent(client, customer, 100)
    order, _payment = buy(owner, finance, customer, tv, "3000.00")  # earn 300
    assert_consistent(client, customer, 400)
    services.points_redeem(actor=owner, customer_id=customer.pk, key="gift", points=50)
    assert_consistent(client, customer, 350)  # the 50 came from the oldest lot
    services.points_refund(actor=finance, ref=f"order:{order.pk}")  # takes back the 300
    assert_consistent(client, customer, 50)
    assert services.points_expire_due() == 1  # the old lot's remaining 50
    assert_consistent(client, customer, 0)


def test_the_shown_balance_equals_the_ledger_after_a_merge(client, owner, finance, customer, tv):
    from guanxi.customers.services import customer_merge
    from tests.conftest import new_customer

    other = new_customer(owner, "张三（重复）", ("13900001111",))
    buy(owner, finance, customer, tv, "1000.00")
    buy(owner, finance, other, tv, "2000.00")
    customer_merge(actor=owner, keep_id=customer.pk, merge_id=other.pk)
    client.force_login(owner)
    assert_consistent(client, customer, 300)
