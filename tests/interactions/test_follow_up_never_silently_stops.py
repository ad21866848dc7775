"""Follow-up never silently stops (SPEC C2, issue 11 item 9).

- Logging a call can set the customer's relationship type in the same form (owner or
  manager), and the cadence of the new type applies at once.
- A customer with an open promise or a deal in progress always has a next follow-up: when
  the user leaves it empty, the service sets one — no later than the promise's due day, and
  even when the relationship type says "never" or the rules are switched off. (A serious CRM
  does not refuse to record a call because a date is missing; it schedules.)
- A promise that is not yet due is never labelled as broken (未兑现).
"""

from datetime import date

import pytest

from guanxi.core.models import AuditEntry
from guanxi.customers.services import customer_update
from guanxi.interactions.models import CadenceRule
from guanxi.interactions.timeline import promise_events

from .helpers import follow_up, local, log

pytestmark = pytest.mark.usefixtures("clock")


def set_relationship(owner, customer, value):
    customer_update(actor=owner, customer_id=customer.pk, data={"relationship": value})


def test_a_positive_call_sets_the_relationship_type_in_the_same_form(client, owner, customer):
    client.force_login(owner)
    html = client.get(f"/customers/{customer.pk}/log/").content.decode()
    assert 'name="relationship"' in html
    response = client.post(
        f"/customers/{customer.pk}/log/",
        {
            "kind": "call_out",
            "outcome": "answered",
            "summary": "很感兴趣，周末带家人来看",
            "relationship": "interested",
        },
    )
    assert response.status_code == 200 and 'id="logged"' in response.content.decode()
    customer.refresh_from_db()
    assert customer.relationship == "interested"
    # The new type's cadence: interested → 7 days after this contact, at a good slot.
    assert follow_up(customer) == ("2026-03-09 10:30", CadenceRule.Code.INTERESTED)
    entry = AuditEntry.objects.filter(verb="customer.update", target_id=customer.pk).latest("id")
    assert entry.changes["relationship"][1] == "interested"


def test_the_relationship_type_is_set_over_the_api_too(client, owner, customer):
    client.force_login(owner)
    response = client.post(
        f"/api/v1/customers/{customer.pk}/interactions",
        {"kind": "call_out", "outcome": "answered", "summary": "犹豫", "relationship": "hesitant"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["follow_up_rule"] == CadenceRule.Code.HESITANT
    customer.refresh_from_db()
    assert customer.relationship == "hesitant"


def test_an_unknown_relationship_type_is_refused_on_its_field(client, owner, customer):
    client.force_login(owner)
    response = client.post(
        f"/api/v1/customers/{customer.pk}/interactions",
        {"kind": "call_out", "summary": "x", "relationship": "maybe"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "relationship" in response.content.decode()


def test_only_the_owner_or_a_manager_sets_the_relationship_type(client, receptionist, customer):
    client.force_login(receptionist)
    html = client.get(f"/customers/{customer.pk}/log/").content.decode()
    assert 'name="relationship"' not in html
    response = client.post(
        f"/api/v1/customers/{customer.pk}/interactions",
        {"kind": "call_in", "summary": "来电咨询", "relationship": "never"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["field"] == "relationship"
    customer.refresh_from_db()
    assert customer.relationship == ""


def test_an_open_promise_gives_a_never_customer_a_follow_up_on_its_due_day(owner, customer):
    """The review's case: an answered call with a promise, on a customer typed 无意向 (never),
    left the follow-up empty ("不主动跟进")."""
    set_relationship(owner, customer, "never")
    assert follow_up(customer)[0] is None
    log(owner, customer, outcome="answered", promises=[("发报价单", date(2026, 3, 5))])
    assert follow_up(customer) == ("2026-03-05 10:30", "promise")
    customer.refresh_from_db()
    assert customer.follow_up_step  # says why: keep the promise


def test_a_promise_brings_the_follow_up_forward(owner, customer):
    set_relationship(owner, customer, "not_now")  # 30 days
    log(owner, customer, outcome="answered", promises=[("寄资料", date(2026, 3, 4))])
    assert follow_up(customer) == ("2026-03-04 10:30", "promise")


def test_a_promise_logged_on_a_note_still_schedules_a_follow_up(owner, customer):
    set_relationship(owner, customer, "never")
    log(owner, customer, kind="note", promises=[("回电", date(2026, 3, 6))])
    assert follow_up(customer) == ("2026-03-06 10:30", "promise")


def test_a_note_with_a_promise_brings_a_later_follow_up_forward_and_keeps_an_earlier_one(
    owner, customer
):
    set_relationship(owner, customer, "not_now")  # 30 days
    log(owner, customer, kind="note", promises=[("回电", date(2026, 3, 6))])
    assert follow_up(customer) == ("2026-03-06 10:30", "promise")
    log(owner, customer, kind="note", promises=[("寄资料", date(2026, 3, 20))])
    assert follow_up(customer) == ("2026-03-06 10:30", "promise")  # the earlier one stays


def test_a_deal_in_progress_keeps_a_follow_up_when_the_type_says_never(owner, customer, deal_facts):
    deal_facts[customer.pk] = {"open_deal": True}
    set_relationship(owner, customer, "never")
    log(owner, customer, outcome="answered")
    assert follow_up(customer) == ("2026-03-09 10:30", CadenceRule.Code.UNSIGNED_DEAL)


def test_a_deal_in_progress_keeps_a_follow_up_when_the_rules_are_switched_off(
    owner, customer, deal_facts
):
    for code in (CadenceRule.Code.UNSIGNED_DEAL, CadenceRule.Code.DEFAULT):
        CadenceRule.objects.update_or_create(code=code, defaults={"days": None})
    deal_facts[customer.pk] = {"open_deal": True}
    set_relationship(owner, customer, "never")
    log(owner, customer, outcome="answered")
    assert follow_up(customer)[0] == "2026-03-09 10:30"  # 7 days, the built-in fallback


def test_without_promise_or_deal_never_still_means_no_follow_up(owner, customer):
    set_relationship(owner, customer, "never")
    log(owner, customer, outcome="answered")
    assert follow_up(customer) == (None, CadenceRule.Code.NEVER)


def test_a_promise_not_yet_due_is_not_labelled_as_broken(owner, customer, clock):
    log(owner, customer, outcome="answered", promises=[("发报价单", date(2026, 3, 5))])

    def badges():
        return next(e.badges for e in promise_events(customer=customer, viewer=owner, limit=5))

    assert badges() == ["not yet due"]
    clock.move_to(local(2026, 3, 5, 9), tick=False)
    assert badges() == ["due today"]
    clock.move_to(local(2026, 3, 6, 9), tick=False)
    assert badges() == ["overdue promise"]


def test_the_customer_page_in_chinese_does_not_call_a_promise_ahead_broken(
    client, owner, customer, settings
):
    settings.LANGUAGE_CODE = "zh-hans"
    log(owner, customer, outcome="answered", promises=[("发报价单", date(2026, 3, 5))])
    client.force_login(owner)
    html = client.get(
        f"/customers/{customer.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "发报价单" in html
    assert "未兑现" not in html and "未到期" in html


def test_my_day_labels_promises_due_today_and_overdue(client, owner, customer, clock):
    log(owner, customer, outcome="answered", promises=[("今天回电", date(2026, 3, 2))])
    log(owner, customer, outcome="answered", promises=[("送样品", date(2026, 3, 3))])
    clock.move_to(local(2026, 3, 3, 9), tick=False)
    client.force_login(owner)
    html = client.get("/my-day/").content.decode()
    promises = html.split('id="promises-due"')[1].split("</ul>")[0]
    today_row = promises.split("送样品")[1].split("</li>")[0]
    overdue_row = promises.split("今天回电")[1].split("</li>")[0]
    assert "due today" in today_row and "overdue" not in today_row
    assert "overdue promise" in overdue_row
