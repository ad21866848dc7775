"""SPEC (money and numbers): amounts read ¥2,670,000.00 in both languages, and a quoted deal
shows the price it was quoted, not ¥0.00."""

import pytest

from guanxi.sales import services
from tests.sales.conftest import open_deal


@pytest.fixture
def quoted(owner, customer, flat):
    deal = open_deal(owner, customer, flat, title="张三 三居室")
    services.quote_issue(
        actor=owner, customer_id=customer.pk, product_id=flat.pk, price="1950000", deal_id=deal.pk
    )
    return deal


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pipeline_amounts_have_thousands_separators(
    client, owner, customer, flat, settings, language
):
    settings.LANGUAGE_CODE = language
    open_deal(owner, customer, flat, title="大单", amount="2670000")
    client.force_login(owner)
    html = client.get("/sales/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert "¥2,670,000.00" in html
    assert "2670000.00" not in html


def test_quoted_deal_card_shows_the_quote(client, owner, quoted, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    html = client.get("/sales/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    card = html[html.index(f'id="deal-{quoted.pk}"') :][:800]
    assert "¥1,950,000.00" in card and "¥0.00" not in card


def test_deal_with_an_amount_keeps_showing_its_amount(owner, customer, flat):
    from guanxi.sales.selectors import kanban

    deal = open_deal(owner, customer, flat, amount="2670000")
    services.quote_issue(
        actor=owner, customer_id=customer.pk, product_id=flat.pk, price="1950000", deal_id=deal.pk
    )
    cards = [d for column in kanban(viewer=owner) for d in column.deals]
    assert [getattr(d, "quote_price", None) for d in cards] == [None]


def test_approvals_show_grouped_prices(client, owner, manager, customer, flat, settings):
    services.quote_issue(actor=owner, customer_id=customer.pk, product_id=flat.pk, price="1000000")
    client.force_login(manager)
    html = client.get("/sales/approvals/").content.decode()
    assert "¥1,000,000.00" in html and "¥2,000,000.00" in html
