"""A promise stays with the customer (SPEC C2): when a manager hands the customer to another
salesperson, the new owner reads what the previous one promised, in "my day" and on the
timeline."""

from datetime import date, timedelta

import pytest

from guanxi.customers.services import customer_reassign
from guanxi.interactions.selectors import my_day

from .helpers import NOW, log, section


@pytest.fixture
def handed_over(clock, owner, teammate, manager, customer):
    """sales1 promised a quote for 5 March, then the manager gave 张三 to sales2."""
    log(
        owner,
        customer,
        outcome="answered",
        summary="Wants the 128 GB model",
        promises=[("Send a written quote with the trade-in price", date(2026, 3, 5))],
    )
    customer_reassign(actor=manager, customer_id=customer.pk, to=teammate, reason="sales1 left")
    clock.move_to(NOW + timedelta(days=3), tick=False)  # 5 March: the promise is due
    return customer


def test_new_owner_sees_the_previous_owners_promise_in_my_day(handed_over, owner, teammate):
    promises = my_day(user=teammate).promises
    assert [(p.text, p.made_by_id, p.customer_id) for p in promises] == [
        ("Send a written quote with the trade-in price", owner.pk, handed_over.pk)
    ]
    assert my_day(user=owner).promises == []


def test_new_owner_sees_the_promise_on_the_my_day_page(handed_over, teammate, client):
    client.force_login(teammate)
    html = client.get("/my-day/").content.decode()
    promises = section(html, "promises-due")
    assert "Send a written quote with the trade-in price" in promises
    assert "张伟" in promises  # who made it


def test_new_owner_reads_the_promise_and_the_call_on_the_timeline(handed_over, teammate, client):
    client.force_login(teammate)
    html = client.get(f"/customers/{handed_over.pk}/").content.decode()
    timeline = section(html, "timeline")
    assert "Promise: Send a written quote with the trade-in price" in timeline
    assert "5 March 2026" in timeline and "not kept" not in timeline
    assert "Wants the 128 GB model" in timeline
    events = client.get(f"/api/v1/customers/{handed_over.pk}/timeline").json()
    assert {(e["kind"], e["actor"]) for e in events} >= {
        ("promise", "张伟"),
        ("interaction", "张伟"),
    }


def test_previous_owner_no_longer_sees_the_customer(handed_over, owner, client):
    client.force_login(owner)
    assert client.get(f"/customers/{handed_over.pk}/").status_code == 404


def test_new_owner_keeps_the_promise_and_the_timeline_says_who(handed_over, teammate, client):
    client.force_login(teammate)
    promise = my_day(user=teammate).promises[0]
    response = client.post(f"/promises/{promise.pk}/done/", {"next": "/my-day/"})
    assert (response.status_code, response["Location"]) == (302, "/my-day/")
    assert my_day(user=teammate).promises == []
    timeline = section(client.get(f"/customers/{handed_over.pk}/").content.decode(), "timeline")
    assert "kept 5 March 2026 by 李娜" in timeline


def test_someone_who_cannot_see_the_customer_cannot_keep_its_promise(handed_over, outsider, client):
    client.force_login(outsider)
    promise = handed_over.promises.get()
    assert client.post(f"/promises/{promise.pk}/done/").status_code == 404
    promise.refresh_from_db()
    assert promise.done_at is None
