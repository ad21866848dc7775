"""Deals are opened where the salesperson stands (SPEC C4, issue 11 item 8): from the
customer page, from the pipeline and from the sales-control board, all through the one deal
form and service. Only whoever may open the deal (the owner, a manager over the customer)
is offered the button."""

from guanxi.customers.services import customer_share
from guanxi.sales.models import Deal

from .conftest import open_deal


def test_the_customer_page_offers_the_owner_a_new_deal(client, owner, customer):
    client.force_login(owner)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert f'id="new-deal" href="/sales/new/{customer.pk}/"' in page


def test_the_customer_page_lists_the_customers_deals_with_stage_and_amount(client, owner, customer):
    deal = open_deal(owner, customer, title="三居室 · 12楼", amount="2670000")
    client.force_login(owner)
    panel = client.get(customer.get_absolute_url()).content.decode().split('id="deals-panel"')[1]
    assert f'href="/sales/deals/{deal.pk}/"' in panel
    assert "三居室 · 12楼" in panel and "¥2,670,000.00" in panel


def test_a_teammate_the_customer_is_shared_with_is_not_offered_a_deal(
    client, owner, teammate, customer
):
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    client.force_login(teammate)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "/sales/new/" not in page
    assert client.get(f"/sales/new/{customer.pk}/").status_code == 404


def test_the_pipeline_opens_a_deal_after_finding_the_customer(client, owner, customer):
    client.force_login(owner)
    pipeline = client.get("/sales/").content.decode()
    assert 'id="new-deal" href="/sales/new/"' in pipeline
    found = client.get("/sales/new/", {"q": "张三"}).content.decode()
    assert f'href="/sales/new/{customer.pk}/"' in found
    response = client.post(f"/sales/new/{customer.pk}/", {"title": "张三 · 三居室", "amount": "0"})
    deal = Deal.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == f"/sales/deals/{deal.pk}/"


def test_the_search_offers_only_customers_the_user_may_open_a_deal_for(
    client, owner, teammate, customer
):
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    client.force_login(teammate)
    found = client.get("/sales/new/", {"q": "张三"}).content.decode()
    assert f"/sales/new/{customer.pk}/" not in found


def test_the_board_opens_a_deal_for_its_product(client, owner, customer, flat, units):
    client.force_login(owner)
    board = client.get("/sales/board/", {"product": flat.pk}).content.decode()
    assert f'id="new-deal" href="/sales/new/?product={flat.pk}"' in board
    found = client.get("/sales/new/", {"q": "张三", "product": flat.pk}).content.decode()
    link = f"/sales/new/{customer.pk}/?product={flat.pk}"
    assert link in found
    form = client.get(link).content.decode()
    assert f'<option value="{flat.pk}" selected>' in form
    client.post(link, {"title": "张三 · 三居室", "amount": "0", "product": str(flat.pk)})
    assert Deal.objects.get(customer=customer).product_id == flat.pk


def test_finance_has_no_new_deal_button(client, finance, customer):
    client.force_login(finance)
    assert 'id="new-deal"' not in client.get("/sales/").content.decode()
    assert client.get("/sales/new/").status_code == 404


def test_a_bad_product_parameter_is_ignored_not_a_500(client, owner, customer):
    client.force_login(owner)
    for bad in ("x", str(2**63), "99999"):
        assert client.get("/sales/new/", {"q": "张三", "product": bad}).status_code == 200
        assert client.get(f"/sales/new/{customer.pk}/", {"product": bad}).status_code == 200
