"""Two receptionists press "next" at the same moment; two salespeople race for one pool
customer. Real threads and real transactions: SQLite serialises them with BEGIN IMMEDIATE,
PostgreSQL with row locks (the roster row, the customer row)."""

import pytest
from django.utils import timezone

from guanxi.core.errors import Conflict
from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.models import DutyRoster, PoolClaim, TurnSkip, Visit
from tests.races import run_together

from .helpers import new_phone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_receptionist(org):
    from guanxi.core.models import Role
    from tests.conftest import make_user

    return make_user("reception2", org["bj"], Role.RECEPTIONIST)


def walk_in_job(actor):
    def job():
        registration = services.Registration(phone=new_phone(), name="同时来的客人")
        return services.visit_register_and_receive(actor=actor, registration=registration)

    return job


def test_two_receptionists_press_next_at_once_get_two_salespeople(
    receptionist, second_receptionist, roster, trio
):
    outcomes = run_together(walk_in_job(receptionist), walk_in_job(second_receptionist))
    assert all(isinstance(o, Visit) for o in outcomes), outcomes
    assert {o.receiver_id for o in outcomes} == {trio[0].pk, trio[1].pk}
    roster = DutyRoster.objects.get(pk=roster.pk)
    slots = list(roster.slots.order_by("position"))
    assert sum(s.turns_taken for s in slots) == 2
    assert [s.turns_taken for s in slots] == [1, 1, 0]
    assert roster.next_position == 2
    assert Visit.objects.filter(state="received").count() == 2


def test_many_walk_ins_from_two_desks_keep_the_queue_balanced(
    receptionist, second_receptionist, roster, trio
):
    rounds = 6

    def burst(actor):
        def job():
            return [walk_in_job(actor)() for _ in range(rounds)]

        return job

    outcomes = run_together(burst(receptionist), burst(second_receptionist))
    assert all(isinstance(o, list) for o in outcomes), outcomes
    visits = [v for batch in outcomes for v in batch]
    assert len({v.pk for v in visits}) == 2 * rounds
    roster = DutyRoster.objects.get(pk=roster.pk)
    taken = [s.turns_taken for s in roster.slots.order_by("position")]
    assert taken == [4, 4, 4]
    assert roster.next_position == 0
    # In the order they were received, the receivers follow the queue exactly.
    order = list(Visit.objects.order_by("received_at", "pk").values_list("receiver_id", flat=True))
    assert order == [u.pk for u in trio] * 4
    assert not TurnSkip.objects.exists()


def test_two_salespeople_claim_the_same_pool_customer_one_wins(owner, teammate, third, org):
    from tests.conftest import new_customer

    customer = new_customer(owner, "周先生", ("13944440000",))
    Customer.objects.filter(pk=customer.pk).update(
        owner=None, org_unit=org["bj"], in_pool_since=timezone.now()
    )

    def claim(actor):
        return lambda: services.pool_claim(actor=actor, customer_id=customer.pk)

    outcomes = run_together(claim(teammate), claim(third))
    won = [o for o in outcomes if isinstance(o, Customer)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    assert lost[0].code == "already_claimed"
    customer.refresh_from_db()
    assert customer.owner_id == won[0].owner_id and customer.owner_id in (teammate.pk, third.pk)
    assert PoolClaim.objects.count() == 1


def test_a_hundred_visitors_from_two_desks_give_everyone_the_same_count(
    receptionist, second_receptionist, trio, org
):
    """Issue 11: two receptionists assign 100 new visitors at once: four salespeople receive
    25 each, nobody twice in a row out of turn, no visitor twice."""
    from guanxi.core.models import Role
    from tests.conftest import make_user

    fourth = make_user("sales5", org["bj_sales"], Role.SALES)
    people = [*trio, fourth]
    services.roster_set(actor=receptionist, salesperson_ids=[u.pk for u in people])

    def burst(actor):
        def job():
            return [walk_in_job(actor)() for _ in range(50)]

        return job

    outcomes = run_together(burst(receptionist), burst(second_receptionist), timeout=600)
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert len({v.pk for batch in outcomes for v in batch}) == 100
    roster = DutyRoster.objects.get(branch=org["bj"], date=timezone.localdate())
    assert [s.turns_taken for s in roster.slots.order_by("position")] == [25, 25, 25, 25]
    order = list(Visit.objects.order_by("received_at", "pk").values_list("receiver_id", flat=True))
    assert order == [u.pk for u in people] * 25
