"""Bad input is refused with a stable code and the field at fault, and nothing is saved."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers.models import Customer, CustomerPhone
from tests.conftest import new_customer

from .helpers import API, api_url, form_data


@pytest.fixture
def logged_in(client, owner, customer):
    """sales1, logged in, who already owns 张三 (13812345678, zhangsan@example.cn)."""
    client.force_login(owner)
    return client


def create(client, **body):
    return client.post(API, {"name": "李四", **body}, content_type="application/json")


def error_of(response) -> tuple:
    body = response.json()
    return response.status_code, body["code"], body["field"]


@pytest.mark.parametrize("phone", ["12345", "abc"])
def test_api_create_with_invalid_phone_is_refused(logged_in, phone):
    response = create(logged_in, phones=[phone])
    assert error_of(response) == (422, "invalid_phone", "phones")
    assert Customer.objects.count() == 1


def test_api_create_with_invalid_email_is_refused(logged_in):
    response = create(logged_in, email="lisi-at-example")
    assert error_of(response)[::2] == (422, "email")
    assert Customer.objects.count() == 1


def test_api_create_with_impossible_date_is_refused(logged_in):
    response = create(logged_in, birthday="2024-13-45")
    assert error_of(response)[::2] == (422, "birthday")
    assert Customer.objects.count() == 1


def test_api_create_with_future_birthday_is_refused(logged_in):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = create(logged_in, birthday=tomorrow.isoformat())
    assert error_of(response) == (422, "future_date", "birthday")
    assert Customer.objects.count() == 1


def test_api_create_with_another_customers_phone_is_refused(logged_in):
    response = create(logged_in, phones=["138 1234 5678"])
    assert error_of(response) == (422, "duplicate_phone", "phones")
    assert (Customer.objects.count(), CustomerPhone.objects.count()) == (1, 1)


def test_api_create_with_another_customers_email_is_refused(logged_in):
    response = create(logged_in, email="ZhangSan@Example.cn")
    assert error_of(response) == (422, "duplicate_email", "email")
    assert Customer.objects.count() == 1


def test_api_create_with_unknown_field_names_it(logged_in):
    response = create(logged_in, favourite_colour="red")
    assert error_of(response) == (422, "unknown_field", "favourite_colour")
    assert Customer.objects.count() == 1


def test_api_create_with_name_over_100_characters_is_refused(logged_in):
    response = create(logged_in, name="张" * 101)
    assert error_of(response)[::2] == (422, "name")
    assert Customer.objects.count() == 1


def test_api_create_without_name_is_refused(logged_in):
    response = logged_in.post(API, {"phones": ["13900002222"]}, content_type="application/json")
    assert error_of(response)[::2] == (422, "name")
    assert Customer.objects.count() == 1


def test_api_patch_with_invalid_phone_keeps_the_old_phones(logged_in, customer):
    response = logged_in.patch(
        api_url(customer), {"phones": ["12345"]}, content_type="application/json"
    )
    assert error_of(response) == (422, "invalid_phone", "phones")
    assert list(customer.phones.values_list("number", flat=True)) == ["+8613812345678"]


def test_api_patch_with_another_customers_phone_changes_nothing(logged_in, owner, customer):
    other = new_customer(owner, "李四", ("13900002222",))
    response = logged_in.patch(
        api_url(other),
        {"phones": ["13812345678"], "company": "长城"},
        content_type="application/json",
    )
    assert error_of(response) == (422, "duplicate_phone", "phones")
    other.refresh_from_db()
    assert (other.company, other.primary_phone) == ("", "+8613900002222")


def test_api_patch_with_another_customers_email_keeps_phones_unchanged(logged_in, owner):
    other = new_customer(owner, "李四", ("13900002222",))
    response = logged_in.patch(
        api_url(other),
        {"phones": ["13900003333"], "email": "zhangsan@example.cn"},
        content_type="application/json",
    )
    assert error_of(response) == (422, "duplicate_email", "email")
    assert list(other.phones.values_list("number", flat=True)) == ["+8613900002222"]


def test_api_patch_with_future_birthday_keeps_the_old_one(logged_in, customer):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = logged_in.patch(
        api_url(customer), {"birthday": tomorrow.isoformat()}, content_type="application/json"
    )
    assert error_of(response) == (422, "future_date", "birthday")
    assert Customer.objects.get(pk=customer.pk).birthday is None


def test_web_form_with_impossible_date_shows_error_and_saves_nothing(logged_in):
    response = logged_in.post(
        "/customers/new/", form_data(name="李四", phones="13900002222", birthday="2024-13-45")
    )
    assert response.status_code == 200
    assert "birthday" in response.context["form"].errors
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("phone", ["12345", "abc"])
def test_web_form_with_invalid_phone_shows_error_on_phones(logged_in, phone):
    response = logged_in.post("/customers/new/", form_data(name="李四", phones=phone))
    assert list(response.context["form"].errors) == ["phones"]
    assert Customer.objects.count() == 1


def test_web_form_with_another_customers_phone_shows_error_on_phones(logged_in):
    response = logged_in.post("/customers/new/", form_data(name="李四", phones="13812345678"))
    assert list(response.context["form"].errors) == ["phones"]
    assert 'data-field="phones"' in response.content.decode()
    assert Customer.objects.count() == 1


def test_web_form_with_another_customers_email_shows_error_on_email(logged_in):
    response = logged_in.post(
        "/customers/new/",
        form_data(name="李四", phones="13900002222", email="zhangsan@example.cn"),
    )
    assert list(response.context["form"].errors) == ["email"]
    assert Customer.objects.count() == 1


def test_web_form_creates_a_valid_customer(logged_in):
    response = logged_in.post("/customers/new/", form_data(name="李四", phones="13900002222"))
    created = Customer.objects.get(name="李四")
    assert (response.status_code, response.url) == (302, created.get_absolute_url())
    assert created.primary_phone == "+8613900002222"


def test_web_post_without_csrf_token_is_refused_and_saves_nothing(owner, customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post("/customers/new/", form_data(name="李四", phones="13900002222"))
    assert response.status_code == 403
    assert Customer.objects.count() == 1


def test_session_api_post_without_csrf_token_is_refused_and_saves_nothing(owner, customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post(
        API, {"name": "李四", "phones": ["13900002222"]}, content_type="application/json"
    )
    assert response.status_code in (401, 403)
    assert Customer.objects.count() == 1


def test_session_api_post_with_csrf_token_is_accepted(owner, customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    browser.get("/customers/new/")  # sets the CSRF cookie, as the page would
    response = browser.post(
        API,
        {"name": "李四", "phones": ["13900002222"]},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )
    assert response.status_code == 201
    assert Customer.objects.count() == 2


# Possible duplicates on create ---------------------------------------------------------


def test_api_create_of_similar_name_answers_409_with_candidates(logged_in, customer):
    response = create(logged_in, name="张三", phones=["13900002222"])
    body = response.json()
    assert (response.status_code, body["code"]) == (409, "possible_duplicate")
    assert body["candidates"] == [{"id": customer.pk, "name": "张三", "reasons": ["name"]}]
    assert Customer.objects.count() == 1


def test_api_create_of_similar_name_counts_candidates_the_user_cannot_see(
    client, teammate, customer
):
    client.force_login(teammate)
    response = create(client, name="张三", phones=["13900002222"])
    assert response.json()["candidates"] == []
    assert response.json()["hidden_candidates"] == 1


def test_api_create_of_similar_name_with_allow_similar_creates_it(logged_in):
    response = create(logged_in, name="张三", phones=["13900002222"], allow_similar=True)
    assert response.status_code == 201
    assert Customer.objects.filter(name="张三").count() == 2


def test_web_form_warns_of_similar_name_and_saves_nothing(logged_in, customer):
    response = logged_in.post("/customers/new/", form_data(name="张三", phones="13900002222"))
    html = response.content.decode()
    assert 'id="duplicate-warning"' in html
    assert customer.get_absolute_url() in html
    assert Customer.objects.count() == 1


def test_web_form_creates_similar_name_once_confirmed(logged_in):
    response = logged_in.post(
        "/customers/new/", form_data(name="张三", phones="13900002222", allow_similar=True)
    )
    assert response.status_code == 302
    assert Customer.objects.filter(name="张三").count() == 2
