"""Twenty salespeople take a deposit on the same flat at the same instant: exactly one
deal gets it, the other nineteen hear "unit not available", and the unit's history shows
one reservation. Real threads, real transactions: SQLite serialises them with BEGIN
IMMEDIATE, on PostgreSQL the conditional UPDATE (… WHERE status = 'available') decides."""

import json

import pytest
from django.test import Client

from guanxi.core.errors import Conflict
from guanxi.core.models import Role
from guanxi.sales import services
from guanxi.sales.models import Deal, Instalment, InventoryUnit, UnitEvent
from tests.conftest import make_user, new_customer
from tests.races import run_together

from .conftest import open_deal

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 20


def assert_one_reservation(unit, winner_deal_id, deal_ids):
    unit.refresh_from_db()
    assert (unit.status, unit.deal_id) == ("reserved", winner_deal_id)
    assert UnitEvent.objects.filter(unit=unit, to_status="reserved").count() == 1
    assert UnitEvent.objects.filter(unit=unit).count() == 1
    stages = dict(Deal.objects.filter(pk__in=deal_ids).values_list("pk", "stage"))
    assert [pk for pk, stage in stages.items() if stage == "small_deposit"] == [winner_deal_id]
    assert Deal.objects.filter(unit=unit).count() == 1
    assert Instalment.objects.filter(deal_id__in=deal_ids).count() == 1


def test_twenty_deposits_on_one_unit_one_wins(owner, customer, flat):
    unit = InventoryUnit.objects.create(
        product=flat,
        code="1-0808",
        building="1",
        floor=8,
        number="0808",
        list_price=flat.list_price,
        status="available",
    )
    deals = [open_deal(owner, customer, flat, title=f"抢房 {n}") for n in range(RACERS)]

    def take(deal):
        return lambda: services.deal_take_deposit(
            actor=owner, deal_id=deal.pk, kind="small_deposit", amount="20000", unit_id=unit.pk
        )

    outcomes = run_together(*[take(d) for d in deals])
    won = [o for o in outcomes if isinstance(o, Deal)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(won), len(lost)) == (1, RACERS - 1), outcomes
    assert {e.code for e in lost} == {"unit_not_available"}
    assert {e.message for e in lost} == {"This unit is not available."}
    assert_one_reservation(unit, won[0].pk, [d.pk for d in deals])


def test_twenty_deposits_through_the_api_one_200_the_rest_409(org, owner, customer, flat):
    unit = InventoryUnit.objects.create(
        product=flat,
        code="2-1201",
        building="2",
        floor=12,
        number="1201",
        list_price=flat.list_price,
        status="available",
    )
    # Two salespeople of their own with their own customers, and 张伟's eighteen deals.
    people = [make_user(f"racer{n}", org["bj_sales"], Role.SALES) for n in range(2)]
    buyers = [new_customer(p, f"客户{n}", (f"1390000000{n}",)) for n, p in enumerate(people)]
    pairs = list(zip(people, buyers, strict=True)) + [(owner, customer)] * (RACERS - 2)
    clients, deals = [], []
    for person, buyer in pairs:
        deals.append(open_deal(person, buyer, flat, title=f"抢房 {len(deals)}"))
        client = Client()
        client.force_login(person)  # each its own login and session
        clients.append(client)

    def post(client, deal):
        def job():
            response = client.post(
                f"/api/v1/sales/deals/{deal.pk}/deposit",
                json.dumps({"kind": "small_deposit", "amount": "20000.00", "unit_id": unit.pk}),
                content_type="application/json",
            )
            return response.status_code, response.json()

        return job

    outcomes = run_together(*[post(c, d) for c, d in zip(clients, deals, strict=True)])
    statuses = sorted(o[0] if isinstance(o, tuple) else repr(o) for o in outcomes)
    assert statuses == [200] + [409] * (RACERS - 1), outcomes
    winner = next(body for status, body in outcomes if status == 200)
    refusals = [body for status, body in outcomes if status == 409]
    assert {(b["code"], b["field"]) for b in refusals} == {("unit_not_available", "unit_id")}
    assert (winner["stage"], winner["unit_id"]) == ("small_deposit", unit.pk)
    assert_one_reservation(unit, winner["id"], [d.pk for d in deals])
