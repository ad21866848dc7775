"""Deal facts for the follow-up cadence (C2), the timeline, and who sees a deal."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.interactions.cadence import facts_for, load_rules, next_follow_up
from guanxi.sales import services

from .conftest import deposit, open_deal, pay, to_contract
from .test_orders import new_order


def due(customer, last_contact):
    return next_follow_up(
        customer=Customer.objects.get(pk=customer.pk),
        last_contact=last_contact,
        facts=facts_for(customer),
        rules=load_rules(),
    )


def test_an_open_deal_follows_the_unsigned_deal_rule(owner, customer, deal):
    facts = facts_for(customer)
    assert (facts.open_deal, facts.about_to_sign) == (True, False)
    now = timezone.now()
    assert due(customer, now).rule == "unsigned_deal"
    assert due(customer, now).at == now + timedelta(days=7)


def test_a_deposit_makes_it_about_to_sign(owner, customer, deal, units):
    deposit(owner, deal, units[0])
    facts = facts_for(customer)
    assert (facts.open_deal, facts.about_to_sign) == (True, True)
    now = timezone.now()
    assert (due(customer, now).rule, due(customer, now).at) == (
        "about_to_sign",
        now + timedelta(days=2),
    )


def test_a_lost_deal_is_no_open_deal(owner, customer, deal):
    services.deal_move(actor=owner, deal_id=deal.pk, to_stage="lost", lost_reason="不要了")
    assert facts_for(customer).open_deal is False


def test_a_signed_deal_asks_for_a_return_visit(owner, finance, customer, service_product):
    deal = open_deal(owner, customer, service_product, amount="399.00")
    to_contract(owner, deal, amount="399.00")
    pay(finance, deal, "399.00")
    facts = facts_for(customer)
    assert facts.deal_closed_at is not None and facts.return_visit_done is False
    assert facts.open_deal is False


def test_three_deliveries_since_the_last_contact_make_long_term_follow_up_due(
    owner, customer, service_product
):
    last_contact = timezone.now() - timedelta(days=1)
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=last_contact, stage="customer")
    customer.refresh_from_db()
    for n in range(3):
        order = new_order(owner, customer, [{"product_id": service_product.pk}])
        services.order_deliver(actor=owner, order_id=order.pk, received_by="张三")
        if n < 2:
            assert facts_for(customer).deliveries_since_contact == n + 1
    assert facts_for(customer).deliveries_since_contact == 3
    follow_up = due(customer, last_contact)
    assert (follow_up.rule, follow_up.at) == ("long_term", last_contact)  # due now


def test_deliveries_before_the_last_contact_do_not_count(owner, customer, service_product):
    order = new_order(owner, customer, [{"product_id": service_product.pk}])
    services.order_deliver(actor=owner, order_id=order.pk, received_by="张三")
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=timezone.now())
    customer.refresh_from_db()
    assert facts_for(customer).deliveries_since_contact == 0


def test_an_outsider_gets_404_on_the_deal_page_and_the_api(client, outsider, deal):
    client.force_login(outsider)
    assert client.get(f"/sales/deals/{deal.pk}/").status_code == 404
    response = client.get(f"/api/v1/sales/deals/{deal.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert client.post(f"/sales/deals/{deal.pk}/move/", {"stage": "quoted"}).status_code == 404
    response = client.post(
        f"/api/v1/sales/deals/{deal.pk}/move", {"stage": "quoted"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert (
        client.post(
            f"/sales/deals/{deal.pk}/deposit/", {"kind": "small_deposit", "amount": "1"}
        ).status_code
        == 404
    )
    assert deal.__class__.objects.get(pk=deal.pk).stage == "lead"


def test_an_outsider_does_not_see_the_deal_on_the_kanban(client, outsider, owner, deal):
    client.force_login(outsider)
    assert f'id="deal-{deal.pk}"' not in client.get("/sales/").content.decode()
    client.force_login(owner)
    assert f'id="deal-{deal.pk}"' in client.get("/sales/").content.decode()


@pytest.mark.parametrize("who", ["owner", "manager", "finance"])
def test_the_owner_a_manager_and_finance_see_the_deal(client, request, deal, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/sales/deals/{deal.pk}/").status_code == 200
    assert client.get(f"/api/v1/sales/deals/{deal.pk}").status_code == 200


def test_deal_history_is_on_the_customers_timeline(client, owner, customer, deal, units):
    deposit(owner, deal, units[0])
    client.force_login(owner)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "三居室" in html
