"""The desk over JSON (/api/v1/reception/): register and receive, twice, who is next, errors."""

import pytest

from guanxi.reception.models import CreditDecision, Dispute, DutySlot, Visit

from .helpers import new_phone

API = "/api/v1/reception"


@pytest.fixture
def desk_client(client, receptionist, roster):
    client.force_login(receptionist)
    return client


def post(client, path, body):
    return client.post(f"{API}{path}", body, content_type="application/json")


def test_register_and_receive_returns_receiver_case_and_split(desk_client, trio):
    a = trio[0]
    response = post(
        desk_client, "/visits", {"phone": new_phone(), "name": "王先生", "intention": "A"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["receiver_id"], body["case_number"], body["state"]) == (a.pk, None, "received")
    assert body["credit_user_id"] == a.pk and body["via_rotation"] is True
    assert body["split"] == [{"salesperson_id": a.pk, "department_id": None, "percent": "100.00"}]


def test_case_2_over_the_api(desk_client, trio):
    a, b, _c = trio
    post(desk_client, "/visits", {"phone": new_phone(), "name": "甲"})
    post(desk_client, "/visits", {"phone": "13911110000", "name": "钱先生"})  # B
    body = post(
        desk_client, "/visits", {"phone": "13911110000", "prefers": a.pk, "refuses": b.pk}
    ).json()
    assert (body["case_number"], body["receiver_id"], body["credit_user_id"]) == (2, a.pk, a.pk)
    assert {s["salesperson_id"]: s["percent"] for s in body["split"]} == {
        a.pk: "80.00",
        b.pk: "20.00",
    }


def test_receive_twice_is_409_already_received(desk_client, trio):
    visit = post(
        desk_client, "/visits", {"phone": new_phone(), "name": "x", "receive": False}
    ).json()
    assert visit["state"] == "waiting" and visit["receiver_id"] is None
    first = post(desk_client, f"/visits/{visit['id']}/receive", {})
    assert first.status_code == 200 and first.json()["receiver_id"] == trio[0].pk
    second = post(desk_client, f"/visits/{visit['id']}/receive", {})
    assert second.status_code == 409
    assert second.json()["code"] == "already_received"
    assert CreditDecision.objects.filter(visit_id=visit["id"]).count() == 1


def test_desk_shows_next_and_after(desk_client, trio):
    a, b, c = trio
    body = desk_client.get(f"{API}/desk").json()
    assert (body["next_salesperson_id"], body["after_salesperson_id"]) == (a.pk, b.pk)
    assert [s["salesperson_id"] for s in body["slots"]] == [a.pk, b.pk, c.pk]
    post(desk_client, "/visits", {"phone": new_phone(), "name": "x"})
    body = desk_client.get(f"{API}/desk").json()
    assert (body["next_salesperson_id"], body["after_salesperson_id"]) == (b.pk, c.pk)
    assert [s["turns_taken"] for s in body["slots"]] == [1, 0, 0]


def test_slot_state_and_make_up_over_the_api(desk_client, trio):
    a, b, _c = trio
    slot = DutySlot.objects.get(salesperson=a)
    response = post(desk_client, f"/slots/{slot.pk}/state", {"state": "out"})
    assert response.status_code == 200 and response.json()["state"] == "out"
    assert (
        post(desk_client, "/visits", {"phone": new_phone(), "name": "x"}).json()["receiver_id"]
        == b.pk
    )
    post(desk_client, f"/slots/{slot.pk}/state", {"state": "on_duty"})
    desk = desk_client.get(f"{API}/desk").json()
    assert desk["next_salesperson_id"] == a.pk
    assert desk["slots"][0]["owed_turns"] == 1


def test_unknown_field_is_422(desk_client):
    response = post(desk_client, "/visits", {"phone": new_phone(), "name": "x", "vip": True})
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("unknown_field", "vip")
    assert not Visit.objects.exists()


def test_not_on_duty_is_422_and_nothing_registered(desk_client, trio):
    c = trio[2]
    post(desk_client, f"/slots/{DutySlot.objects.get(salesperson=c).pk}/state", {"state": "off"})
    response = post(desk_client, "/visits", {"phone": new_phone(), "name": "x", "prefers": c.pk})
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("not_on_duty", "prefers")
    assert not Visit.objects.exists()


def test_roster_over_the_api(desk_client, trio):
    a, b, c = trio
    response = post(desk_client, "/roster", {"salesperson_ids": [c.pk, a.pk]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next_salesperson_id"] == c.pk
    assert [(s["salesperson_id"], s["state"]) for s in body["slots"]] == [
        (c.pk, "on_duty"),
        (a.pk, "on_duty"),
        (b.pk, "off"),
    ]
    bad = post(desk_client, "/roster", {"salesperson_ids": [a.pk, a.pk]})
    assert (bad.status_code, bad.json()["code"]) == (422, "duplicate")


def test_dispute_decide_over_the_api(client, desk_client, trio, manager):
    a, b, _c = trio
    post(desk_client, "/visits", {"phone": new_phone(), "name": "甲"})
    post(desk_client, "/visits", {"phone": "13911110000", "name": "钱先生"})
    post(
        desk_client,
        "/visits",
        {"phone": "13911110000", "named": [b.pk], "refuses": b.pk, "complaint": True},
    )
    dispute = Dispute.objects.get()
    client.force_login(manager)
    url = f"{API}/disputes/{dispute.pk}/decide"
    bad = post(client, url[len(API) :], {"credit": a.pk, "split": {str(a.pk): 90}, "reason": "x"})
    assert (bad.status_code, bad.json()["code"]) == (422, "split_sum")
    ok = post(
        client, url[len(API) :], {"credit": a.pk, "split": {str(a.pk): 100}, "reason": "投诉属实"}
    )
    assert ok.status_code == 200 and ok.json()["state"] == "decided"


def test_salesperson_cannot_decide_over_the_api(client, desk_client, trio):
    a, b, _c = trio
    post(desk_client, "/visits", {"phone": "13911110000", "name": "钱先生"})
    post(
        desk_client,
        "/visits",
        {"phone": "13911110000", "named": [a.pk], "refuses": a.pk, "complaint": True},
    )
    dispute = Dispute.objects.get()
    client.force_login(b)
    response = post(
        client,
        f"/disputes/{dispute.pk}/decide",
        {"credit": b.pk, "split": {str(b.pk): 100}, "reason": "我的"},
    )
    assert response.status_code == 404


def test_anonymous_is_401(client):
    assert client.get(f"{API}/desk").status_code == 401


def test_marketer_is_403(client, marketer, roster):
    client.force_login(marketer)
    response = client.get(f"{API}/desk")
    assert response.status_code == 403
