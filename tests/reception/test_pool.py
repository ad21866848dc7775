"""The public pool (公海): lapsed and orphaned customers return to it, salespeople claim from
it within limits, the previous owner waits out a cooling-off time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.core.errors import Conflict, Forbidden, NotFound
from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.models import PoolClaim
from guanxi.reception.ownership import protection_end_after
from guanxi.reception.rules import Protection
from guanxi.reception.selectors import pool_customers

from .helpers import new_phone


@pytest.fixture
def lapsed(desk, trio, clock):
    """Three customers received by A, B and C; then 61 days pass with no contact."""
    visits = [desk.walk_in(new_phone(), f"客户{i}") for i in range(3)]
    customers = [Customer.objects.get(pk=v.customer_id) for v in visits]
    clock.move_to(customers[0].protected_until + timedelta(days=1), tick=True)
    return customers


def test_sweep_moves_lapsed_customers_to_the_branch_pool(lapsed, trio, org):
    assert services.pool_sweep() == 3
    for customer, previous in zip(lapsed, trio, strict=True):
        customer.refresh_from_db()
        assert customer.owner_id is None and customer.in_pool_since is not None
        assert customer.org_unit_id == org["bj"].pk
        assert customer.pool_previous_owner_id == previous.pk
        assert customer.pool_cooling_until > timezone.now()
    entries = AuditEntry.objects.filter(verb="customer.to_pool")
    assert sorted(entries.values_list("target_id", flat=True)) == sorted(c.pk for c in lapsed)


def test_sweep_is_idempotent(lapsed):
    assert services.pool_sweep() == 3
    assert services.pool_sweep() == 0
    assert AuditEntry.objects.filter(verb="customer.to_pool").count() == 3


def test_documented_contact_within_protection_keeps_the_customer(lapsed, clock):
    kept = lapsed[0]
    Customer.objects.filter(pk=kept.pk).update(last_contact_at=timezone.now() - timedelta(days=5))
    assert services.pool_sweep() == 2
    kept.refresh_from_db()
    assert kept.owner_id is not None and kept.in_pool_since is None


def test_sweep_moves_customers_of_a_salesperson_who_left(desk, trio):
    a, _b, _c = trio
    visit = desk.walk_in(new_phone(), "孤儿客户")
    a.is_active = False
    a.save(update_fields=["is_active"])
    assert services.pool_sweep() == 1  # still within protection, but nobody to follow up
    customer = Customer.objects.get(pk=visit.customer_id)
    assert customer.owner_id is None and customer.pool_previous_owner_id == a.pk


def test_sweep_leaves_shanghai_customers_in_shanghai(outsider, org, clock):
    from tests.conftest import new_customer

    sh = new_customer(outsider, "上海客户", ("13955550000",))
    Customer.objects.filter(pk=sh.pk).update(protected_until=timezone.now() - timedelta(days=1))
    assert services.pool_sweep() == 1
    sh.refresh_from_db()
    assert sh.org_unit_id == org["sh"].pk and sh.owner_id is None


def test_pool_lists_only_the_viewers_branch(lapsed, teammate, outsider):
    services.pool_sweep()
    assert {c.pk for c in pool_customers(teammate)} == {c.pk for c in lapsed}
    assert pool_customers(outsider) == []


def test_claim_starts_a_new_protection_period(lapsed, fourth):
    services.pool_sweep()
    customer = services.pool_claim(actor=fourth, customer_id=lapsed[0].pk)
    customer.refresh_from_db()
    assert customer.owner_id == fourth.pk and customer.in_pool_since is None
    # A new period of the default 2 calendar months, from the claim.
    assert customer.protected_until == protection_end_after(timezone.now(), Protection())
    assert customer.pool_previous_owner_id is None
    assert PoolClaim.objects.filter(customer=customer, salesperson=fourth).exists()
    assert AuditEntry.objects.filter(verb="customer.pool_claim", target_id=customer.pk).exists()
    with pytest.raises(Conflict) as exc:
        services.pool_claim(actor=fourth, customer_id=customer.pk)
    assert exc.value.code == "already_claimed"


def test_daily_claim_limit(lapsed, fourth, manager, org):
    services.settings_update(actor=manager, branch_id=org["bj"].pk, values={"pool_daily_claims": 2})
    services.pool_sweep()
    services.pool_claim(actor=fourth, customer_id=lapsed[0].pk)
    services.pool_claim(actor=fourth, customer_id=lapsed[1].pk)
    with pytest.raises(Conflict) as exc:
        services.pool_claim(actor=fourth, customer_id=lapsed[2].pk)
    assert exc.value.code == "daily_limit"
    assert Customer.objects.get(pk=lapsed[2].pk).owner_id is None


def test_daily_limit_resets_the_next_day(lapsed, fourth, manager, org, clock):
    services.settings_update(actor=manager, branch_id=org["bj"].pk, values={"pool_daily_claims": 1})
    services.pool_sweep()
    services.pool_claim(actor=fourth, customer_id=lapsed[0].pk)
    clock.move_to(timezone.now() + timedelta(days=1), tick=True)
    services.pool_claim(actor=fourth, customer_id=lapsed[1].pk)
    assert PoolClaim.objects.filter(salesperson=fourth).count() == 2


def test_holding_limit(lapsed, fourth, manager, org):
    services.settings_update(actor=manager, branch_id=org["bj"].pk, values={"pool_max_held": 1})
    services.pool_sweep()
    services.pool_claim(actor=fourth, customer_id=lapsed[0].pk)
    with pytest.raises(Conflict) as exc:
        services.pool_claim(actor=fourth, customer_id=lapsed[1].pk)
    assert exc.value.code == "holding_limit"


def test_previous_owner_cools_off_before_reclaiming(lapsed, trio, clock):
    a, _b, _c = trio
    services.pool_sweep()
    with pytest.raises(Conflict) as exc:
        services.pool_claim(actor=a, customer_id=lapsed[0].pk)
    assert exc.value.code == "cooling_off"
    # Someone else may take it meanwhile; after 30 days the previous owner may too.
    clock.move_to(timezone.now() + timedelta(days=31), tick=True)
    customer = services.pool_claim(actor=a, customer_id=lapsed[0].pk)
    assert customer.owner_id == a.pk


def test_only_salespeople_of_the_branch_claim(lapsed, receptionist, outsider):
    services.pool_sweep()
    with pytest.raises(Forbidden):
        services.pool_claim(actor=receptionist, customer_id=lapsed[0].pk)
    with pytest.raises(NotFound):
        services.pool_claim(actor=outsider, customer_id=lapsed[0].pk)


def test_an_owned_customer_cannot_be_claimed(desk, teammate):
    visit = desk.walk_in(new_phone(), "有主客户")
    with pytest.raises(Conflict) as exc:
        services.pool_claim(actor=teammate, customer_id=visit.customer_id)
    assert exc.value.code == "already_claimed"
