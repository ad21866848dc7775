"""Home page per role (SPEC C6 reports, issue 18): each role lands on what it works on first,
with figures that link to the lists behind them."""

import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from guanxi.sales import services
from guanxi.sales.models import Instalment
from tests.conftest import new_customer

from .conftest import deposit, open_deal, pay


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, f"no figure {name} on the page"
    return match.group(1).strip()


def test_salesperson_home_shows_own_pipeline_by_stage(client, owner, teammate, customer, flat):
    open_deal(owner, customer, flat, amount="300000")
    open_deal(owner, customer, flat, title="二套", amount="200000")
    theirs = new_customer(teammate, "李四", ("13800001111",))
    open_deal(teammate, theirs, flat, amount="999000")
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'data-panel="sales.pipeline"' in html
    assert figure(html, "open-amount") == "¥500,000.00"
    assert 'data-panel="sales.finance"' not in html


def test_manager_home_shows_the_branch_pipeline_and_approvals(
    client, manager, owner, teammate, customer, flat
):
    open_deal(owner, customer, flat, amount="300000")
    theirs = new_customer(teammate, "李四", ("13800001111",))
    open_deal(teammate, theirs, flat, amount="1200000.50")
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert figure(html, "open-amount") == "¥1,500,000.50"
    assert figure(html, "quotes") == "0"
    assert 'data-panel="interactions.team"' in html
    assert 'data-panel="reception.disputes"' in html


def test_finance_home_shows_receipts_today_and_overdue_instalments(
    client, finance, owner, customer, flat, units
):
    deal = open_deal(owner, customer, flat)
    deposit(owner, deal, units[0], amount="50000")
    today = timezone.localdate()
    services.schedule_set(
        actor=owner,
        deal_id=deal.pk,
        instalments=[
            {"label": "首付", "due_date": today - timedelta(days=30), "amount": "600000"},
            {"label": "尾款", "due_date": today + timedelta(days=200), "amount": "1350000"},
        ],
    )
    first = Instalment.objects.get(deal=deal, label="首付")
    pay(finance, deal, "100000.00", instalment=first)
    client.force_login(finance)
    html = client.get("/").content.decode()
    assert 'data-panel="sales.finance"' in html
    assert figure(html, "receipts").startswith("¥")
    overdue = Decimal(figure(html, "overdue").lstrip("¥").replace(",", ""))
    assert overdue == Decimal("500000.00")
    assert 'data-panel="sales.pipeline"' not in html


def test_marketer_home_has_no_sales_or_desk_panels(client, marketer):
    client.force_login(marketer)
    html = client.get("/").content.decode()
    for panel in ("sales.pipeline", "sales.finance", "reception.desk", "core.system_health"):
        assert f'data-panel="{panel}"' not in html
    assert 'data-panel="customers.newest"' in html
