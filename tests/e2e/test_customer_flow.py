"""The salesperson's day in a real browser: find, edit, share, and a colleague's masked view."""

import re

import pytest
from playwright.sync_api import expect

from guanxi.core.models import AuditEntry
from guanxi.customers import services
from tests.conftest import PASSWORD, new_customer

from .helpers import log_in, log_out, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_edit_phone_then_shared_colleague_sees_it_masked_and_reveals_it(new_page, owner, teammate):
    new_customer(owner, "张三", ("13812345678",))
    new_customer(owner, "李四", ("13800001111",))
    target = new_customer(owner, "王小明", ("13912340000",), company="华强电子")
    services.customer_share(actor=owner, customer_id=target.pk, user=teammate)

    # sales1 finds the customer by pinyin initials; htmx swaps the table in place.
    page = new_page()
    log_in(page, "sales1", PASSWORD)
    page.goto("/customers/")
    rows = page.locator("#customers tbody tr")
    expect(rows).to_have_count(3)
    page.evaluate("window.__sameDocument = true")
    page.locator("#q").press_sequentially("wxm", delay=50)
    expect(page).to_have_url(re.compile(r"[?&]q=wxm"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("王小明")
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"
    shot(page, "flow-01-sales1-search-wxm")

    # ...opens it, edits the phone, and sees the new number.
    rows.first.get_by_role("link", name="王小明").click()
    expect(page).to_have_url(re.compile(rf"/customers/{target.pk}/$"))
    page.click("#edit-customer")
    expect(page).to_have_url(re.compile(rf"/customers/{target.pk}/edit/$"))
    page.fill("#id_phones", "139 8765 0000")
    shot(page, "flow-02-sales1-edit-phone")
    page.click("#save")
    expect(page).to_have_url(re.compile(rf"/customers/{target.pk}/$"))
    expect(page.locator("#phones")).to_contain_text("139 8765 0000")
    shot(page, "flow-03-sales1-saved")
    assert list(target.phones.values_list("number", flat=True)) == ["+8613987650000"]
    log_out(page)

    # sales2, to whom the customer is shared, sees the phone masked in the list and detail.
    log_in(page, "sales2", PASSWORD)
    page.goto("/customers/")
    row = page.locator("#customers tbody tr", has_text="王小明")
    expect(row.locator("td.masked")).to_have_text("139****0000")
    shot(page, "flow-04-sales2-list-masked")
    row.get_by_role("link", name="王小明").click()
    phones = page.locator("#phones")
    expect(phones).to_contain_text("139****0000")
    expect(phones).not_to_contain_text("8765")
    assert not AuditEntry.objects.filter(verb="customer.reveal").exists()

    # Revealing shows the clear number and leaves an audit entry.
    page.click("#reveal-phone")
    expect(phones.locator(".revealed")).to_have_count(1)
    assert "13987650000" in re.sub(r"\D", "", phones.inner_text())
    expect(phones).not_to_contain_text("****")
    shot(page, "flow-05-sales2-revealed")
    assert AuditEntry.objects.filter(
        verb="customer.reveal", actor=teammate, target_id=target.pk
    ).exists()
