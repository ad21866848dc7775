"""Form errors where the user looks, and pages that fit a phone."""

import pytest
from playwright.sync_api import expect

from guanxi.customers.models import Customer, CustomerPhone
from tests.conftest import PASSWORD, new_customer

from .helpers import PHONE, log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_bad_phone_on_create_shows_error_by_the_field_and_saves_nothing(new_page, owner):
    page = new_page()
    log_in(page, "sales1", PASSWORD)
    page.goto("/customers/new/")
    page.fill("#id_name", "赵六")
    page.fill("#id_phones", "12345")
    page.click("#save")

    error = page.locator('.invalid-feedback[data-field="phones"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("12345")
    # Next to the phones field: in the same form group as the textarea, right after it.
    group = page.locator("#id_phones").locator("xpath=..")
    expect(group.locator('.invalid-feedback[data-field="phones"]')).to_have_count(1)
    expect(page.locator("#id_phones")).to_have_value("12345")
    expect(page.locator("#id_name")).to_have_value("赵六")
    shot(page, "form-01-bad-phone")
    assert not Customer.objects.exists()
    assert not CustomerPhone.objects.exists()


NAMES = ["欧阳娜娜", "司马长风", "Alexandria Konstantinopoulou", "张伟", "王芳", "李秀英"]


def test_customer_list_and_detail_fit_a_phone_screen(new_page, owner):
    for i in range(30):
        new_customer(
            owner,
            f"{NAMES[i % len(NAMES)]}{i}",
            (f"1391234{i:04d}",),
            company="北京华强电子科技股份有限公司",
            email=f"very.long.address.{i}@example-company.com.cn",
        )
    page = new_page(viewport=PHONE)
    log_in(page, "sales1", PASSWORD)
    page.goto("/customers/")
    expect(page.locator("#customers tbody tr")).to_have_count(25)
    expect(page.locator(".navbar-toggler")).to_be_visible()
    shot(page, "phone-01-customer-list")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

    page.locator("#customers tbody a").first.click()
    expect(page.locator("#phones")).to_be_visible()
    shot(page, "phone-02-customer-detail")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
