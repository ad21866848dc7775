"""Whoever the desk or the public pool makes a customer's owner finds that customer in "My
day" on the follow-up cadence (SPEC C2, C3), counted from the moment of taking ownership,
without waiting for a first logged contact. A follow-up still ahead that comes first stays:
the most urgent wins. The business is in Shanghai; follow-ups land on their due day at the
first good slot (10:30).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from guanxi.customers.models import Customer
from guanxi.interactions import services as interactions
from guanxi.interactions.selectors import my_day
from guanxi.reception import services
from tests.conftest import new_customer

from .conftest import NOW
from .helpers import new_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _follow_up(customer) -> tuple[str | None, str]:
    customer.refresh_from_db()
    at = customer.next_follow_up_at
    return (at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else None), (
        customer.follow_up_rule
    )


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


def test_receiving_a_new_visitor_gives_the_receiver_a_first_follow_up(desk, owner, clock):
    clock.move_to(NOW, tick=False)
    visit = desk.walk_in(new_phone(), "新访客")
    customer = Customer.objects.get(pk=visit.customer_id)
    assert customer.owner_id == owner.pk  # first in the queue
    assert _follow_up(customer) == ("2026-03-16 10:30", "default")
    assert customer.follow_up_step == "Keep in touch"
    due_day = _local(2026, 3, 16, 9)
    assert [c.pk for c in my_day(user=owner, now=due_day).due_today] == [customer.pk]


def test_credit_moving_to_another_salesperson_schedules_from_the_reception(desk, trio, clock):
    """Case 2: the customer asks for B instead of A; B follows up from that visit on."""
    a, b, _c = trio
    clock.move_to(NOW, tick=False)
    phone = new_phone()
    customer = Customer.objects.get(pk=desk.walk_in(phone, "回头客").customer_id)
    assert customer.owner_id == a.pk
    interactions.interaction_log(
        actor=a, customer_id=customer.pk, kind="call_out", summary="First call"
    )
    clock.move_to(NOW + timedelta(days=20), tick=False)  # A's follow-up of 16 March lapsed
    services.roster_set(actor=desk.actor, salesperson_ids=[u.pk for u in trio])
    desk.walk_in(phone, "回头客", prefers=b.pk, refuses=a.pk)
    customer.refresh_from_db()
    assert customer.owner_id == b.pk
    assert _follow_up(customer) == ("2026-04-05 10:30", "default")


@pytest.fixture
def pooled(desk, owner, clock):
    """A customer received by A and called once; 61 days later, with no further contact,
    the sweep returns it to the pool."""
    clock.move_to(NOW, tick=False)
    customer = Customer.objects.get(pk=desk.walk_in(new_phone(), "公海客户").customer_id)
    interactions.interaction_log(
        actor=owner, customer_id=customer.pk, kind="call_out", summary="Not now"
    )
    clock.move_to(customer.protected_until + timedelta(days=1), tick=False)
    assert services.pool_sweep() == 1
    customer.refresh_from_db()
    assert customer.owner_id is None
    return customer


def test_pool_claim_schedules_the_follow_up_from_the_claim(pooled, fourth, clock):
    claimed_at = _local(2026, 5, 4, 10)
    clock.move_to(claimed_at, tick=False)
    services.pool_claim(actor=fourth, customer_id=pooled.pk)
    assert _follow_up(pooled) == ("2026-05-18 10:30", "default")
    due_day = _local(2026, 5, 18, 9)
    assert [c.pk for c in my_day(user=fourth, now=due_day).due_today] == [pooled.pk]
    assert my_day(user=fourth, now=claimed_at).overdue == []


def test_pool_claim_follows_the_relationship_type(pooled, fourth, clock):
    Customer.objects.filter(pk=pooled.pk).update(relationship="hesitant")
    clock.move_to(_local(2026, 5, 4, 10), tick=False)
    services.pool_claim(actor=fourth, customer_id=pooled.pk)
    assert _follow_up(pooled) == ("2026-05-07 10:30", "rel_hesitant")


def test_pool_sweep_clears_the_follow_up_of_a_customer_nobody_owns(pooled):
    """A's follow-up of 16 March lapsed with A; in the pool nobody is to make it."""
    assert (pooled.next_follow_up_at, pooled.follow_up_rule, pooled.follow_up_step) == (
        None,
        "",
        "",
    )


def test_pool_claim_after_a_leaver_set_a_follow_up_schedules_from_the_claim(
    desk, owner, teammate, clock
):
    """A left the company with a call set for the next day: the sweep clears it with A, and
    whoever claims the customer follows up on the cadence from the claim."""
    clock.move_to(NOW, tick=False)
    customer = Customer.objects.get(pk=desk.walk_in(new_phone(), "孤儿客户").customer_id)
    interactions.follow_up_set(
        actor=owner, customer_id=customer.pk, at=_local(2026, 3, 3, 15), note="Bring the brochure"
    )
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert services.pool_sweep() == 1
    assert _follow_up(customer) == (None, "")
    assert customer.follow_up_step == ""
    clock.move_to(_local(2026, 3, 4, 10), tick=False)
    services.pool_claim(actor=teammate, customer_id=customer.pk)
    assert _follow_up(customer) == ("2026-03-18 10:30", "default")
    assert customer.follow_up_step == "Keep in touch"


# ---- case 12: a salesperson leaves, the manager redistributes their customers ---------------


def _leavers_customers(owner, count):
    """`count` customers of A, each called once on Monday 2 March (follow-up on 16 March)."""
    customers = [new_customer(owner, f"客户{i}", phones=(new_phone(),)) for i in range(count)]
    for customer in customers:
        interactions.interaction_log(
            actor=owner, customer_id=customer.pk, kind="call_out", summary="First call"
        )
        assert _follow_up(customer) == ("2026-03-16 10:30", "default")
    return customers


def _redistribute(manager, owner, to):
    return services.redistribute(
        actor=manager,
        from_user_id=owner.pk,
        to_user_ids=[u.pk for u in to],
        method="even",
        reason="张伟调离",
    )


def test_redistribution_schedules_each_new_owners_follow_ups_from_the_redistribution(
    owner, teammate, third, manager, clock
):
    """A let the follow-ups of 16 March lapse and left on Friday 20 March: B and C each get
    14 days from that day, and start with nothing overdue."""
    clock.move_to(NOW, tick=False)
    customers = _leavers_customers(owner, 4)
    redistributed_at = _local(2026, 3, 20, 10)
    clock.move_to(redistributed_at, tick=False)
    assert _redistribute(manager, owner, [teammate, third]) == {teammate.pk: 2, third.pk: 2}
    for customer in customers:
        assert _follow_up(customer) == ("2026-04-03 10:30", "default")
        assert customer.follow_up_step == "Keep in touch"
    due_day = _local(2026, 4, 3, 9)
    for user in (teammate, third):
        mine = {c.pk for c in customers if c.owner_id == user.pk}
        assert len(mine) == 2
        assert my_day(user=user, now=redistributed_at).overdue == []
        assert {c.pk for c in my_day(user=user, now=due_day).due_today} == mine


def test_redistribution_gives_a_customer_without_a_follow_up_one(owner, teammate, manager, clock):
    clock.move_to(NOW, tick=False)
    (customer,) = _leavers_customers(owner, 1)
    Customer.objects.filter(pk=customer.pk).update(
        next_follow_up_at=None, follow_up_rule="", follow_up_step=""
    )
    clock.move_to(_local(2026, 3, 20, 10), tick=False)
    _redistribute(manager, owner, [teammate])
    assert _follow_up(customer) == ("2026-04-03 10:30", "default")
    assert customer.owner_id == teammate.pk


def test_redistribution_follows_the_relationship_type(owner, teammate, manager, clock):
    clock.move_to(NOW, tick=False)
    (customer,) = _leavers_customers(owner, 1)
    Customer.objects.filter(pk=customer.pk).update(relationship="hesitant")
    clock.move_to(_local(2026, 3, 20, 10), tick=False)
    _redistribute(manager, owner, [teammate])
    assert _follow_up(customer) == ("2026-03-23 10:30", "rel_hesitant")


def test_redistribution_keeps_an_earlier_follow_up_still_ahead(owner, teammate, manager, clock):
    """A set a call for the next afternoon before leaving: the new owner makes that call."""
    clock.move_to(NOW, tick=False)
    kept, lapsed = _leavers_customers(owner, 2)
    interactions.follow_up_set(
        actor=owner, customer_id=kept.pk, at=_local(2026, 3, 21, 15), note="Bring the brochure"
    )
    clock.move_to(_local(2026, 3, 20, 10), tick=False)
    _redistribute(manager, owner, [teammate])
    assert _follow_up(kept) == ("2026-03-21 15:00", "manual")
    assert kept.follow_up_step == "Bring the brochure"
    assert _follow_up(lapsed) == ("2026-04-03 10:30", "default")
    assert {kept.owner_id, lapsed.owner_id} == {teammate.pk}
