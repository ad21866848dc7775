"""The balance can never go negative, whatever the concurrency (C6): twenty redemptions of
the last points at the same instant, real threads and transactions: exactly the affordable
ones succeed, the rest hear "not enough points", and the balance equals the lots' sum.
SQLite serialises the writers (BEGIN IMMEDIATE); on PostgreSQL the conditional UPDATE
(… WHERE balance >= n) on the one balance row decides."""

import json

import pytest
from django.test import Client

from guanxi.core.errors import Conflict
from guanxi.loyalty import services
from guanxi.loyalty.models import PointsAccount, PointsEntry, PointsLot
from tests.races import run_together

from .conftest import buy

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 20


def _state(customer):
    balance = PointsAccount.objects.get(customer_id=customer.pk).balance
    lots = sum(
        PointsLot.objects.filter(customer_id=customer.pk).values_list("remaining", flat=True)
    )
    return balance, lots


def test_twenty_redemptions_of_the_last_points_only_the_affordable_succeed(
    owner, finance, customer, tv
):
    buy(owner, finance, customer, tv, "1000.00")  # 100 points, in one lot
    buy(owner, finance, customer, tv, "100.00")  # 10 more, in another: 110 in all

    def redeem(n):
        return lambda: services.points_redeem(
            actor=owner, customer_id=customer.pk, key=f"race-{n}", points=30
        )

    outcomes = run_together(*[redeem(n) for n in range(RACERS)])
    won = [o for o in outcomes if isinstance(o, PointsEntry)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(won), len(lost)) == (3, RACERS - 3), outcomes
    assert {e.code for e in lost} == {"insufficient_points"}
    assert _state(customer) == (20, 20)
    assert PointsEntry.objects.filter(customer_id=customer.pk, kind="redeem").count() == 3


def test_twenty_redemptions_through_the_api_one_201_the_rest_409(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "100.00")  # exactly 10 points
    clients = []
    for _n in range(RACERS):
        client = Client()
        client.force_login(owner)
        clients.append(client)

    def post(client, n):
        def job():
            response = client.post(
                f"/api/v1/loyalty/customers/{customer.pk}/redemptions",
                json.dumps({"key": f"api-{n}", "points": 10}),
                content_type="application/json",
            )
            return response.status_code, response.json()[
                "balance_after" if response.status_code == 201 else "code"
            ]

        return job

    outcomes = run_together(*[post(c, n) for n, c in enumerate(clients)])
    assert sorted(outcomes, key=repr) == sorted(
        [(201, 0)] + [(409, "insufficient_points")] * (RACERS - 1), key=repr
    ), outcomes
    assert _state(customer) == (0, 0)


def test_the_same_redemption_sent_twenty_times_at_once_is_taken_once(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "1000.00")

    def redeem():
        return services.points_redeem(actor=owner, customer_id=customer.pk, key="dup", points=30)

    outcomes = run_together(*[redeem] * RACERS)
    assert all(isinstance(o, PointsEntry) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert _state(customer) == (70, 70)
