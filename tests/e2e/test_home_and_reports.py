"""Home pages and reports in a real browser (issue 18): each role lands on its panels with
their charts, in Chinese and English, at desktop and phone width; a chart's bar opens the
list behind it; a manager builds a pivot and downloads it."""

import re

import pytest
from playwright.sync_api import expect

from guanxi.sales import services
from tests.conftest import PASSWORD, new_customer

from .helpers import PHONE, log_in, shot
from .test_sales import a_building, pipeline_stages

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def floor(owner, teammate, manager, finance):
    pipeline_stages()
    flat = a_building()
    for actor, name, phone in ((owner, "张三", "13800000001"), (teammate, "李四", "13800000002")):
        customer = new_customer(actor, name, (phone,))
        deal = services.deal_create(
            actor=actor,
            customer_id=customer.pk,
            title="三居室",
            amount="2000000",
            product_id=flat.pk,
        )
        services.deal_move(actor=actor, deal_id=deal.pk, to_stage="quoted")
    return flat


@pytest.mark.parametrize(
    ("who", "locale", "panel", "text"),
    [
        ("sales1", "zh-CN", "sales.pipeline", "我的各阶段商机"),
        ("manager", "en-US", "interactions.team", "Overdue follow-ups per person"),
        ("finance", "zh-CN", "sales.finance", "今日财务"),
        ("reception", "en-US", "reception.desk", "Today at the desk"),
    ],
)
def test_each_role_lands_on_its_own_panels(new_page, floor, receptionist, who, locale, panel, text):
    for viewport, width in ((None, "desktop"), (PHONE, "phone")):
        page = new_page(viewport=viewport, locale=locale)
        log_in(page, who, PASSWORD)
        expect(page.locator(f'[data-panel="{panel}"]')).to_contain_text(text)
        shot(page, f"home-{who}-{locale}-{width}")


def test_a_bar_of_the_pipeline_chart_opens_the_pipeline(new_page, floor):
    page = new_page(locale="zh-CN")
    log_in(page, "manager", PASSWORD)
    chart = page.locator('[data-panel="sales.pipeline"] [data-chart]')
    expect(chart.locator("svg")).to_be_visible()
    # The bar of 已报价 (both deals are quoted): the tallest filled shape in the chart.
    bar = page.evaluate(
        """(chart) => {
            const shapes = [...chart.querySelectorAll("svg path")].filter((p) => {
                const fill = p.getAttribute("fill");
                return fill && fill !== "none" && !fill.startsWith("#fff");
            });
            const boxes = shapes.map((p) => p.getBoundingClientRect());
            const tallest = boxes.sort((a, b) => b.height - a.height)[0];
            return {x: tallest.x + tallest.width / 2, y: tallest.y + tallest.height / 2};
        }""",
        chart.element_handle(),
    )
    page.mouse.click(bar["x"], bar["y"])
    expect(page).to_have_url(re.compile(r"/sales/$"))


def test_a_manager_builds_a_pivot_and_downloads_it(new_page, floor):
    page = new_page(locale="en-US")
    log_in(page, "manager", PASSWORD)
    page.goto("/reports/pivot/")
    page.select_option("#id_dataset", "deals")
    page.wait_for_load_state()
    page.select_option("#id_rows", "stage")
    page.select_option("#id_columns", "owner")
    page.select_option("#id_measure", "amount")
    page.click("#pivot-form button")
    table = page.locator("#pivot-table")
    expect(table).to_contain_text("¥4,000,000.00")
    expect(table).to_contain_text("张伟")
    shot(page, "pivot-deals-by-stage-and-owner")
    with page.expect_download() as download:
        page.click("text=Excel")
    assert download.value.suggested_filename == "pivot.xlsx"
