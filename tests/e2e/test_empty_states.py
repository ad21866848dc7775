"""Empty states in a real browser, at desktop and phone width, in both languages (SPEC: help
where people need it): an empty list says what to do next and offers the action as a button
that leads there. Screenshots land in test-artifacts/empty-*.png."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .helpers import DESKTOP, PHONE, log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("sales1", "/customers/", "customers-empty", "/customers/new/"),
    ("sales1", "/sales/", "pipeline-empty", "/sales/new/"),
    ("marketer", "/marketing/", "segments-empty", "/marketing/segments/new/"),
    ("service", "/service/kb/", "kb-empty", "/service/kb/new/"),
]


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_empty_lists_say_what_to_do_next(
    new_page, owner, marketer, service_agent, locale, viewport
):
    for username, url, empty_id, action in PAGES:
        page = new_page(viewport=viewport, locale=locale)
        log_in(page, username, PASSWORD)
        page.goto(url)
        empty = page.locator(f"#{empty_id}")
        expect(empty).to_be_visible()
        button = empty.locator("[data-empty-action]")
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box and box["x"] + box["width"] <= viewport["width"], "button off screen"
        name = f"empty-{empty_id}-{locale}-{viewport['width']}"
        shot(page, name)
        button.click()
        page.wait_for_url(re.compile(re.escape(action) + "$"))
        page.context.close()
