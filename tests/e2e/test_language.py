"""Switching the interface language in the browser."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .helpers import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def label(text: str, language: str) -> str:
    """What the interface shows for `text` in `language`, as the catalogue stands."""
    with translation.override(language):
        return translation.gettext(text)


def test_language_switch_changes_navigation_labels(new_page, owner, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the product default; tests/conftest.py reads English
    page = new_page(locale="zh-CN")
    log_in(page, "sales1", PASSWORD)
    html = page.locator("html")
    language = page.locator("select[name=language]")
    nav = page.locator("#nav .navbar-nav")

    # Chinese by default: 客户 for Customers once the catalogue is compiled.
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(language).to_have_value("zh-hans")
    expect(language.locator("option:checked")).to_have_text("简体中文")
    expect(nav.get_by_role("link", name=label("Customers", "zh-hans"), exact=True)).to_be_visible()
    shot(page, "language-01-zh-hans")

    language.select_option("en")
    expect(html).to_have_attribute("lang", "en")
    expect(language).to_have_value("en")
    expect(language.locator("option:checked")).to_have_text("English")
    expect(nav.get_by_role("link", name="Customers", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Home", exact=True)).to_be_visible()
    if label("Customers", "zh-hans") != "Customers":
        expect(nav).not_to_contain_text(label("Customers", "zh-hans"))
    shot(page, "language-02-en")

    # The choice sticks across pages, and switches back.
    page.goto("/customers/")
    expect(html).to_have_attribute("lang", "en")
    language.select_option("zh-hans")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(f"{page.url.split('/customers/')[0]}/customers/")
    expect(nav.get_by_role("link", name=label("Home", "zh-hans"), exact=True)).to_be_visible()
