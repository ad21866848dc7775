"""What the user sees: the points panel on the customer page, the points page and its
redemption form, the API with its error codes, and the tier upgrade in the payment's
API response."""

import json

from guanxi.loyalty.models import PointsAccount, PointsEntry

from .conftest import buy


def test_the_customer_page_shows_points_and_tier(client, owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "12345.00")
    client.force_login(owner)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="loyalty-panel"' in page
    assert "1,234" in page  # points with separators
    assert "Silver" in page  # ¥12,345 over the window reaches 银卡


def test_the_customer_page_shows_the_tier_in_chinese(
    client, settings, owner, finance, customer, tv
):
    settings.LANGUAGE_CODE = "zh-hans"
    buy(owner, finance, customer, tv, "12345.00")
    client.force_login(owner)
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "银卡" in page and "积分" in page


def test_the_redemption_form_redeems_and_shows_the_new_balance(
    client, owner, finance, customer, tv
):
    buy(owner, finance, customer, tv, "1000.00")
    client.force_login(owner)
    page = client.get(f"/loyalty/customers/{customer.pk}/")
    assert page.status_code == 200 and 'id="redeem-form"' in page.content.decode()
    response = client.post(
        f"/loyalty/customers/{customer.pk}/redeem/", {"key": "form-1", "points": "40"}, follow=True
    )
    assert "40 points redeemed; balance 60." in response.content.decode()
    assert PointsAccount.objects.get(customer_id=customer.pk).balance == 60


def test_the_redemption_form_shows_the_error_and_changes_nothing(
    client, owner, finance, customer, tv
):
    buy(owner, finance, customer, tv, "1000.00")
    client.force_login(owner)
    response = client.post(
        f"/loyalty/customers/{customer.pk}/redeem/", {"key": "form-2", "points": "1.5"}
    )
    assert response.status_code == 422
    assert "Points are whole numbers." in response.content.decode()
    assert PointsEntry.objects.filter(customer_id=customer.pk).count() == 1


def test_an_outsider_gets_404_for_the_points_page(client, outsider, customer):
    client.force_login(outsider)
    assert client.get(f"/loyalty/customers/{customer.pk}/").status_code == 404


def test_the_api_refuses_more_than_the_balance_with_a_code(client, owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "1000.00")
    client.force_login(owner)
    response = client.post(
        f"/api/v1/loyalty/customers/{customer.pk}/redemptions",
        json.dumps({"key": "a", "points": 500}),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_points"
    assert response.json()["field"] == "points"
    account = client.get(f"/api/v1/loyalty/customers/{customer.pk}").json()
    assert account["balance"] == 100 and len(account["entries"]) == 1


def test_the_api_refuses_negative_points_with_422(client, owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "1000.00")
    client.force_login(owner)
    response = client.post(
        f"/api/v1/loyalty/customers/{customer.pk}/redemptions",
        json.dumps({"key": "n", "points": -3}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (422, "not_positive")


def test_a_tier_upgrade_shows_in_the_payment_api_response(client, owner, finance, customer, tv):
    from guanxi.sales import services as sales

    order = sales.order_create(
        actor=owner,
        customer_id=customer.pk,
        items=[{"product_id": tv.pk, "unit_price": "60000.00"}],
        ship_method="pickup",
        receiver_name="张三",
        payer="张三",
    )
    client.force_login(finance)
    response = client.post(
        "/api/v1/sales/payments",
        json.dumps(
            {"order_id": order.pk, "amount": "60000.00", "method": "card", "receipt_number": "G1"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201
    effects = {e["kind"]: e for e in response.json()["effects"]}
    assert effects["tier.changed"]["data"]["to_tier"] == "gold"
    assert effects["tier.changed"]["message"] == "Upgraded to Gold."
    assert effects["points.earned"]["data"]["points"] == 6000


def test_a_tier_upgrade_shows_on_the_deal_page_after_the_payment(client, owner, finance, customer):
    from guanxi.sales import services as sales

    deal = sales.deal_create(actor=owner, customer_id=customer.pk, title="全屋家电", amount="20000")
    client.force_login(finance)
    response = client.post(
        f"/sales/deals/{deal.pk}/payment/",
        {"amount": "20000.00", "method": "bank", "receipt_number": "R-TIER"},
        follow=True,
    )
    page = response.content.decode()
    assert "Payment recorded." in page
    assert "2,000 points earned." in page and "Upgraded to Silver." in page
