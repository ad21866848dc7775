"""One current credit decision per customer (issue #10 item 7): commission settles from
"the" current decision, so two would pay twice or pay the wrong person. The database holds
it — a partial unique index on SQLite and PostgreSQL — whatever code writes a decision."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from guanxi.reception.models import CreditDecision
from guanxi.reception.ownership import credit_record
from guanxi.reception.rules import Decision
from tests.conftest import new_customer
from tests.races import run_together


def _decision(user) -> Decision:
    return Decision(case=1, receiver=user.pk, credit=user.pk, split={user.pk: Decimal("100")})


@pytest.mark.django_db
def test_a_second_current_decision_is_refused_by_the_database(owner, teammate):
    customer = new_customer(owner, "王五", ())
    CreditDecision.objects.create(customer=customer, explanation="a", credit_user=owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditDecision.objects.create(customer=customer, explanation="b", credit_user=teammate)
    CreditDecision.objects.create(
        customer=customer, explanation="history", credit_user=teammate, is_current=False
    )
    assert CreditDecision.objects.filter(customer=customer, is_current=True).count() == 1


@pytest.mark.django_db
def test_a_new_decision_replaces_the_current_one(owner, teammate):
    customer = new_customer(owner, "赵六", ())
    now = timezone.now()
    for person in (owner, teammate, owner):
        with transaction.atomic():
            credit_record(
                customer=customer,
                visit=None,
                decision=_decision(person),
                actor=None,
                now=now,
                protection_days=60,
            )
    current = CreditDecision.objects.filter(customer=customer, is_current=True)
    assert list(current.values_list("credit_user_id", flat=True)) == [owner.pk]
    assert CreditDecision.objects.filter(customer=customer).count() == 3


@pytest.mark.django_db(transaction=True)
def test_decisions_written_at_once_leave_one_current(owner, teammate):
    customer = new_customer(owner, "钱七", ())
    now = timezone.now()

    def decide(person):
        def run():
            with transaction.atomic():
                return credit_record(
                    customer=customer,
                    visit=None,
                    decision=_decision(person),
                    actor=None,
                    now=now,
                    protection_days=60,
                )

        return run

    outcomes = run_together(*(decide(p) for p in (owner, teammate, owner, teammate)))
    assert all(isinstance(o, CreditDecision) for o in outcomes), outcomes  # none refused
    assert CreditDecision.objects.filter(customer=customer, is_current=True).count() == 1
