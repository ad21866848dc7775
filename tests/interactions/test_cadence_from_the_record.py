"""Cadence rules (SPEC C2) from a record's first day, and when its relationship changes.

A new customer with an owner gets its first follow-up at creation (the base is the moment
of creation, as no contact is logged yet); a new relationship type or stage reschedules it
from the last contact. The clock stands at Monday 2026-03-02 10:00 in Shanghai; follow-ups
land on their due day at the first good slot (10:30).
"""

from datetime import timedelta

from guanxi.customers.services import customer_create, customer_update
from guanxi.interactions import services
from tests.conftest import new_customer
from tests.customers.helpers import api_url, form_data

from .helpers import NOW, follow_up, local, log


def _change(owner, customer, **data):
    return customer_update(actor=owner, customer_id=customer.pk, data=data)


def test_new_customer_gets_its_first_follow_up_by_the_default_rule(clock, owner):
    customer = new_customer(owner)
    assert follow_up(customer) == ("2026-03-16 10:30", "default")
    assert customer.follow_up_step == "Keep in touch"


def test_new_customer_first_follow_up_follows_its_relationship_type(clock, owner):
    customer = new_customer(owner, relationship="hesitant")
    assert follow_up(customer) == ("2026-03-05 10:30", "rel_hesitant")


def test_new_customer_first_follow_up_follows_its_stage(clock, owner):
    customer = new_customer(owner, stage="loyal")
    assert follow_up(customer) == ("2026-04-01 10:30", "long_term")


def test_new_customer_of_relationship_never_gets_no_follow_up(clock, owner):
    customer = new_customer(owner, relationship="never")
    assert follow_up(customer) == (None, "rel_never")


def test_new_customer_without_owner_gets_no_follow_up(clock, receptionist):
    """Nobody to follow up until someone owns the record (the desk's visitors)."""
    customer = customer_create(
        actor=receptionist, data={"name": "张三"}, phones=["13812345678"], allow_similar=True
    )
    assert follow_up(customer) == (None, "")


def test_relationship_change_reschedules_from_the_last_contact(clock, owner):
    customer = new_customer(owner)
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-16 10:30", "default")
    clock.move_to(NOW + timedelta(days=1), tick=False)
    _change(owner, customer, relationship="hesitant")
    assert follow_up(customer) == ("2026-03-05 10:30", "rel_hesitant")
    _change(owner, customer, relationship="not_now")
    assert follow_up(customer) == ("2026-04-01 10:30", "rel_not_now")


def test_relationship_change_to_never_stops_follow_up(clock, owner):
    customer = new_customer(owner, relationship="interested")
    assert follow_up(customer) == ("2026-03-09 10:30", "rel_interested")
    _change(owner, customer, relationship="never")
    assert follow_up(customer) == (None, "rel_never")


def test_stage_change_reschedules_follow_up(clock, owner):
    customer = new_customer(owner)
    _change(owner, customer, stage="customer")
    assert follow_up(customer) == ("2026-04-01 10:30", "long_term")


def test_other_edits_keep_the_scheduled_follow_up(clock, owner):
    customer = new_customer(owner)
    services.follow_up_set(actor=owner, customer_id=customer.pk, at=local(2026, 3, 20, 15))
    _change(owner, customer, notes="Prefers calls after lunch", company="华强电子")
    assert follow_up(customer) == ("2026-03-20 15:00", "manual")


def test_relationship_change_keeps_an_earlier_manual_follow_up(clock, owner):
    """The most urgent wins: a date a person set that comes first is not moved later."""
    customer = new_customer(owner)
    services.follow_up_set(
        actor=owner, customer_id=customer.pk, at=local(2026, 3, 4, 15), note="Send the quote"
    )
    _change(owner, customer, relationship="interested")
    assert follow_up(customer) == ("2026-03-04 15:00", "manual")
    assert customer.follow_up_step == "Send the quote"


def test_relationship_change_brings_a_later_manual_follow_up_forward(clock, owner):
    customer = new_customer(owner)
    services.follow_up_set(actor=owner, customer_id=customer.pk, at=local(2026, 3, 20, 15))
    _change(owner, customer, relationship="hesitant")
    assert follow_up(customer) == ("2026-03-05 10:30", "rel_hesitant")


def test_relationship_change_through_the_web_form_reschedules(clock, client, owner):
    customer = new_customer(owner)
    client.force_login(owner)
    response = client.post(
        f"/customers/{customer.pk}/edit/", form_data(customer, relationship="hesitant")
    )
    assert response.status_code == 302
    assert follow_up(customer) == ("2026-03-05 10:30", "rel_hesitant")


def test_relationship_change_through_the_api_reschedules(clock, client, owner):
    customer = new_customer(owner)
    client.force_login(owner)
    response = client.patch(
        api_url(customer), {"relationship": "hesitant"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert follow_up(customer) == ("2026-03-05 10:30", "rel_hesitant")
