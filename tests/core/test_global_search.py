"""SPEC: global search in the header finds customers (name, pinyin, phone digits), deals,
units and colleagues, grouped by kind, and never a record the viewer may not open."""

from decimal import Decimal

import pytest

from guanxi.core.search import SearchHit, global_search, register_search_kind, search_kinds
from guanxi.sales import services as sales
from guanxi.sales.models import InventoryUnit, Product
from tests.conftest import new_customer


@pytest.fixture
def flat(db):
    return Product.objects.create(
        name="锦绣华庭 三居室", sku="JXHT-3R", list_price=Decimal("2670000.00"), has_units=True
    )


@pytest.fixture
def unit(flat):
    return InventoryUnit.objects.create(
        product=flat,
        code="JXHT-1-1202",
        building="1",
        floor=12,
        number="1202",
        area=Decimal("118.50"),
        list_price=Decimal("2670000.00"),
        status="available",
    )


def group(groups, kind):
    return next(g for g in groups if g.kind.kind == kind)


def kinds(groups):
    return {g.kind.kind: [h.title for h in g.hits] for g in groups}


def test_customer_found_by_pinyin_initials_and_last_four_digits(owner):
    new_customer(owner, "肖佳", ("13911111111",))
    assert kinds(global_search(viewer=owner, q="xj"))["customers"] == ["肖佳"]
    assert kinds(global_search(viewer=owner, q="1111"))["customers"] == ["肖佳"]


def test_exact_name_comes_first(owner):
    new_customer(owner, "肖佳", ("13911111111",))
    new_customer(owner, "肖佳怡", ("13922222222",))
    assert kinds(global_search(viewer=owner, q="肖佳"))["customers"][0] == "肖佳"


def test_outsider_does_not_find_another_branchs_customer(owner, outsider):
    new_customer(owner, "肖佳", ("13911111111",))
    assert "customers" not in kinds(global_search(viewer=outsider, q="肖佳"))


def test_masked_phone_in_the_result_for_a_viewer_who_may_not_read_it(owner, receptionist):
    new_customer(owner, "肖佳", ("13911111111",))
    hit = global_search(viewer=receptionist, q="肖佳")[0].hits[0]
    assert "13911111111" not in hit.detail and "1111" in hit.detail


def test_deal_found_by_title_and_customer_only_when_visible(owner, outsider, flat, unit):
    customer = new_customer(owner, "肖佳", ("13911111111",))
    sales.deal_create(
        actor=owner,
        customer_id=customer.pk,
        title="三居室 1202",
        amount="2670000",
        product_id=flat.pk,
    )
    found = kinds(global_search(viewer=owner, q="三居室"))
    assert found["deals"] == ["三居室 1202"]
    assert "deals" not in kinds(global_search(viewer=outsider, q="三居室"))


def test_deal_result_shows_amount_with_separators(owner, flat):
    customer = new_customer(owner, "肖佳", ("13911111111",))
    sales.deal_create(
        actor=owner, customer_id=customer.pk, title="三居室", amount="2670000", product_id=flat.pk
    )
    hit = group(global_search(viewer=owner, q="三居室"), "deals").hits[0]
    assert "¥2,670,000.00" in hit.detail


def test_unit_found_by_code_links_to_the_board(owner, unit):
    hit = group(global_search(viewer=owner, q="jxht-1-12"), "units").hits[0]
    assert hit.title == "JXHT-1-1202"
    assert hit.url == f"/sales/board/?product={unit.product_id}"
    assert "¥2,670,000.00" in hit.detail


def test_colleagues_found_by_admin_not_by_salesperson(admin_user, owner, teammate):
    assert kinds(global_search(viewer=admin_user, q="李娜"))["users"] == ["李娜"]
    assert "users" not in kinds(global_search(viewer=owner, q="李娜"))


def test_manager_finds_only_colleagues_of_their_units(manager, teammate, outsider):
    assert kinds(global_search(viewer=manager, q="sales"))["users"] == ["李娜"]


def test_groups_in_order_customers_deals_units_colleagues(db):
    order = [k.kind for k in search_kinds()]
    assert order.index("customers") < order.index("deals") < order.index("units")
    assert order.index("units") < order.index("users")


def test_another_app_adds_a_kind_through_the_registry(owner):
    register_search_kind(
        "tickets",
        "Tickets",
        lambda *, viewer, q, limit: [SearchHit(title=f"T-{q}", url="/tickets/1/")],
        order=40,
    )
    try:
        assert kinds(global_search(viewer=owner, q="42"))["tickets"] == ["T-42"]
    finally:
        from guanxi.core import search

        search._KINDS.pop("tickets")


def test_empty_query_searches_nothing(owner):
    new_customer(owner, "肖佳", ("13911111111",))
    assert global_search(viewer=owner, q="   ") == []


def test_dropdown_partial_groups_results_by_kind(client, owner, flat):
    customer = new_customer(owner, "肖佳", ("13911111111",))
    sales.deal_create(
        actor=owner, customer_id=customer.pk, title="肖佳 三居室", amount="0", product_id=flat.pk
    )
    client.force_login(owner)
    response = client.get("/search/", {"q": "肖佳"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'data-kind="customers"' in html and 'data-kind="deals"' in html
    assert f'href="/customers/{customer.pk}/"' in html


def test_search_page_in_chinese_names_groups_and_says_when_nothing_matches(client, owner, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    html = client.get(
        "/search/", {"q": "不存在的人"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "没有与“不存在的人”匹配的结果" in html


def test_header_has_the_search_box_with_its_shortcut(client, owner):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'id="global-search"' in html and 'aria-keyshortcuts="/"' in html


def test_long_or_odd_input_never_fails(client, owner):
    client.force_login(owner)
    for q in ["%", "'\"", "x" * 500, "+86 (139) 1111-1111", "@", "\x00"]:
        assert client.get("/search/", {"q": q}).status_code == 200


def test_anonymous_is_sent_to_log_in(client, db):
    assert client.get("/search/", {"q": "x"}).status_code == 302
