"""Sales sees service (C5): the customer page and deal forms show open tickets through the
customers.warnings registry; a quote or deposit while a complaint is unresolved needs an
audited confirmation, or is blocked by the setting."""

from decimal import Decimal

import pytest

from guanxi.core.models import AuditEntry
from guanxi.sales.models import Product, Quote
from guanxi.sales.services import deal_create
from guanxi.service.models import Status
from guanxi.service.services import ticket_transition

from .helpers import open_ticket


@pytest.fixture
def deal(owner, customer):
    return deal_create(
        actor=owner, customer_id=customer.pk, title="换新热水器", amount=Decimal("3000")
    )


@pytest.fixture
def product(db):
    return Product.objects.create(name="燃气热水器", sku="RSQ-1", list_price=Decimal("3000.00"))


def test_customer_page_shows_the_open_complaint_and_a_new_ticket_button(
    client, owner, customer, agent
):
    ticket = open_ticket(owner, customer, subject="安装师傅迟到")
    client.force_login(owner)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert f"Open Complaint #{ticket.pk}: 安装师傅迟到" in page
    assert f"/service/new/?customer={customer.pk}" in page


def test_quote_needs_a_confirmation_while_a_complaint_is_open(
    client, owner, customer, agent, deal, product
):
    open_ticket(owner, customer, subject="安装师傅迟到")
    client.force_login(owner)
    assert "confirm-warnings" in client.get(f"/sales/deals/{deal.pk}/").content.decode()
    response = client.post(
        f"/sales/deals/{deal.pk}/quote/", {"product": product.pk, "price": "2900"}, follow=True
    )
    assert "unresolved complaint" in response.content.decode()
    assert not Quote.objects.exists()
    client.post(
        f"/sales/deals/{deal.pk}/quote/",
        {"product": product.pk, "price": "2900", "confirm_warnings": "1"},
    )
    assert Quote.objects.count() == 1
    entry = AuditEntry.objects.get(verb="sales.warning_confirmed")
    assert entry.actor == owner and entry.changes["action"] == "quote"


def test_the_setting_blocks_sales_while_a_complaint_is_open(
    client, owner, customer, agent, deal, product, settings
):
    settings.GUANXI_BLOCK_SALES_ON_COMPLAINT = True
    open_ticket(owner, customer)
    client.force_login(owner)
    client.post(
        f"/sales/deals/{deal.pk}/quote/",
        {"product": product.pk, "price": "2900", "confirm_warnings": "1"},
    )
    assert not Quote.objects.exists()


def test_a_resolved_complaint_no_longer_asks(client, owner, customer, agent, deal, product):
    ticket = open_ticket(owner, customer)
    ticket_transition(actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED, resolution="ok")
    client.force_login(owner)
    client.post(f"/sales/deals/{deal.pk}/quote/", {"product": product.pk, "price": "2900"})
    assert Quote.objects.count() == 1
