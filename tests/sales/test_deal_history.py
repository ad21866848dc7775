"""A deal's history reads in the user's language (C4): stage labels and what happened, never
the stored codes (`small_deposit`, `stage`), on the deal page and the customer's timeline."""

import re

import pytest
from django.utils import translation

from guanxi.core.timeline import timeline_for
from guanxi.sales import services

from .conftest import deposit

HISTORY = re.compile(
    r'<div class="card-header">([^<]+)</div><ul class="list-group[^"]*">(.*?)</ul>', re.S
)


def history(html: str, header: str) -> list[str]:
    """The lines of the deal page's history card, tags and the time stamps left out."""
    body = next(items for title, items in HISTORY.findall(html) if title == header)
    lines = re.findall(r"<li[^>]*>(.*?)</li>", body, re.S)
    return [re.sub(r"^[^·]+ · ", "", re.sub(r"<[^>]+>", "", line)).strip() for line in lines]


@pytest.fixture
def moved(owner, deal, units):
    """三居室: opened as a lead, quoted, then a small deposit on a flat."""
    services.deal_move(actor=owner, deal_id=deal.pk, to_stage="quoted")
    deposit(owner, deal, units[0])
    return deal


def test_deal_history_shows_stage_labels_in_chinese(client, owner, moved, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    html = client.get(f"/sales/deals/{moved.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert history(html.decode(), "历史记录")[:3] == [
        "张伟 · 成交阶段变更: 已报价 → 小定",
        "张伟 · 成交阶段变更: 线索 → 已报价",
        "张伟 · 新建成交: 线索",
    ]


def test_deal_history_shows_stage_labels_in_english(client, owner, moved):
    client.force_login(owner)
    html = client.get(f"/sales/deals/{moved.pk}/").content.decode()
    lines = history(html, "History")
    assert lines[:3] == [
        "张伟 · Deal moved: Quoted → Small deposit (小定)",
        "张伟 · Deal moved: Lead → Quoted",
        "张伟 · Deal opened: Lead",
    ]
    assert not any("small_deposit" in line or " stage" in line for line in lines)


def test_deal_history_on_the_timeline_follows_the_language_of_each_request(owner, customer, moved):
    """The timeline titles are looked up per request, not once when the module loads."""

    def deal_lines(language):
        with translation.override(language):
            events = timeline_for(customer=customer, viewer=owner, kinds=["deal"])
            return [(e.title, e.body) for e in events if e.icon == "briefcase"]

    assert deal_lines("zh-hans")[0] == ("成交阶段变更", "三居室: 已报价 → 小定")
    assert deal_lines("en")[0] == ("Deal moved", "三居室: Quoted → Small deposit (小定)")
