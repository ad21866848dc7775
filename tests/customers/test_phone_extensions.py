"""Landlines and extensions (issue 13, item 6): area codes, 400/800 numbers and switchboard
extensions are stored as a number plus an extension (E.164 with `;ext=`, RFC 3966); two
people on one switchboard are two customers, the same number and extension is a duplicate."""

import pytest
from django.utils import translation

from guanxi.customers.keys import InvalidPhone, normalize_phone
from guanxi.customers.models import Customer, CustomerPhone, display_phone
from guanxi.customers.selectors import find_duplicates
from guanxi.customers.services import customer_share
from tests.conftest import new_customer

from .helpers import API, form_data

SWITCHBOARD = "+861088886666"


@pytest.mark.parametrize(
    "written",
    [
        "010-8888 6666 转 801",
        "010-88886666转801",
        "01088886666分机801",
        "010 8888 6666 (转801)",
        "010-8888 6666 轉 801",
        "010-88886666-801",
        "010-8888 6666 ext. 801",
        "010 8888 6666 ext 801",
        "010-88886666 x801",
        "010-88886666#801",
        "+86 10 8888 6666;ext=801",
        "０１０－８８８８ ６６６６ 转 ８０１",
    ],
)
def test_every_extension_notation_is_parsed_into_number_and_extension(written):
    phone = normalize_phone(written)
    assert (phone.e164, phone.extension) == (SWITCHBOARD + ";ext=801", "801")
    assert (phone.national, phone.last4) == ("01088886666", "6666")


def test_a_landline_with_its_area_code_is_a_number_without_extension():
    phone = normalize_phone("0755-2345 6789")
    assert (phone.e164, phone.extension, phone.national) == ("+8675523456789", "", "075523456789")
    assert display_phone(phone.e164) == "0755-2345 6789"
    assert normalize_phone("0755-2345-6789").e164 == "+8675523456789"  # dashes, no extension


@pytest.mark.parametrize(
    ("written", "e164", "shown"),
    [
        ("400-810-8888", "+864008108888", "400 810 8888"),
        ("800 810 8888", "+868008108888", "800 810 8888"),
        ("4008108888转2", "+864008108888;ext=2", "400 810 8888 ext. 2"),
    ],
)
def test_400_and_800_numbers_are_stored_and_shown_as_dialled(written, e164, shown):
    assert normalize_phone(written).e164 == e164
    assert display_phone(e164) == shown


@pytest.mark.parametrize("written", ["010-88886666 ext. 123456789", "138-1234-567", "转801"])
def test_an_extension_too_long_or_a_number_too_short_is_refused(written):
    with pytest.raises(InvalidPhone):
        normalize_phone(written)


def test_an_extension_is_shown_the_way_the_readers_language_writes_it():
    number = SWITCHBOARD + ";ext=801"
    assert display_phone(number) == "010-8888 6666 ext. 801"
    with translation.override("zh-hans"):
        assert display_phone(number) == "010-8888 6666 转 801"
        assert display_phone(number, compact=True) == "010-88886666 转 801"


def create(client, name, phone):
    return client.post(API, {"name": name, "phones": [phone]}, content_type="application/json")


def test_two_people_on_one_switchboard_are_two_customers_and_the_same_extension_is_taken(
    client, owner
):
    client.force_login(owner)
    assert create(client, "前台张", "010-8888 6666 转 801").status_code == 201
    assert create(client, "财务李", "010-8888 6666 转 802").status_code == 201
    again = create(client, "王重复", "010-88886666-801")
    assert (again.status_code, again.json()["code"]) == (422, "duplicate_phone")
    assert sorted(CustomerPhone.objects.values_list("number", "extension")) == [
        (SWITCHBOARD + ";ext=801", "801"),
        (SWITCHBOARD + ";ext=802", "802"),
    ]
    assert Customer.objects.count() == 2
    found = client.get(API, {"q": "010-8888 6666"}).json()["items"]
    assert {row["name"] for row in found} == {"前台张", "财务李"}


def test_duplicate_check_does_not_flag_another_extension_of_the_same_switchboard(owner):
    first = new_customer(owner, "前台张", ("010-8888 6666 转 801",))
    other = find_duplicates(viewer=owner, name="财务李", phones=[SWITCHBOARD + ";ext=802"])
    same = find_duplicates(viewer=owner, name="财务李", phones=[SWITCHBOARD + ";ext=801"])
    assert other.reasons == {}
    assert same.reasons == {first.pk: ["phone"]}


def test_web_form_takes_an_extension_and_the_page_shows_it_as_dialled(client, owner, settings):
    client.force_login(owner)
    response = client.post(
        "/customers/new/", form_data(name="前台张", phones="010-8888 6666 转 801")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="前台张")
    assert customer.primary_phone == SWITCHBOARD + ";ext=801"
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "010-8888 6666 ext. 801" in html
    settings.LANGUAGE_CODE = "zh-hans"
    zh = client.get(customer.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "010-8888 6666 转 801" in zh.content.decode()


def test_masking_hides_the_switchboard_number_and_its_extension(client, owner, teammate):
    customer = new_customer(owner, "前台张", ("010-8888 6666 转 801",))
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    client.force_login(teammate)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "10****6666" in html
    assert "8888 6666" not in html and "88886666" not in html and "801" not in html
    body = client.get(f"{API}/{customer.pk}").json()
    assert body["phone"] == "10****6666" and body["phones"] == ["10****6666"]


def test_the_edit_form_shows_the_extension_as_written_and_keeps_it(client, owner):
    customer = new_customer(owner, "前台张", ("010-8888 6666 转 801", "13812345678"))
    client.force_login(owner)
    html = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert "010-8888 6666 ext. 801" in html and ";ext=" not in html
    phones = "010-8888 6666 ext. 801\n13812345678"
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, phones=phones))
    assert response.status_code == 302
    assert list(customer.phones.order_by("-is_primary").values_list("number", flat=True)) == [
        SWITCHBOARD + ";ext=801",
        "+8613812345678",
    ]
