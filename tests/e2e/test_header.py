"""The header every role sees first (issue 14): the notification bell and the global
search, in a real browser, per role and in both languages, at desktop and phone width."""

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy
from playwright.sync_api import expect

from guanxi.notifications.services import notify
from tests.conftest import PASSWORD, new_customer

from .helpers import PHONE, log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 800}
DUE = gettext_lazy("%(total)d follow-ups due today (%(overdue)d overdue)")
ROLES = ["owner", "manager", "receptionist", "finance", "admin_user", "service_agent", "marketer"]
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}


def text(message, language: str, **params) -> str:
    with translation.override(language):
        return str(message) % params if params else str(message)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_bell_and_global_search(new_page, request, owner, settings, role, language):
    settings.LANGUAGE_CODE = language
    user = request.getfixturevalue(role)
    customer = new_customer(owner, "肖佳", ("13911111111",), company="华强电子")
    notify(
        recipient=user,
        key="e2e:due",
        title=DUE,
        params={"total": 12, "overdue": 3},
        url=customer.get_absolute_url(),
    )
    page = new_page(viewport=DESKTOP, locale=LOCALES[language])
    log_in(page, user.username, PASSWORD)

    # The bell shows one unread notice on the first page.
    count = page.locator("#notification-count")
    expect(count).to_have_attribute("data-unread", "1")
    expect(count).to_be_visible()

    # "/" jumps to the search; pinyin initials find the customer, grouped under Customers.
    page.keyboard.press("/")
    search = page.locator("#global-search")
    expect(search).to_be_focused()
    search.type("xj", delay=30)
    results = page.locator("#global-search-results")
    group = results.locator('[data-kind="customers"]')
    expect(group).to_contain_text(text(gettext_lazy("Customers"), language))
    expect(group).to_contain_text("肖佳")
    if role in ("owner", "manager", "admin_user"):
        expect(group).to_contain_text("139")  # the phone in clear for those who may read it
    else:
        expect(group).not_to_contain_text("13911111111")
    shot(page, f"header-{role}-{language}-1-search-desktop")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))

    # The bell's menu names the notice in the reader's language; opening it marks it read.
    page.locator("#notification-bell").click()
    menu = page.locator("#notification-menu")
    notice = text(DUE, language, total=12, overdue=3)
    expect(menu).to_contain_text(notice)
    shot(page, f"header-{role}-{language}-2-bell-desktop")
    menu.get_by_role("link", name=notice).click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator("#notification-count")).to_have_attribute("data-unread", "0")
    expect(page.locator("#notification-count")).to_be_hidden()

    # A new notice appears without a reload when the bell polls.
    notify(recipient=user, key="e2e:second", title=DUE, params={"total": 1, "overdue": 0})
    page.evaluate("document.body.dispatchEvent(new Event('notifications-changed'))")
    expect(page.locator("#notification-count")).to_have_attribute("data-unread", "1")

    # The list page: mark all read.
    page.goto("/notifications/")
    expect(page.locator("#notice-list")).to_contain_text(notice)
    page.locator("#mark-all-read").click()
    expect(page.locator("#notification-count")).to_have_attribute("data-unread", "0")
    shot(page, f"header-{role}-{language}-3-list-desktop")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("role", ["owner", "receptionist"])
def test_bell_and_search_at_phone_width(new_page, request, owner, settings, role, language):
    settings.LANGUAGE_CODE = language
    user = request.getfixturevalue(role)
    customer = new_customer(owner, "肖佳", ("13911111111",))
    notify(
        recipient=user,
        key="e2e:due",
        title=DUE,
        params={"total": 2, "overdue": 1},
        url=customer.get_absolute_url(),
    )
    page = new_page(viewport=PHONE, locale=LOCALES[language])
    log_in(page, user.username, PASSWORD)
    # Both stay in the header, outside the collapsed menu.
    expect(page.locator("#global-search")).to_be_visible()
    expect(page.locator("#notification-bell")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width} px)"
    shot(page, f"header-{role}-{language}-phone-0-home")
    page.locator("#global-search").fill("1111")
    expect(page.locator('#global-search-results [data-kind="customers"]')).to_contain_text("肖佳")
    shot(page, f"header-{role}-{language}-phone-1-search")
    page.locator("#global-search").press("Escape")
    page.locator("#notification-bell").click()
    expect(page.locator("#notification-menu")).to_contain_text(
        text(DUE, language, total=2, overdue=1)
    )
    shot(page, f"header-{role}-{language}-phone-2-bell")


ADMIN_PAGES = [
    "/",
    "/webhooks/",
    "/tokens/",
    "/audit/",
    "/notifications/",
    "/search/?q=x",
    "/guide/",
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_admin_pages_fit_a_phone(new_page, admin_user, settings, language):
    settings.LANGUAGE_CODE = language
    page = new_page(viewport=PHONE, locale=LOCALES[language])
    log_in(page, admin_user.username, PASSWORD)
    too_wide = {}
    for url in ADMIN_PAGES:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[url] = width
    shot(page, f"header-admin-{language}-phone-help")
    assert not too_wide, f"pages that scroll sideways at 390 px: {too_wide}"
