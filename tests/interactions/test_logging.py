"""Logging a touch (SPEC C2): last contact and next follow-up move together, in one
transaction; a note is not a contact; a follow-up the user sets wins over the rules."""

from datetime import date, timedelta

import pytest

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.core.models import AuditEntry
from guanxi.interactions import services
from guanxi.interactions.models import Interaction, Promise

from .helpers import NOW, follow_up, local, log, set_fields


def test_log_updates_last_contact_and_next_follow_up(clock, owner, customer):
    interaction = log(owner, customer, outcome="answered", next_step="Send the brochure")
    customer.refresh_from_db()
    assert (interaction.occurred_at, customer.last_contact_at) == (NOW, NOW)
    assert follow_up(customer) == ("2026-03-16 10:30", "default")
    assert customer.follow_up_step == "Send the brochure"


def test_log_is_one_transaction(clock, owner, customer, monkeypatch):
    """If rescheduling fails, the interaction, its promises and the last contact are all
    rolled back: nothing half-written."""

    def broken(*args, **kwargs):
        raise RuntimeError("scheduler down")

    scheduled = customer.next_follow_up_at  # the first follow-up, set at creation
    monkeypatch.setattr(services, "schedule_follow_up", broken)
    with pytest.raises(RuntimeError):
        log(owner, customer, promises=[("Send a quote", date(2026, 3, 5))])
    customer.refresh_from_db()
    assert (Interaction.objects.count(), Promise.objects.count()) == (0, 0)
    assert (customer.last_contact_at, customer.next_follow_up_at) == (None, scheduled)


def test_a_note_does_not_count_as_contact(clock, owner, customer):
    pending = local(2026, 3, 4, 15, 0)
    set_fields(customer, next_follow_up_at=pending, follow_up_rule="default")
    log(owner, customer, kind="note", summary="Heard from a neighbour he is moving house")
    customer.refresh_from_db()
    assert customer.last_contact_at is None
    assert customer.next_follow_up_at == pending
    assert Interaction.objects.filter(customer=customer, kind="note").count() == 1


def test_every_other_kind_counts_as_contact(clock, owner, customer):
    for kind in ("call_in", "visit", "meeting", "email", "sms", "wechat", "card", "gift"):
        set_fields(customer, last_contact_at=None)
        log(owner, customer, kind=kind)
        customer.refresh_from_db()
        assert customer.last_contact_at == NOW, kind


def test_user_set_next_follow_up_wins(clock, owner, customer, deal_facts):
    deal_facts[customer.pk] = {"open_deal": True, "about_to_sign": True}  # rules: in 2 days
    chosen = local(2026, 3, 12, 16, 0)
    log(owner, customer, next_follow_up_at=chosen, next_step="He is travelling until the 12th")
    customer.refresh_from_db()
    assert (customer.next_follow_up_at, customer.follow_up_rule) == (chosen, "manual")
    assert customer.follow_up_step == "He is travelling until the 12th"
    assert customer.last_contact_at == NOW


def test_follow_up_lands_on_a_good_slot_of_its_due_day(clock, owner, customer, deal_facts):
    """A call at 19:40 is followed up 7 days later at 10:30, not at 19:40."""
    clock.move_to(local(2026, 3, 2, 19, 40), tick=False)
    deal_facts[customer.pk] = {"open_deal": True}
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-09 10:30", "unsigned_deal")


def test_follow_up_due_now_after_the_days_last_slot_moves_to_tomorrow(
    clock, owner, customer, deal_facts
):
    clock.move_to(local(2026, 3, 2, 18, 30), tick=False)
    set_fields(customer, stage="customer")
    deal_facts[customer.pk] = {"deliveries_since_contact": 3}
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-03 10:30", "long_term")


def test_an_older_touch_does_not_move_last_contact_back(clock, owner, customer):
    log(owner, customer)
    log(owner, customer, kind="visit", occurred_at=NOW - timedelta(days=3), summary="Backfilled")
    customer.refresh_from_db()
    assert customer.last_contact_at == NOW


def test_promises_are_recorded_with_the_touch(clock, owner, customer):
    interaction = log(
        owner,
        customer,
        promises=[
            ("Send the price list", date(2026, 3, 3)),
            ("Ask about a discount", date(2026, 3, 6)),
        ],
    )
    rows = list(Promise.objects.order_by("due_date").values_list("text", "due_date", "made_by"))
    assert rows == [
        ("Send the price list", date(2026, 3, 3), owner.pk),
        ("Ask about a discount", date(2026, 3, 6), owner.pk),
    ]
    assert set(interaction.promises.values_list("customer", flat=True)) == {customer.pk}


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"kind": "visit", "outcome": "answered"}, "outcome", "not_a_call"),
        ({"occurred_at": NOW + timedelta(hours=1)}, "occurred_at", "future"),
        ({"promises": [("Call back", date(2026, 3, 1))]}, "promises", "past_date"),
        ({"promises": [("", date(2026, 3, 3))]}, "promises", "required"),
        ({"summary": "  "}, "summary", "required"),
        ({"kind": "fax"}, "kind", "invalid_choice"),
        ({"next_follow_up_at": NOW - timedelta(days=1)}, "next_follow_up_at", "past_date"),
    ],
)
def test_invalid_touch_is_refused_and_nothing_is_written(
    clock, owner, customer, kwargs, field, code
):
    with pytest.raises(ValidationFailed) as caught:
        log(owner, customer, **kwargs)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert not Interaction.objects.exists()


def test_a_promise_due_today_is_accepted_in_shanghai_time(clock, owner, customer):
    """At 23:00 UTC on 1 March it is already 2 March in Shanghai: today is the 2nd."""
    clock.move_to(local(2026, 3, 2, 7, 0), tick=False)
    log(owner, customer, promises=[("Send the contract", date(2026, 3, 2))])
    assert Promise.objects.get().due_date == date(2026, 3, 2)


def test_a_salesperson_cannot_log_on_a_customer_they_cannot_see(clock, teammate, customer, client):
    with pytest.raises(NotFound):
        log(teammate, customer)
    client.force_login(teammate)
    response = client.post(
        f"/customers/{customer.pk}/log/", {"kind": "call_out", "summary": "Hello"}
    )
    assert response.status_code == 404
    assert not Interaction.objects.exists()


def test_a_marketer_does_not_log_contacts(clock, marketer, customer):
    with pytest.raises(Forbidden):
        log(marketer, customer)


def test_an_archived_customer_takes_no_new_touches(clock, owner, customer):
    set_fields(customer, archived_at=NOW)
    with pytest.raises(ValidationFailed) as caught:
        log(owner, customer)
    assert caught.value.code == "archived"


def test_a_manager_logs_on_a_customer_of_the_branch(clock, manager, customer):
    log(manager, customer)
    customer.refresh_from_db()
    assert customer.last_contact_at == NOW


def test_follow_up_set_by_hand_is_audited(clock, owner, customer):
    chosen = local(2026, 3, 10, 15, 0)
    services.follow_up_set(actor=owner, customer_id=customer.pk, at=chosen, note="After his trip")
    assert follow_up(customer) == ("2026-03-10 15:00", "manual")
    assert AuditEntry.objects.filter(verb="customer.follow_up_set", target_id=customer.pk).exists()
