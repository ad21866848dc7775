"""Two people register the same phone at the same moment: one record gets it, never two."""

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.customers.services import customer_create
from tests.races import run_together


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_the_same_phone_leave_one_customer_with_it(owner, teammate):
    def register(actor, name):
        return lambda: customer_create(
            actor=actor, data={"name": name}, phones=["13812345678"], allow_similar=True
        )

    outcomes = run_together(register(owner, "张三"), register(teammate, "张叁"))

    created = [o for o in outcomes if isinstance(o, Customer)]
    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert (len(created), len(refused)) == (1, 1), outcomes
    assert (refused[0].code, refused[0].field) == ("duplicate_phone", "phones")
    assert list(CustomerPhone.objects.values_list("customer_id", "number")) == [
        (created[0].pk, "+8613812345678")
    ]
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_opposite_household_links_at_once_both_finish_without_deadlock(manager, owner):
    """A links B while B links A: the rows are locked in id order, so one waits for the
    other instead of each holding one lock and waiting for the other's (PostgreSQL would
    abort one with "deadlock detected"). Several rounds, each on a fresh pair."""
    from guanxi.customers.services import household_link
    from tests.conftest import new_customer

    def link(first, second):
        return lambda: household_link(actor=manager, customer_id=first, member_id=second)

    for round_ in range(5):
        a = new_customer(owner, f"甲{round_}", ())
        b = new_customer(owner, f"乙{round_}", ())
        outcomes = run_together(link(a.pk, b.pk), link(b.pk, a.pk))
        # Any failure, a deadlock included, is the finding.
        assert [o for o in outcomes if isinstance(o, Exception)] == []
        a.refresh_from_db()
        b.refresh_from_db()
        assert a.household_id is not None and a.household_id == b.household_id
