"""Bad ids never cause a 500 (issue 11, "what it must show"; issue 12 item 5): unknown, huge
(2^63) or foreign user ids in `named`, `salesperson_ids` and every id field of the reception
and sales APIs give a 4xx naming the field."""

import pytest

from guanxi.reception.models import Visit

from .helpers import new_phone

HUGE = 2**63
UNKNOWN = 987654


@pytest.fixture
def desk_client(client, receptionist, roster):
    client.force_login(receptionist)
    return client


def call(client, method, path, body=None):
    if method == "get":
        return client.get(f"/api/v1{path}")
    return getattr(client, method)(f"/api/v1{path}", body or {}, content_type="application/json")


@pytest.mark.parametrize("bad", [HUGE, UNKNOWN, -1, 0, "outsider", "manager"])
@pytest.mark.parametrize("field", ["named", "prefers", "refuses", "event_assignee", "assistant"])
def test_a_visitor_names_only_salespeople_of_the_branch(
    desk_client, trio, outsider, manager, field, bad
):
    bad = {"outsider": outsider.pk, "manager": manager.pk}.get(bad, bad)
    value = [bad] if field == "named" else bad
    response = call(
        desk_client, "post", "/reception/visits", {"phone": new_phone(), "name": "王", field: value}
    )
    assert response.status_code in (404, 422), response.content
    # A list's item is named with its index: "named.0".
    assert response.json()["field"].split(".")[0] == field
    assert not Visit.objects.exists()


ROUTES = [
    ("post", "/reception/roster", {"salesperson_ids": [HUGE]}, "salesperson_ids"),
    ("get", f"/reception/desk?branch_id={HUGE}", None, "branch_id"),
    ("post", f"/reception/slots/{HUGE}/state", {"state": "out"}, "slot_id"),
    ("post", f"/reception/visits/{HUGE}/receive", {}, "visit_id"),
    ("post", "/reception/visits", {"phone": "13900000000", "branch_id": HUGE}, "branch_id"),
    (
        "post",
        f"/reception/disputes/{HUGE}/decide",
        {"credit": 1, "split": {"1": "100"}, "reason": "x"},
        "dispute_id",
    ),
    ("post", f"/reception/pool/{HUGE}/claim", None, "customer_id"),
    ("post", "/reception/redistribute", {"from_user_id": HUGE, "to_user_ids": [1]}, "from_user_id"),
    ("post", "/reception/redistribute", {"from_user_id": 1, "to_user_ids": [HUGE]}, "to_user_ids"),
    ("post", "/sales/deals", {"customer_id": HUGE, "title": "x"}, "customer_id"),
    ("post", "/sales/deals", {"customer_id": 1, "title": "x", "product_id": HUGE}, "product_id"),
    ("get", f"/sales/deals/{HUGE}", None, "deal_id"),
    ("post", f"/sales/deals/{HUGE}/move", {"stage": "needs"}, "deal_id"),
    ("post", f"/sales/deals/{HUGE}/deposit", {"kind": "small_deposit", "amount": "1"}, "deal_id"),
    ("post", f"/sales/deals/{HUGE}/agreement", None, "deal_id"),
    ("post", f"/sales/agreements/{HUGE}/amend", {"changes": {}, "reason": "x"}, "agreement_id"),
    ("get", f"/sales/agreements/{HUGE}/pdf", None, "agreement_id"),
    ("post", "/sales/quotes", {"customer_id": HUGE, "product_id": 1, "price": "1"}, "customer_id"),
    ("post", f"/sales/quotes/{HUGE}/approve", None, "quote_id"),
    ("post", f"/sales/deals/{HUGE}/changes", {"kind": "refund", "reason": "x"}, "deal_id"),
    ("post", f"/sales/changes/{HUGE}/decide?approve=true", None, "change_id"),
    ("post", f"/sales/units/{HUGE}/release", None, "unit_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), ROUTES)
def test_a_huge_id_is_a_4xx_naming_the_field(client, manager, method, path, body, field):
    client.force_login(manager)
    response = call(client, method, path, body)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    body = response.json()
    if response.status_code == 422:
        assert body["field"].split(".")[0] == field
