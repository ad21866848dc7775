"""C3/C8: the pool's limits are exact when one salesperson claims many customers at once.

Twelve simultaneous claims by one salesperson with a daily limit of 5 give exactly 5, on
SQLite and PostgreSQL (the claimant's row is locked while the limits are counted).
"""

import pytest
from django.utils import timezone

from guanxi.core.errors import Conflict
from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.models import PoolClaim, ReceptionSettings
from tests.conftest import new_customer
from tests.races import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def pool_of(owner, org, n):
    customers = [new_customer(owner, f"池客户{i}", (f"1390000{i:04d}",)) for i in range(n)]
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
        owner=None, org_unit=org["bj"], in_pool_since=timezone.now()
    )
    return customers


def claims(actor, customers):
    return [(lambda pk=c.pk: services.pool_claim(actor=actor, customer_id=pk)) for c in customers]


def test_twelve_simultaneous_claims_give_exactly_the_daily_limit(owner, teammate, org):
    ReceptionSettings.objects.update_or_create(
        branch=org["bj"], defaults={"pool_daily_claims": 5, "pool_max_held": 50}
    )
    outcomes = run_together(*claims(teammate, pool_of(owner, org, 12)))
    won = [o for o in outcomes if isinstance(o, Customer)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(won), len(refused)) == (5, 7), outcomes
    assert {e.code for e in refused} == {"daily_limit"}
    assert PoolClaim.objects.filter(salesperson=teammate).count() == 5
    assert Customer.objects.filter(owner=teammate).count() == 5


def test_twelve_simultaneous_claims_give_exactly_the_holding_limit(owner, teammate, org):
    ReceptionSettings.objects.update_or_create(
        branch=org["bj"], defaults={"pool_daily_claims": 100, "pool_max_held": 3}
    )
    outcomes = run_together(*claims(teammate, pool_of(owner, org, 12)))
    won = [o for o in outcomes if isinstance(o, Customer)]
    assert len(won) == 3, outcomes
    assert {o.code for o in outcomes if isinstance(o, Conflict)} == {"holding_limit"}
    assert Customer.objects.filter(owner=teammate).count() == 3
