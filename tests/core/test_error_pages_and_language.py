"""SPEC (Chinese first): error pages are styled and translated, the language picker names
each language in itself, webhook events and delivery failures read as words."""

import uuid

import pytest
from django.utils import translation

from guanxi.core.models import WebhookDelivery
from guanxi.core.webhooks import delivery_error_text, webhook_create


def zh_get(client, settings, url):
    settings.LANGUAGE_CODE = "zh-hans"
    return client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_404_page_is_chinese_and_inside_the_app(client, owner, settings):
    client.force_login(owner)
    response = zh_get(client, settings, "/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "该页面不存在，或您无权查看" in html and "Not Found" not in html
    assert 'id="global-search"' in html  # the header, so the user can go on


def test_another_salespersons_customer_gives_the_same_styled_404(
    client, outsider, customer, settings
):
    client.force_login(outsider)
    response = zh_get(client, settings, customer.get_absolute_url())
    assert response.status_code == 404 and "返回首页" in response.content.decode()


def test_404_page_in_english(client, owner):
    client.force_login(owner)
    html = client.get("/no-such-page/").content.decode()
    assert "This page does not exist, or you may not open it" in html


def test_api_404_stays_json(client, owner):
    client.force_login(owner)
    assert client.get("/api/v1/no-such-thing").json()["code"] == "not_found"


def test_500_page_is_translated(settings):
    from django.template.loader import render_to_string

    with translation.override("zh-hans"):
        html = render_to_string("500.html")
    assert "系统出现了问题" in html and "返回首页" in html


def test_language_picker_names_each_language_in_itself(client, owner, settings):
    client.force_login(owner)
    html = zh_get(client, settings, "/").content.decode()
    assert ">简体中文</option>" in html and ">English</option>" in html
    assert "英语" not in html


@pytest.mark.parametrize(
    ("error", "code", "expected"),
    [
        ("ConnectError: [Errno 111] Connection refused", None, "无法连接到接收地址"),
        ("ReadTimeout: timed out", None, "接收方未能及时应答"),
        ("HTTP 500: oops", 500, "接收方返回了 HTTP 状态码 500"),
        ("WeirdError: ???", None, "投递失败（WeirdError）"),
    ],
)
def test_delivery_errors_read_as_sentences(error, code, expected):
    with translation.override("zh-hans"):
        assert expected in delivery_error_text(error, code)


def test_webhook_page_names_events_and_errors_in_chinese(client, admin_user, settings):
    hook = webhook_create(
        actor=admin_user, name="同步", url="https://example.cn/hook", events=["customer.created"]
    )
    WebhookDelivery.objects.create(
        webhook=hook,
        event="customer.created",
        event_id=uuid.uuid4(),
        payload={},
        status="pending",
        last_error="ConnectError: [Errno 111] Connection refused",
        attempts=1,
    )
    client.force_login(admin_user)
    html = zh_get(client, settings, "/webhooks/").content.decode()
    body = html[html.index('id="webhooks"') :]
    assert "customer.created" not in body.replace('value="customer.created"', "")
    assert "无法连接到接收地址" in body
    assert ">ConnectError" not in body


def test_user_guide_is_one_click_from_every_page(client, owner):
    client.force_login(owner)
    assert 'href="/guide/"' in client.get("/customers/").content.decode()
    html = client.get("/guide/").content.decode()
    assert "Guanxi user guide" in html and "<h2>" in html
    assert "<script" not in html.split('class="user-guide"')[1]
