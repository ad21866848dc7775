"""Quick create (C5 item 1): a ticket from the customer page and from an entry of the
visitor and call register, which reception shows through its register-actions registry
(reception never imports service)."""

from html import unescape

import pytest

from guanxi.core.models import Role
from guanxi.reception import services as reception
from guanxi.reception.register_actions import visit_actions
from guanxi.service.models import Ticket
from tests.conftest import make_user


@pytest.fixture
def call(receptionist, owner):
    reception.roster_set(actor=receptionist, salesperson_ids=[owner.pk])
    registration = reception.Registration(
        phone="13911112222", name="冯先生", kind="call", notes="热水器漏水"
    )
    return reception.visit_register(actor=receptionist, registration=registration)


def test_customer_page_offers_a_new_ticket_for_this_customer(client, owner, customer):
    client.force_login(owner)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert f'href="/service/new/?customer={customer.pk}"' in page


def test_call_register_entry_opens_a_phone_ticket_for_the_caller(client, receptionist, call):
    client.force_login(receptionist)
    page = unescape(client.get("/reception/register/").content.decode())
    link = f"/service/new/?customer={call.customer_id}&channel=phone"
    assert link in page and "New ticket" in page
    url = page[page.index(link) :].split('"')[0]
    form = client.get(url).content.decode()
    assert "冯先生" in form and "热水器漏水" in form
    assert '<option value="phone" selected>' in form
    response = client.post(
        url,
        {"type": "repair", "priority": "normal", "channel": "phone", "subject": "热水器漏水"},
    )
    ticket = Ticket.objects.get()
    assert response.url == ticket.get_absolute_url()
    assert (ticket.customer_id, ticket.channel, ticket.created_by) == (
        call.customer_id,
        "phone",
        receptionist,
    )


def test_a_walk_in_entry_opens_a_visit_ticket(receptionist, owner):
    reception.roster_set(actor=receptionist, salesperson_ids=[owner.pk])
    visit = reception.visit_register(
        actor=receptionist,
        registration=reception.Registration(phone="13911113333", name="卫女士"),
    )
    [(label, url)] = visit_actions(visit=visit, viewer=receptionist)
    assert label == "New ticket" and "channel=visit" in url


def test_no_ticket_button_for_who_may_not_open_tickets(call, org):
    finance = make_user("finance", org["bj"], Role.FINANCE)
    assert visit_actions(visit=call, viewer=finance) == []


def test_an_unknown_channel_in_the_link_falls_back_to_the_default(client, owner, customer):
    client.force_login(owner)
    form = client.get(f"/service/new/?customer={customer.pk}&channel=fax")
    assert form.status_code == 200
    assert '<option value="phone" selected>' in form.content.decode()
