"""The interactions API (SPEC C2, C8): log a touch, with errors as JSON carrying a stable
`code` and the offending `field`; visibility answers 404, roles that do not log answer 403."""

from datetime import datetime

import pytest

from guanxi.interactions.models import Interaction, Promise

from .helpers import local


def url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/interactions"


def post(client, customer, **payload):
    body = {"kind": "call_out", "summary": "Discussed the trade-in", **payload}
    return client.post(url(customer), body, content_type="application/json")


def test_log_a_call_with_a_promise(clock, client, owner, customer):
    client.force_login(owner)
    response = post(
        client,
        customer,
        outcome="answered",
        next_step="Send the quote",
        promises=[{"text": "Quote by Thursday", "due_date": "2026-03-05"}],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["outcome"], body["actor_id"], body["follow_up_rule"]) == (
        "call_out",
        "answered",
        owner.pk,
        "promise",
    )
    # The open promise brings the follow-up to its due day (the default rule says 03-16).
    assert datetime.fromisoformat(body["next_follow_up_at"]) == local(2026, 3, 5, 10, 30)
    assert Promise.objects.get().text == "Quote by Thursday"


def test_time_without_an_offset_is_shanghai_time(clock, client, owner, customer):
    client.force_login(owner)
    response = post(client, customer, occurred_at="2026-03-02T09:15:00")
    assert response.status_code == 201, response.content
    assert Interaction.objects.get().occurred_at == local(2026, 3, 2, 9, 15)


def test_user_set_follow_up_through_the_api(clock, client, owner, customer):
    client.force_login(owner)
    response = post(client, customer, next_follow_up_at="2026-03-10T16:00:00+08:00")
    body = response.json()
    assert (datetime.fromisoformat(body["next_follow_up_at"]), body["follow_up_rule"]) == (
        local(2026, 3, 10, 16),
        "manual",
    )


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"kind": "visit", "outcome": "answered"}, "not_a_call", "outcome"),
        ({"occurred_at": "2026-03-02T12:00:00+08:00"}, "future", "occurred_at"),
        ({"promises": [{"text": "Call back", "due_date": "2026-03-01"}]}, "past_date", "promises"),
        ({"colour": "red"}, "unknown_field", "colour"),
        ({"kind": "fax"}, "enum", "kind"),
        ({"summary": " "}, "required", "summary"),
    ],
)
def test_bad_input_is_422_with_code_and_field(clock, client, owner, customer, payload, code, field):
    client.force_login(owner)
    response = post(client, customer, **payload)
    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["field"]) == (code, field)
    assert not Interaction.objects.exists()


def test_outsider_gets_404_like_a_missing_customer(clock, client, outsider, customer):
    client.force_login(outsider)
    hidden = post(client, customer)
    missing = client.post(
        f"/api/v1/customers/{customer.pk + 1000}/interactions",
        {"kind": "call_out", "summary": "x"},
        content_type="application/json",
    )
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    assert hidden.status_code == 404


def test_marketer_gets_403(clock, client, marketer, customer):
    client.force_login(marketer)
    response = post(client, customer)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_anonymous_gets_401(client, customer):
    assert post(client, customer).status_code == 401


def test_timeline_and_promise_done_through_the_api(clock, client, owner, customer):
    client.force_login(owner)
    post(client, customer, promises=[{"text": "Quote by Thursday", "due_date": "2026-03-05"}])
    events = client.get(f"/api/v1/customers/{customer.pk}/timeline").json()
    assert {e["kind"] for e in events} >= {"interaction", "promise"}
    only_promises = client.get(f"/api/v1/customers/{customer.pk}/timeline?kind=promise").json()
    assert [e["title"] for e in only_promises] == ["Promise: Quote by Thursday"]
    promise = Promise.objects.get()
    done = client.post(f"/api/v1/promises/{promise.pk}/done").json()
    assert done["done_at"] is not None


def test_my_day_api_is_per_user(clock, client, owner, teammate, customer):
    client.force_login(owner)
    post(client, customer, next_follow_up_at="2026-03-02T16:00:00+08:00")
    assert [r["customer_id"] for r in client.get("/api/v1/my-day").json()["due_today"]] == [
        customer.pk
    ]
    client.force_login(teammate)
    assert client.get("/api/v1/my-day").json()["due_today"] == []
