"""What the user sees: the value panel on the customer page with the next action, the
customer list filtered by value class / RFM segment / lifecycle, the analyst's checklist,
the profitability ranking, and the API."""

import json

from guanxi.insights.engine import recompute_all
from guanxi.insights.services import churn_scan
from tests.conftest import new_customer

from .conftest import history, purchase


def test_the_customer_page_shows_stage_and_next_action_in_chinese(
    client, settings, owner, finance, customer, goods
):
    settings.LANGUAGE_CODE = "zh-hans"
    purchase(owner, finance, customer, goods, days_ago=5)
    recompute_all()
    client.force_login(owner)
    page = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="value-panel"' in page
    assert "确认期" in page and "首次成交后回访" in page


def test_the_customer_page_shows_the_churn_warning_with_its_reason(
    client, owner, finance, customer, goods
):
    history(owner, finance, customer, goods, [200, 130])
    recompute_all()
    churn_scan()
    client.force_login(owner)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="churn-warning"' in page
    assert "130 days without a purchase (warning after 113)." in page


def test_the_customer_list_filters_by_value_class_segment_and_lifecycle(
    client, owner, finance, goods
):
    big = new_customer(owner, "大客户", ("13900000001",))
    small = new_customer(owner, "小客户", ("13900000002",))
    new = new_customer(owner, "新客户", ("13900000003",))
    history(owner, finance, big, goods, [90, 60, 30, 1], amount="50000.00")
    purchase(owner, finance, small, goods, amount="100.00", days_ago=100)
    recompute_all()
    client.force_login(owner)

    def names(query):
        page = client.get(f"/customers/?{query}").content.decode()
        return {n for n in ("大客户", "小客户", "新客户") if n in page}

    assert names("abc=A") == {"大客户"}
    assert names("rfm=important_value") == {"大客户"}
    assert names("lifecycle=cultivation") == {"新客户"}
    assert names("lifecycle=confirmation") == {"小客户"}
    del new


def test_an_unknown_filter_value_is_an_error_not_a_500(client, owner):
    client.force_login(owner)
    response = client.get("/customers/?abc=Z", follow=True)
    assert response.status_code == 200
    assert "Unknown filter value." in response.content.decode()


def test_the_checklist_answers_the_analysts_questions(client, owner, finance, goods, customer):
    history(owner, finance, customer, goods, [90, 60, 30], amount="30000.00")
    recompute_all()
    client.force_login(owner)
    page = client.get("/insights/checklist/").content.decode()
    for section in (
        "gold",
        "costly",
        "complained",
        "silent-top",
        "cross-sell",
        "top-revenue",
        "top-growth",
    ):
        assert f'id="{section}"' in page
    assert "张三" in page


def test_the_profitability_ranking_lists_value_against_cost(
    client, owner, finance, goods, customer
):
    purchase(owner, finance, customer, goods, amount="10000.00")
    recompute_all()
    client.force_login(owner)
    page = client.get("/insights/profitability/").content.decode()
    assert "张三" in page and "¥2,000.00" in page and "¥1,800.00" in page


def test_the_api_gives_a_customers_value_figures(client, owner, finance, goods, customer):
    history(owner, finance, customer, goods, [60, 30, 0])
    recompute_all()
    client.force_login(owner)
    body = client.get(f"/api/v1/insights/customers/{customer.pk}").json()
    assert (body["stage"], body["purchases"], body["abc"]) == ("trust", 3, "A")
    assert body["stage_name"] == "Trust (信任)" and body["next_action"].startswith("Reward")


def test_the_api_dismisses_a_warning_and_refuses_one_without_a_reason(
    client, owner, finance, goods, customer
):
    history(owner, finance, customer, goods, [130])
    recompute_all()
    churn_scan()
    client.force_login(owner)
    [warning] = client.get("/api/v1/insights/churn").json()
    url = f"/api/v1/insights/churn/{warning['id']}/decide"
    bad = client.post(
        url, json.dumps({"action": "dismiss", "reason": ""}), content_type="application/json"
    )
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (422, "required", "reason")
    ok = client.post(
        url,
        json.dumps({"action": "dismiss", "reason": "已转为批发客户"}),
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "dismissed"


def test_an_outsider_gets_404_for_a_customers_value(client, outsider, customer):
    client.force_login(outsider)
    assert client.get(f"/api/v1/insights/customers/{customer.pk}").status_code == 404
