"""The customer list like a CRM's, in a real browser: a manager shows the revenue column,
sorts by it, ticks two customers, asks to assign them, cancels (nothing moves), then
confirms with a comment (they move); a cell is edited in place."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from tests.conftest import PASSWORD, new_customer

from .helpers import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_columns_sort_and_a_confirmed_bulk_assignment(new_page, manager, owner, teammate):
    made = []
    for i, revenue in enumerate([100, 900, 500]):
        c = new_customer(owner, f"客户{i}", (f"1380000{i:04d}",))
        Customer.objects.filter(pk=c.pk).update(revenue=Decimal(revenue))
        made.append(c)

    page = new_page()
    log_in(page, "manager", PASSWORD)
    page.goto("/customers/")
    page.click("#column-chooser summary")
    page.check("#show-revenue")
    page.fill('input[name="position_revenue"]', "1")
    page.click("#save-columns")
    expect(page.locator('#customers th[data-column="revenue"]')).to_be_visible()
    expect(page.locator("#customers thead th").nth(2)).to_have_attribute("data-column", "revenue")

    # Sorting by revenue: the header's link, swapped in place; highest first.
    page.locator('#customers th[data-column="revenue"] a').click()
    expect(page).to_have_url(re.compile(r"sort=-revenue"))
    rows = page.locator("#customers tbody tr")
    expect(rows.first).to_contain_text("客户1")
    expect(rows.first).to_contain_text("¥900.00")
    shot(page, "list-01-manager-revenue-sorted")

    # Tick two, assign to 李娜: the confirmation says what will happen; cancel changes nothing.
    page.check(f'input[name="ids"][value="{made[1].pk}"]')
    page.check(f'input[name="ids"][value="{made[2].pk}"]')
    expect(page.locator("#bulk-count")).to_contain_text("2")
    page.select_option("#bulk-action", "assign")
    page.select_option('#bulk select[name="user"]', str(teammate.pk))
    page.click("#bulk-go")
    expect(page.locator("#bulk-summary")).to_contain_text("2 customers move to 李娜.")
    expect(page.locator("#bulk-owners")).to_contain_text("张伟: 2")
    shot(page, "list-02-bulk-assign-confirmation")
    page.click("#bulk-cancel")
    expect(page).to_have_url(re.compile(r"/customers/"))
    assert set(Customer.objects.values_list("owner_id", flat=True)) == {owner.pk}
    assert not AuditEntry.objects.filter(verb="customers.bulk").exists()

    # Again, confirmed with a comment.
    page.check(f'input[name="ids"][value="{made[1].pk}"]')
    page.check(f'input[name="ids"][value="{made[2].pk}"]')
    page.select_option("#bulk-action", "assign")
    page.select_option('#bulk select[name="user"]', str(teammate.pk))
    page.click("#bulk-go")
    page.fill("#bulk-comment", "李娜接手大客户")
    page.click("#bulk-confirm-button")
    expect(page.locator(".alert-success").first).to_contain_text("2")
    moved = set(Customer.objects.filter(owner=teammate).values_list("pk", flat=True))
    assert moved == {made[1].pk, made[2].pk}
    assert AuditEntry.objects.get(verb="customers.bulk").note == "李娜接手大客户"


def test_a_cell_is_edited_in_place_and_a_bad_value_is_named(new_page, owner):
    c = new_customer(owner, "王芳", ("13900002222",), company="旧公司")
    page = new_page()
    log_in(page, "sales1", PASSWORD)
    page.goto("/customers/")
    cell = page.locator(f"#cell-{c.pk}-company")
    cell.locator("button.inline-edit").click()
    editor = page.locator(f"#cell-{c.pk}-company input[name=company]")
    expect(editor).to_be_visible()
    editor.fill("新公司")
    page.locator(f"#cell-{c.pk}-company button[type=submit]").click()
    expect(page.locator(f"#cell-{c.pk}-company")).to_contain_text("新公司")
    assert Customer.objects.get(pk=c.pk).company == "新公司"
    shot(page, "list-03-inline-edit-saved")
