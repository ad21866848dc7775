"""C8: input that can never cause a 500 or a corrupt row, through every door.

One validation layer (guanxi.core.validation) is shared by the API, the web forms and the
importer: each test below sends the same bad value through the door it names and expects the
same refusal, with a stable `code` and the `field` at fault, and nothing saved.
"""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from guanxi.core.errors import ValidationFailed
from guanxi.core.validation import (
    check_money,
    check_values,
    parse_json_body,
    strip_control,
)
from guanxi.customers.models import Customer
from tests.conftest import new_customer
from tests.customers.helpers import API, api_url, form_data

BIG = 2**64 + 1


@pytest.fixture
def logged_in(client, owner, customer):
    client.force_login(owner)
    return client


def create(client, **body):
    return client.post(API, {"name": "李四", **body}, content_type="application/json")


def error_of(response) -> tuple:
    body = response.json()
    return response.status_code, body["code"], body["field"]


# --- the layer itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("张\x00三", "nul_character"),
        ("张\x07三", "control_character"),
        ("张\x9b三", "control_character"),
        ("gpj.exe\u202etxt", "bidi_override"),
        ("\u2067王\u2069", "bidi_override"),
        ("第一行\n第二行", "line_break"),
    ],
)
def test_single_line_text_with_hidden_characters_is_refused(text, code):
    with pytest.raises(ValidationFailed) as caught:
        check_values({"name": text})
    assert (caught.value.code, caught.value.field) == (code, "name")


def test_multiline_text_keeps_line_breaks_and_tabs_but_not_nul():
    assert check_values({"notes": "一\n二\t三\r\n"}, multiline={"notes"}) == {
        "notes": "一\n二\t三\r\n"
    }
    with pytest.raises(ValidationFailed):
        check_values({"notes": "一\x00"}, multiline={"notes"})


def test_import_strips_what_interactive_input_refuses():
    assert strip_control("张\x00三\u202e\x1f") == "张三"


@pytest.mark.parametrize("amount", ["1.005", "0.001", "12345.678"])
def test_money_with_more_than_two_decimals_is_refused_never_rounded(amount):
    with pytest.raises(ValidationFailed) as caught:
        check_money(Decimal(amount), field="amount")
    assert caught.value.code == "too_many_decimals"


def test_money_negative_zero_is_normalised_and_trailing_zeros_accepted():
    assert str(check_money(Decimal("-0.00"), field="amount")) == "0.00"
    assert check_money(Decimal("1.500"), field="amount") == Decimal("1.5")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e400"])
def test_money_that_is_not_a_number_or_absurd_is_refused(amount):
    with pytest.raises(ValidationFailed):
        check_money(Decimal(amount), field="amount")


def test_json_body_with_a_huge_integer_names_its_field():
    with pytest.raises(ValidationFailed) as caught:
        parse_json_body(b'{"deal": {"unit_id": 99999999999999999999999}}')
    assert (caught.value.code, caught.value.field) == ("out_of_range", "deal.unit_id")


# --- the API --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"name": "李\x00四"}, "nul_character", "name"),
        ({"name": "李四", "company": "华\x1b强"}, "control_character", "company"),
        ({"name": "\u202e四李"}, "bidi_override", "name"),
        ({"segment_id": BIG}, "out_of_range", "segment_id"),
        ({"referred_by_id": -BIG}, "out_of_range", "referred_by_id"),
        ({"birthday": "1899-12-31"}, "date_out_of_range", "birthday"),
        ({"contact_window_start": "09:00:00+08:00"}, "time_with_zone", "contact_window_start"),
        ({"annual_income": "1000.005"}, None, "annual_income"),
        ({"annual_income": 1000.005}, None, "annual_income"),
    ],
)
def test_api_create_with_hostile_value_is_refused_with_the_field(logged_in, body, code, field):
    response = create(logged_in, **body)
    status, got_code, got_field = error_of(response)
    assert (status, got_field) == (422, field), response.content
    if code:
        assert got_code == code
    assert Customer.objects.count() == 1


def test_api_patch_with_a_date_after_2200_is_refused(logged_in, customer):
    response = logged_in.patch(
        api_url(customer), {"birthday": "2201-01-01"}, content_type="application/json"
    )
    assert response.status_code == 422
    # The future-birthday rule or the range rule: either way the field is named.
    assert response.json()["field"] == "birthday"


def test_api_negative_zero_income_is_stored_as_zero(logged_in, manager):
    response = create(logged_in, annual_income="-0.00", allow_similar=True)
    assert response.status_code == 201, response.content
    saved = Customer.objects.get(pk=response.json()["id"])
    assert str(saved.annual_income) == "0.00"


def test_api_query_string_with_nul_or_huge_integer_is_not_a_500(logged_in):
    assert error_of(logged_in.get(API, {"q": "张\x00"}))[::2] == (422, "q")
    response = logged_in.get(API, {"segment": str(BIG)})
    assert response.status_code in (200, 422)
    assert logged_in.get(f"{API}/{BIG}").status_code == 404


def test_api_body_of_ten_megabytes_gets_a_json_413(logged_in):
    body = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = logged_in.post(API, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "body_too_large"
    assert Customer.objects.count() == 1


def test_api_body_that_is_not_json_is_a_json_error(logged_in):
    response = logged_in.post(API, b"{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "code" in response.json() and "field" in response.json()


def test_api_huge_money_in_a_sales_body_is_refused_not_a_500(client, owner, customer):
    client.force_login(owner)
    response = client.post(
        "/api/v1/sales/deals",
        {"customer_id": customer.pk, "title": "x", "amount": "1e30"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["field"] == "amount"


def test_api_deal_amount_with_three_decimals_is_refused_never_rounded(client, owner, customer):
    client.force_login(owner)
    response = client.post(
        "/api/v1/sales/deals",
        {"customer_id": customer.pk, "title": "x", "amount": "100.005"},
        content_type="application/json",
    )
    assert error_of(response) == (422, "too_many_decimals", "amount")


# --- the web form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "李\x07四"),
        ("name", "\u202e四李"),
        ("company", "华强\x00"),
        ("birthday", "1850-01-01"),
        ("annual_income", "100.005"),
    ],
)
def test_web_form_with_hostile_value_shows_the_error_and_saves_nothing(logged_in, field, value):
    data = form_data(name="李四", phones="13900001111", allow_similar=True)
    data[field] = value
    response = logged_in.post("/customers/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert Customer.objects.count() == 1


def test_web_form_notes_keep_their_line_breaks(logged_in, customer):
    data = form_data(customer, notes="第一行\r\n第二行")
    response = logged_in.post(customer.get_absolute_url() + "edit/", data)
    assert response.status_code in (200, 302)
    customer.refresh_from_db()
    assert customer.notes.splitlines() == ["第一行", "第二行"]


# --- export ---------------------------------------------------------------------------------


def test_excel_export_never_breaks_on_a_control_character_from_an_old_import(
    client, manager, owner
):
    legacy = new_customer(owner, "王五", ("13900002222",))
    Customer.objects.filter(pk=legacy.pk).update(name="王\x07五", company="公司\x1f")
    client.force_login(manager)
    response = client.get("/customers/export/?format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = [cell for row in book.active.iter_rows(values_only=True) for cell in row]
    assert "王五" in values


def test_api_patch_with_null_clears_a_text_field_and_refuses_a_flag(logged_in, customer):
    response = logged_in.patch(
        api_url(customer), {"address": None}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    customer.refresh_from_db()
    assert customer.address == ""
    response = logged_in.patch(
        api_url(customer), {"do_not_contact": None}, content_type="application/json"
    )
    assert error_of(response) == (422, "null", "do_not_contact")
