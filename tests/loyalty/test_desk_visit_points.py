# ruff: noqa: F811  (the reception fixtures are imported to drive the desk)
"""Points per visit (C6: "earned per amount spent or per visit by rules"): a visitor received
at the reception desk earns the visit rules' points, once per visit, although reception
knows nothing of loyalty: loyalty follows reception's `visit.received` event (core.events).
"""

from django.db.models import Sum

from guanxi.core.audit import AuditEntry
from guanxi.core.events import event_dispatch
from guanxi.loyalty.models import EarningRule, PointsAccount, PointsEntry
from guanxi.reception.models import Visit
from tests.reception.conftest import clock, desk, roster, third, trio  # noqa: F401


def balance(customer_id: int) -> int:
    account = PointsAccount.objects.filter(customer_id=customer_id).first()
    return account.balance if account else 0


def test_a_visit_recorded_at_the_desk_earns_the_visit_points(client, receptionist, roster):
    client.force_login(receptionist)
    client.post("/reception/", {"phone": "139 1111 0000", "name": "冯先生"})
    visit = Visit.objects.get()
    assert visit.receiver_id is not None
    entry = PointsEntry.objects.get(customer_id=visit.customer_id)
    assert (entry.kind, entry.points, entry.key) == ("earn", 10, f"visit:desk:{visit.pk}")
    assert balance(visit.customer_id) == 10
    audit = AuditEntry.objects.get(verb="points.earn_visit")
    assert (audit.target_id, audit.changes["visit"]) == (visit.customer_id, [None, visit.pk])


def test_a_desk_visit_earns_once_even_if_the_event_is_delivered_twice(desk):
    visit = desk.walk_in(name="冯先生")
    payload = {"id": visit.pk, "customer_id": visit.customer_id, "kind": "visit"}
    event_dispatch("visit.received", payload)  # the same event delivered again …
    event_dispatch("visit.received", payload)  # … and again
    assert PointsEntry.objects.filter(customer_id=visit.customer_id).count() == 1
    assert balance(visit.customer_id) == 10


def test_each_visit_of_a_returning_customer_earns_its_own_points(desk):
    first = desk.walk_in(phone="13911110000", name="冯先生")
    again = desk.walk_in(phone="13911110000")
    assert again.customer_id == first.customer_id
    assert balance(first.customer_id) == 20
    assert PointsEntry.objects.filter(customer_id=first.customer_id).aggregate(s=Sum("points"))[
        "s"
    ] == balance(first.customer_id)


def test_a_phone_call_earns_no_visit_points(desk):
    call = desk.walk_in(name="冯先生", kind="call")
    assert not PointsEntry.objects.filter(customer_id=call.customer_id).exists()


def test_a_visit_earns_nothing_when_no_rule_gives_points_for_a_visit(desk):
    EarningRule.objects.filter(kind="visit").update(active=False)
    visit = desk.walk_in(name="冯先生")
    assert visit.state == Visit.State.RECEIVED  # the desk works as before
    assert not PointsEntry.objects.filter(customer_id=visit.customer_id).exists()


def test_the_visit_points_show_on_the_customer_points_page(client, desk, owner):
    visit = desk.walk_in(name="冯先生")
    client.force_login(owner)  # the receiver: 张伟 is first in the queue
    page = client.get(f"/loyalty/customers/{visit.customer_id}/").content.decode()
    assert "Visit at the desk" in page


def test_the_manual_visit_button_refuses_a_visit_the_desk_already_rewarded(client, desk):
    visit = desk.walk_in(name="冯先生")
    client.force_login(desk.actor)
    response = client.post(
        f"/api/v1/loyalty/customers/{visit.customer_id}/visits",
        {"key": "manual-1"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "visit_already_earned"
    assert balance(visit.customer_id) == 10
