"""Disputes are first-class and the credit is readable (issue 11 item 7): open one by hand,
list and filter them, read the pool, the branch's settings and a customer's credit holder."""

from datetime import timedelta

import pytest

from guanxi.customers.models import Customer
from guanxi.reception import services

from .helpers import new_phone

API = "/api/v1/reception"


@pytest.fixture
def received(desk, trio):
    return desk.walk_in(new_phone(), "郑先生")


def post(client, path, body):
    return client.post(f"{API}{path}", body, content_type="application/json")


def test_a_manager_opens_lists_filters_and_decides_a_dispute(client, manager, trio, received):
    a, b, _c = trio
    client.force_login(manager)
    opened = post(
        client,
        "/disputes",
        {
            "customer_id": received.customer_id,
            "description": "两人都说接待过",
            "party_ids": [a.pk, b.pk],
        },
    )
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert (body["state"], sorted(body["party_ids"])) == ("open", sorted([a.pk, b.pk]))
    listed = client.get(f"{API}/disputes", {"state": "open"}).json()
    assert [d["id"] for d in listed] == [body["id"]]
    assert client.get(f"{API}/disputes", {"state": "decided"}).json() == []
    decided = post(
        client,
        f"/disputes/{body['id']}/decide",
        {"credit": b.pk, "split": {str(b.pk): "100"}, "reason": "客户确认"},
    )
    assert decided.json()["state"] == "decided"
    credit = client.get(f"{API}/customers/{received.customer_id}/credit").json()
    assert (credit["owner_id"], credit["credit_holder_id"]) == (b.pk, b.pk)
    assert credit["split"] == [{"salesperson_id": b.pk, "department_id": None, "percent": "100.00"}]


def test_parties_are_salespeople_of_the_branch(client, manager, outsider, received):
    client.force_login(manager)
    for bad in ([outsider.pk], [2**63], [manager.pk]):
        response = post(
            client,
            "/disputes",
            {"customer_id": received.customer_id, "description": "x", "party_ids": bad},
        )
        assert response.status_code == 422 and response.json()["field"].startswith("party_ids")


def test_another_branchs_manager_sees_neither_the_disputes_nor_the_credit(
    client, manager, sh_manager, received
):
    services.dispute_open(actor=manager, customer_id=received.customer_id, description="x")
    client.force_login(sh_manager)
    assert client.get(f"{API}/disputes").json() == []
    assert client.get(f"{API}/customers/{received.customer_id}/credit").status_code == 404


def test_pool_and_settings_over_the_api(client, teammate, manager, received, clock):
    customer = Customer.objects.get(pk=received.customer_id)
    clock.move_to(customer.protected_until + timedelta(days=1), tick=False)
    services.pool_sweep()
    client.force_login(teammate)
    pool = client.get(f"{API}/pool").json()
    assert [row["customer_id"] for row in pool] == [customer.pk]
    settings = client.get(f"{API}/settings").json()
    assert settings["protection_days"] == 60 and settings["splits"]["case2_receiver_pct"] == "80.00"
    client.force_login(manager)
    credit = client.get(f"{API}/customers/{customer.pk}/credit").json()
    assert (credit["owner_id"], credit["credit_holder_id"], credit["split"]) == (None, None, [])
