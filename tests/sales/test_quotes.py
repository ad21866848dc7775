"""Quotes: one authoritative price per customer and product — a second salesperson is shown
the standing quote, the same one supersedes it; a discount above the threshold (5 % by
default) waits for a manager; a manager's own quote does not."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from guanxi.core.errors import Conflict, NotFound
from guanxi.customers.services import customer_share
from guanxi.sales import services
from guanxi.sales.models import Deal, Quote, SalesSettings


def quote(actor, customer, product, price, **kwargs):
    return services.quote_issue(
        actor=actor, customer_id=customer.pk, product_id=product.pk, price=price, **kwargs
    )


@pytest.fixture
def shared(owner, teammate, customer):
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    return customer


def test_a_second_salesperson_sees_the_standing_quote(owner, teammate, shared, flat):
    standing = quote(owner, shared, flat, "1950000.00")
    with pytest.raises(Conflict) as caught:
        quote(teammate, shared, flat, "1900000.00")
    error = caught.value
    assert (error.code, error.field) == ("standing_quote", "price")
    assert "1950000.00" in error.message and "张伟" in error.message
    assert error.standing.pk == standing.pk
    assert list(Quote.objects.values_list("price", "status")) == [(Decimal("1950000.00"), "active")]


def test_the_api_answers_409_with_the_standing_price(client, owner, teammate, shared, flat):
    quote(owner, shared, flat, "1950000.00")
    client.force_login(teammate)
    response = client.post(
        "/api/v1/sales/quotes",
        {"customer_id": shared.pk, "product_id": flat.pk, "price": "1900000.00"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "standing_quote"
    assert "1950000.00" in response.json()["message"]


def test_the_same_salesperson_supersedes_their_quote(owner, customer, flat):
    first = quote(owner, customer, flat, "1980000.00")
    second = quote(owner, customer, flat, "1960000.00")
    first.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "active")
    assert first.decided_at is not None
    assert Quote.objects.filter(status__in=["active", "pending"]).count() == 1


def test_other_products_and_customers_have_their_own_quote(
    owner, teammate, shared, flat, service_product
):
    quote(owner, shared, flat, "1950000.00")
    assert quote(teammate, shared, service_product, "399.00").status == "active"


def test_a_discount_above_the_threshold_waits_for_a_manager(owner, manager, customer, flat):
    # 2,000,000 list: 5 % off is 1,900,000, the most a salesperson gives alone.
    at_threshold = quote(owner, customer, flat, "1900000.00")
    assert (at_threshold.status, at_threshold.discount_pct) == ("active", Decimal("5.00"))
    above = quote(owner, customer, flat, "1899999.99")
    assert above.status == "pending"  # 5.0000005 % off, printed as 5.00
    approved = services.quote_decide(actor=manager, quote_id=above.pk, approve=True)
    assert (approved.status, approved.approved_by_id) == ("active", manager.pk)


def test_a_manager_rejects_a_discount(owner, manager, customer, flat):
    pending = quote(owner, customer, flat, "1700000.00")
    rejected = services.quote_decide(actor=manager, quote_id=pending.pk, approve=False)
    assert rejected.status == "rejected"
    # A rejected quote no longer stands: a new one can be given.
    assert quote(owner, customer, flat, "1950000.00").status == "active"


def test_only_a_manager_approves(owner, teammate, customer, flat, sh_manager):
    pending = quote(owner, customer, flat, "1700000.00")
    for person in (owner, teammate, sh_manager):
        with pytest.raises(NotFound):
            services.quote_decide(actor=person, quote_id=pending.pk, approve=True)
    assert Quote.objects.get(pk=pending.pk).status == "pending"


def test_the_threshold_is_configurable(owner, customer, flat):
    settings = SalesSettings.current()
    settings.discount_approval_pct = Decimal("10.00")
    settings.save()
    assert quote(owner, customer, flat, "1850000.00").status == "active"  # 7.5 %


def test_a_managers_quote_needs_no_approval(manager, customer, flat):
    assert quote(manager, customer, flat, "1500000.00").status == "active"


def test_a_manager_may_replace_a_salespersons_quote(owner, manager, customer, flat):
    first = quote(owner, customer, flat, "1950000.00")
    replaced = quote(manager, customer, flat, "1920000.00")
    first.refresh_from_db()
    assert (first.status, replaced.status) == ("superseded", "active")


def test_the_database_holds_one_live_quote_per_customer_and_product(owner, customer, flat):
    live = quote(owner, customer, flat, "1950000.00")
    for status in ("active", "pending"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Quote.objects.create(
                customer=customer,
                product=flat,
                list_price=live.list_price,
                price=Decimal("1.00"),
                discount_pct=Decimal("0"),
                status=status,
                quoted_by=owner,
            )
    Quote.objects.create(
        customer=customer,
        product=flat,
        list_price=live.list_price,
        price=Decimal("1.00"),
        discount_pct=Decimal("0"),
        status="superseded",
        quoted_by=owner,
    )


def test_a_quote_on_a_lead_moves_the_deal_to_quoted(owner, deal, flat):
    quote(owner, deal.customer, flat, "1980000.00", deal_id=deal.pk)
    deal.refresh_from_db()
    assert (deal.stage, deal.amount) == ("quoted", Decimal("1980000.00"))
    assert deal.events.filter(kind="stage", to_stage="quoted").exists()


def test_an_approved_quote_moves_the_deal_to_quoted(owner, manager, deal, flat):
    pending = quote(owner, deal.customer, flat, "1700000.00", deal_id=deal.pk)
    assert Deal.objects.get(pk=deal.pk).stage == "lead"
    services.quote_decide(actor=manager, quote_id=pending.pk, approve=True)
    deal.refresh_from_db()
    assert (deal.stage, deal.amount) == ("quoted", Decimal("1700000.00"))


def test_a_quote_names_a_deal_of_the_same_customer(owner, deal, flat):
    from guanxi.core.errors import ValidationFailed
    from tests.conftest import new_customer

    other = new_customer(owner, "李四", ("13700002222",))
    with pytest.raises(ValidationFailed) as caught:
        quote(owner, other, flat, "1980000.00", deal_id=deal.pk)
    assert caught.value.code == "not_found"


def test_the_price_is_exact(owner, customer, flat):
    from guanxi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        quote(owner, customer, flat, 1950000.1)
    assert caught.value.code == "inexact"


def test_quote_from_the_deal_page(client, owner, deal, flat):
    client.force_login(owner)
    response = client.post(
        f"/sales/deals/{deal.pk}/quote/", {"product": flat.pk, "price": "1700000.00"}, follow=True
    )
    assert "waits for a manager" in response.content.decode()
    assert Quote.objects.get().status == "pending"
