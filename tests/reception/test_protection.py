"""The protection period (建档有效期) counted in days, at its boundary.

A branch that counts 60 days (protection_months = 0; the default, 2 calendar months, is in
test_protection_default_two_calendar_months.py): a customer received at T is protected until
exactly T + 60 days: the claim holds while
now <= protected_until, so on the day of expiry it holds up to that very instant and lapses
one second later. Tested the day before, at the instant, one second after and the day after.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.models import CreditDecision

PHONE = "13911110000"


@pytest.fixture(autouse=True)
def counts_days(manager, org):
    services.settings_update(actor=manager, branch_id=org["bj"].pk, values={"protection_months": 0})


@pytest.fixture
def received(desk, trio):
    """张先生, received at T by A in turn; B is next."""
    visit = desk.walk_in(PHONE, "张先生")
    customer = Customer.objects.get(pk=visit.customer_id)
    assert customer.owner_id == trio[0].pk
    return visit, customer


def test_first_reception_protects_for_exactly_sixty_days(received):
    visit, customer = received
    assert customer.protected_until == visit.received_at + timedelta(days=60)
    assert customer.claim_is_valid(customer.protected_until)
    assert not customer.claim_is_valid(customer.protected_until + timedelta(microseconds=1))


def _the_next_day_at(clock, desk, instant, order):
    clock.move_to(instant, tick=False)
    services.roster_set(actor=desk.actor, salesperson_ids=[u.pk for u in order])


BOUNDARY = [
    pytest.param(-timedelta(days=1), True, id="day-before"),
    pytest.param(timedelta(0), True, id="the-instant-it-ends"),
    pytest.param(timedelta(seconds=1), False, id="one-second-after"),
    pytest.param(timedelta(days=1), False, id="day-after"),
]


@pytest.mark.parametrize(("offset", "protected"), BOUNDARY)
def test_returning_customer_at_the_boundary(received, desk, trio, clock, offset, protected):
    a, b, c = trio
    _, customer = received
    # B is first in the day's queue, A (the owner) is present too.
    _the_next_day_at(clock, desk, customer.protected_until + offset, [b, c, a])
    again = desk.walk_in(PHONE)
    customer.refresh_from_db()
    if protected:
        assert (again.case_number, again.receiver_id, customer.owner_id) == (1, a.pk, a.pk)
    else:
        # Lapsed: the rotation receives, without taking a turn, and the receiver owns anew.
        assert (again.case_number, again.receiver_id, again.via_rotation) == (None, b.pk, False)
        assert customer.owner_id == b.pk
        assert customer.protected_until == again.received_at + timedelta(days=60)
    assert desk.slots()[b.pk].turns_taken == 0


@pytest.mark.parametrize(("offset", "protected"), BOUNDARY)
def test_case_2_split_at_the_boundary(received, desk, trio, clock, offset, protected):
    a, b, c = trio
    _, customer = received
    _the_next_day_at(clock, desk, customer.protected_until + offset, [a, b, c])
    # The customer does not want A (the earlier receiver) and asks for B.
    visit = desk.walk_in(PHONE, prefers=b.pk, refuses=a.pk)
    decision = CreditDecision.objects.get(visit=visit)
    shares = {s.salesperson_id: s.percent for s in decision.shares.all()}
    assert (visit.case_number, decision.credit_user_id) == (2, b.pk)
    if protected:
        assert shares == {b.pk: Decimal(80), a.pk: Decimal(20)}
    else:
        assert shares == {b.pk: Decimal(100)}


@pytest.mark.parametrize(("offset", "protected"), BOUNDARY)
def test_pool_sweep_at_the_boundary(received, clock, offset, protected):
    _, customer = received
    clock.move_to(customer.protected_until + offset, tick=False)
    assert services.pool_sweep() == (0 if protected else 1)
    customer.refresh_from_db()
    assert (customer.owner_id is None) == (not protected)


def test_configured_protection_period_is_used(received, desk, trio, manager, clock):
    _a, _b, _c = trio
    branch = desk.roster().branch
    services.settings_update(actor=manager, branch_id=branch.pk, values={"protection_days": 10})
    visit = desk.walk_in("13922220000", "李女士")  # B's turn
    customer = Customer.objects.get(pk=visit.customer_id)
    assert customer.protected_until == visit.received_at + timedelta(days=10)


def test_a_deal_settles_ownership_beyond_protection(received, desk, trio, clock):
    from django.utils import timezone

    a, b, c = trio
    _, customer = received
    Customer.objects.filter(pk=customer.pk).update(ownership_settled_at=timezone.now())
    _the_next_day_at(clock, desk, customer.protected_until + timedelta(days=200), [b, c, a])
    again = desk.walk_in(PHONE)
    assert (again.case_number, again.receiver_id) == (1, a.pk)
    assert services.pool_sweep() == 0


def test_salespersons_own_record_is_protected_from_its_creation(desk, trio, clock):
    """A customer a salesperson typed in (a phone enquiry) before any desk visit: its
    registration starts the period, written down at creation."""
    from tests.conftest import new_customer

    a, b, c = trio
    own = new_customer(c, "孙先生", ("13933330000",))
    assert own.owner_id == c.pk
    assert own.protected_until == own.created_at + timedelta(days=60)
    visit = desk.walk_in("13933330000")
    own.refresh_from_db()
    assert (visit.case_number, visit.receiver_id, own.owner_id) == (1, c.pk, c.pk)
    assert own.protected_until == own.created_at + timedelta(days=60)
    assert desk.slots()[c.pk].turns_taken == 0

    _the_next_day_at(clock, desk, own.protected_until + timedelta(days=1), [a, b, c])
    later = desk.walk_in("13933330000")
    assert (later.case_number, later.receiver_id) == (None, a.pk)
