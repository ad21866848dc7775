"""Edge cases found while reviewing the foundation."""

from guanxi.customers.services import customer_update


def test_api_unknown_path_answers_json_404(client, owner):
    client.force_login(owner)
    response = client.get("/api/v1/customers/abc")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_email_prefix_without_at_sign_finds_customer(client, owner, customer):
    # Renamed, so only the e-mail zhangsan@example.cn can still match "zhangsan".
    customer_update(actor=owner, customer_id=customer.id, data={"name": "王五"})
    client.force_login(owner)
    items = client.get("/api/v1/customers", {"q": "zhangsan"}).json()["items"]
    assert [c["id"] for c in items] == [customer.id]


def test_zero_income_shows_as_zero_to_the_owner(client, owner, customer):
    customer_update(actor=owner, customer_id=customer.id, data={"annual_income": "0"})
    client.force_login(owner)
    assert client.get(f"/api/v1/customers/{customer.id}").json()["annual_income"] == "0.00"
