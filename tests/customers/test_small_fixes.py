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


def test_merge_compare_page_shows_both_records(client, owner, customer):
    from tests.conftest import new_customer

    other = new_customer(owner, "张三丰", ("13912345678",))
    client.force_login(owner)
    response = client.get(f"/customers/{customer.id}/merge/", {"other": other.id})
    assert response.status_code == 200
    assert "张三丰" in response.content.decode()


def test_form_reports_bad_phone_together_with_bad_email(client, owner):
    client.force_login(owner)
    response = client.post(
        "/customers/new/",
        {
            "name": "赵六",
            "email": "not-an-email",
            "phones": "12345",
            "kind": "person",
            "source": "walk_in",
            "stage": "potential",
            "news_frequency": "normal",
        },
    )
    errors = response.context["form"].errors
    assert "email" in errors and "phones" in errors


def test_revealed_phone_reads_like_the_rest_of_the_page(client, teammate, owner, customer):
    from guanxi.customers.services import customer_share

    customer_share(actor=owner, customer_id=customer.id, user=teammate)
    client.force_login(teammate)
    response = client.post(f"/customers/{customer.id}/reveal/", {"field": "phone"})
    assert "138 1234 5678" in response.content.decode()


def test_home_offers_new_customer_only_to_roles_that_may_create(client, marketer, owner):
    client.force_login(marketer)
    assert "/customers/new/" not in client.get("/").content.decode()
    client.force_login(owner)
    assert "/customers/new/" in client.get("/").content.decode()


def test_overdue_follow_up_is_marked_in_list_and_detail(client, owner, customer):
    from datetime import timedelta

    from django.utils import timezone

    from guanxi.customers.models import Customer

    Customer.objects.filter(pk=customer.pk).update(
        next_follow_up_at=timezone.now() - timedelta(days=2)
    )
    client.force_login(owner)
    assert 'class="badge text-bg-danger overdue"' in client.get("/customers/").content.decode()
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'class="badge text-bg-danger overdue"' in detail
