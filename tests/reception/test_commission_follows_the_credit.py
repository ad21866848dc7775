"""Commission is settled for whoever holds the credit at settlement (SPEC C3, issue 11 item 2).

A customer received at the desk by A (张伟) holds A's credit. After a redistribution, a pool
claim, a dispute decision or a manager's reassignment, the next deal's commission goes to the
new holder, never to the leaver or the owner who let the customer lapse. A credit that lapsed
to the public pool pays nobody, and a customer back from the pool is a new claim, not case 8.
"""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.customers.services import customer_reassign
from guanxi.reception import services
from guanxi.reception.models import CreditDecision
from guanxi.sales import services as sales
from guanxi.sales.models import CommissionEntry, Product
from tests.sales.conftest import open_deal, pay, to_contract, to_subscription

from .helpers import new_phone

AMOUNT = "10000.00"  # 1 % commission: ¥100.00


@pytest.fixture
def product(db):
    return Product.objects.create(name="延保服务", sku="EXT-2Y", list_price=D("399.00"))


@pytest.fixture
def a_customer(desk, trio):
    """A new visitor, received by A in turn: A owns it and holds the credit."""
    visit = desk.walk_in(new_phone(), "周先生")
    customer = Customer.objects.get(pk=visit.customer_id)
    assert (customer.owner_id, customer.credit_holder_id) == (trio[0].pk, trio[0].pk)
    return customer


def sell(actor, customer, product, finance):
    """A deal for `customer`, opened, signed and paid in full; its commission lines."""
    deal = open_deal(actor, customer, product, amount=AMOUNT)
    to_contract(actor, deal, amount=AMOUNT)
    pay(finance, deal, AMOUNT)
    return ledger(deal)


def ledger(deal):
    return {
        (e.salesperson_id, e.department_id): (e.percent, e.amount)
        for e in CommissionEntry.objects.filter(deal=deal)
    }


def test_without_a_change_the_desk_receiver_is_paid(a_customer, trio, product, finance):
    a = trio[0]
    assert sell(a, a_customer, product, finance) == {(a.pk, None): (D("100"), D("100.00"))}


def test_after_a_redistribution_the_new_owner_is_paid_not_the_leaver(
    a_customer, trio, manager, product, finance
):
    a, b, _c = trio
    # A's deal was under way when A left; the manager signs it, finance takes the money.
    deal = open_deal(a, a_customer, product, amount=AMOUNT)
    to_subscription(a, deal, amount=AMOUNT)
    services.redistribute(
        actor=manager, from_user_id=a.pk, to_user_ids=[b.pk], method="even", reason="张伟离职"
    )
    assert Customer.objects.get(pk=a_customer.pk).credit_holder_id == b.pk
    sales.deal_move(actor=manager, deal_id=deal.pk, to_stage="contract")
    pay(finance, deal, AMOUNT)
    assert ledger(deal) == {(b.pk, None): (D("100"), D("100.00"))}


def test_after_a_manual_reassignment_the_new_owner_is_paid(
    a_customer, trio, manager, product, finance
):
    _a, _b, c = trio
    customer_reassign(actor=manager, customer_id=a_customer.pk, to=c, reason="客户要求")
    customer = Customer.objects.get(pk=a_customer.pk)
    assert sell(c, customer, product, finance) == {(c.pk, None): (D("100"), D("100.00"))}


def test_after_a_dispute_decision_the_decided_split_is_paid(
    a_customer, trio, manager, product, finance
):
    a, b, _c = trio
    dispute = services.dispute_open(
        actor=manager, customer_id=a_customer.pk, description="两人都说先接待", party_ids=[a.pk]
    )
    services.dispute_decide(
        actor=manager,
        dispute_id=dispute.pk,
        credit=b.pk,
        split={b.pk: "70", a.pk: "30"},
        reason="录像显示李娜先接待",
    )
    customer = Customer.objects.get(pk=a_customer.pk)
    assert (customer.owner_id, customer.credit_holder_id) == (b.pk, b.pk)
    assert sell(b, customer, product, finance) == {
        (b.pk, None): (D("70"), D("70.00")),
        (a.pk, None): (D("30"), D("30.00")),
    }


def lapse(customer, clock):
    """The protection ends with no documented contact: the sweep returns it to the pool."""
    clock.move_to(customer.protected_until + timedelta(days=1), tick=False)
    assert services.pool_sweep() >= 1


def test_after_a_pool_claim_the_claimer_is_paid_not_the_owner_who_let_it_lapse(
    a_customer, trio, fourth, product, finance, clock
):
    customer = Customer.objects.get(pk=a_customer.pk)
    lapse(customer, clock)
    services.pool_claim(actor=fourth, customer_id=customer.pk)
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.owner_id, customer.credit_holder_id) == (fourth.pk, fourth.pk)
    # The desk's decision for A is still the current one on file; it no longer holds.
    assert CreditDecision.objects.get(customer=customer, is_current=True).credit_user_id == (
        trio[0].pk
    )
    assert sell(fourth, customer, product, finance) == {(fourth.pk, None): (D("100"), D("100.00"))}


def test_a_credit_that_lapsed_to_the_pool_pays_nobody(
    a_customer, trio, manager, product, finance, clock
):
    a = trio[0]
    deal = open_deal(a, a_customer, product, amount=AMOUNT)
    to_subscription(a, deal, amount=AMOUNT)
    lapse(Customer.objects.get(pk=a_customer.pk), clock)
    sales.deal_move(actor=manager, deal_id=deal.pk, to_stage="contract")
    pay(finance, deal, AMOUNT)
    assert ledger(deal) == {}
    assert not CommissionEntry.objects.filter(salesperson=a).exists()


def test_a_customer_back_from_the_pool_is_a_new_claim_not_case_8(desk, trio, clock):
    a, b, c = trio
    phone = new_phone()
    first = desk.walk_in(phone, "吴女士")
    customer = Customer.objects.get(pk=first.customer_id)
    assert first.receiver_id == a.pk
    lapse(customer, clock)
    services.roster_set(actor=desk.actor, salesperson_ids=[b.pk, c.pk, a.pk])
    # Back on a later day, she designates C: were it a return, A's earlier visit would earn
    # A half the commission (case 8). A's claim lapsed: it is a new visitor's claim.
    again = desk.walk_in(phone, prefers=c.pk)
    decision = CreditDecision.objects.get(visit=again)
    assert again.case_number != 8
    assert a.pk not in set(decision.shares.values_list("salesperson_id", flat=True))
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.credit_holder_id == again.receiver_id != a.pk
    assert timezone.now() <= customer.protected_until
