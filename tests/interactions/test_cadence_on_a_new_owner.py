"""Cadence rules (SPEC C2) when a manager hands a customer to another salesperson (C3 case 12).

The new owner finds the customer in "My day" on the cadence the rules give, counted from the
moment of the reassignment, unless a follow-up still ahead comes first: the most urgent wins,
as when a relationship type changes. The clock stands at Monday 2026-03-02 10:00 in Shanghai;
follow-ups land on their due day at the first good slot (10:30).
"""

from datetime import timedelta

from guanxi.customers.services import customer_reassign
from guanxi.interactions import services
from guanxi.interactions.selectors import my_day
from tests.conftest import new_customer

from .helpers import NOW, follow_up, local, log


def _reassign(manager, customer, to):
    return customer_reassign(actor=manager, customer_id=customer.pk, to=to, reason="sales1 left")


def test_reassignment_schedules_the_new_owners_follow_up_from_the_reassignment(
    clock, owner, teammate, manager
):
    """The previous owner let the follow-up of 16 March lapse; the new one gets 14 days."""
    customer = new_customer(owner)
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-16 10:30", "default")
    clock.move_to(NOW + timedelta(days=18), tick=False)  # Friday 20 March
    _reassign(manager, customer, teammate)
    assert follow_up(customer) == ("2026-04-03 10:30", "default")
    assert customer.follow_up_step == "Keep in touch"


def test_reassignment_follow_up_follows_the_relationship_type(clock, owner, teammate, manager):
    customer = new_customer(owner, relationship="hesitant")
    log(owner, customer)
    clock.move_to(NOW + timedelta(days=10), tick=False)  # Thursday 12 March, overdue
    _reassign(manager, customer, teammate)
    assert follow_up(customer) == ("2026-03-15 10:30", "rel_hesitant")


def test_reassignment_puts_the_customer_in_the_new_owners_day(clock, owner, teammate, manager):
    customer = new_customer(owner)
    services.follow_up_set(actor=owner, customer_id=customer.pk, at=local(2026, 4, 20, 15))
    _reassign(manager, customer, teammate)
    due_day = NOW + timedelta(days=14)
    assert [c.pk for c in my_day(user=teammate, now=due_day).due_today] == [customer.pk]
    assert my_day(user=owner, now=due_day).due_today == []


def test_reassignment_brings_a_later_follow_up_forward(clock, owner, teammate, manager):
    customer = new_customer(owner)
    services.follow_up_set(actor=owner, customer_id=customer.pk, at=local(2026, 4, 20, 15))
    _reassign(manager, customer, teammate)
    assert follow_up(customer) == ("2026-03-16 10:30", "default")


def test_reassignment_keeps_an_earlier_follow_up_still_ahead(clock, owner, teammate, manager):
    """The most urgent wins: what the previous owner set for 4 March stays for the new one."""
    customer = new_customer(owner)
    services.follow_up_set(
        actor=owner, customer_id=customer.pk, at=local(2026, 3, 4, 15), note="Send the quote"
    )
    _reassign(manager, customer, teammate)
    assert follow_up(customer) == ("2026-03-04 15:00", "manual")
    assert customer.follow_up_step == "Send the quote"


def test_reassignment_of_a_customer_never_to_follow_up_sets_none(clock, owner, teammate, manager):
    customer = new_customer(owner, relationship="never")
    _reassign(manager, customer, teammate)
    assert follow_up(customer) == (None, "rel_never")
