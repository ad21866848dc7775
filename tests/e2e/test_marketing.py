"""The marketer's flow in a real browser (C7): build a segment and preview its count, write a
template, create a campaign, send a test e-mail, schedule it, and after the worker has run
see the sent, opened and clicked figures."""

import re

import pytest
from playwright.sync_api import expect

from guanxi.marketing import sending
from guanxi.marketing.models import Recipient
from tests.conftest import PASSWORD
from tests.marketing.conftest import _no_quiet_hours, bulk_customers, smtp  # noqa: F401

from .helpers import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_marketer_builds_a_segment_sends_a_test_schedules_and_sees_the_figures(
    new_page,
    smtp,  # noqa: F811 - the fixture imported above
    marketer,
    org,
):
    bulk_customers(org["bj_sales"], 3, prefix="北京客户", city="北京")
    bulk_customers(org["bj_sales"], 2, prefix="天津客户", start=50, city="天津")
    page = new_page()
    log_in(page, marketer.username, PASSWORD)
    page.click("text=Marketing")
    page.click("text=New segment")
    page.fill("#name", "北京的客户")
    page.select_option("select[name=rule-0-field]", "city")
    page.select_option("select[name=rule-0-op]", "eq")
    page.fill("input[name=rule-0-value]", "北京")
    page.click("button:has-text('Preview')")
    expect(page.locator("#preview-count")).to_have_text("3 customers match")
    shot(page, "marketing-segment-preview")
    page.click("text=Save segment")
    expect(page.locator(".alert-success")).to_contain_text("3 customers")

    page.goto("/marketing/templates/new/")
    page.fill("#name", "冬季新品")
    page.fill("#subject_zh", "{{ name }}，冬季新品到店")
    page.fill("#body_zh", "{{ name }}您好：\n\n详情 https://shop.example.cn/winter")
    page.click("text=Save template")
    expect(page).to_have_url(re.compile(r"/marketing/$"))

    page.click("text=New campaign")
    page.fill("#name", "冬季推广")
    page.fill("#material", "2026 冬季手册")
    page.click("text=Create campaign")
    expect(page.locator("h1")).to_contain_text("冬季推广")

    page.fill("input[name=to]", "colleague@example.cn")
    page.click("text=Send test e-mail")
    expect(page.locator(".alert-success")).to_contain_text("Test e-mail sent")
    [test_mail] = smtp.to("colleague@example.cn")
    assert test_mail["Subject"].startswith("[TEST] 张三")

    page.click("button:has-text('Schedule')")
    expect(page.locator(".alert-success")).to_contain_text("Scheduled")
    # The worker's periodic scan.
    for campaign_id in sending.due_campaigns():
        sending.campaign_run(campaign_id=campaign_id)
    assert sorted(rcpt for rcpt in smtp.recipients if rcpt != "colleague@example.cn") == [
        "c00000@example.cn",
        "c00001@example.cn",
        "c00002@example.cn",
    ]
    # One customer opens the message and clicks its link.
    html = smtp.to("c00001@example.cn")[0].get_body(("html",)).get_content()
    pixel = html.split('src="https://crm.example.cn')[1].split('"')[0]
    link = html.split('href="https://crm.example.cn')[1].split('"')[0]
    assert page.request.get(pixel).headers["content-type"] == "image/gif"
    clicked = page.request.get(link, max_redirects=0)
    assert clicked.status == 302 and clicked.headers["location"] == "https://shop.example.cn/winter"

    page.reload()
    expect(page.locator("[data-figure=sent]")).to_have_text("3")
    expect(page.locator("[data-figure=opened]")).to_have_text("1")
    expect(page.locator("[data-figure=clicked]")).to_have_text("1")
    shot(page, "marketing-campaign-figures")
    assert Recipient.objects.filter(status="sent").count() == 3
