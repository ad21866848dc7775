"""The salesperson's day on the web (SPEC C2): "my day", logging from it, plans, the
manager's team view and the administrator's cadence settings."""

import re
from datetime import date, timedelta

import pytest

from guanxi.customers.models import Customer
from guanxi.interactions.models import CadenceRule, Interaction, Plan, Promise
from guanxi.interactions.selectors import LIST_LIMIT, weekly_plan_date
from tests.conftest import new_customer

from .helpers import local, section, set_fields


@pytest.fixture
def busy_day(clock, owner, teammate, customer):
    """sales1: 张三 overdue since Friday, 李四 due this afternoon, 赵六 next week, a promise
    due today; sales2: 孙七 overdue."""
    set_fields(customer, next_follow_up_at=local(2026, 2, 27, 10, 30), follow_up_step="Ask again")
    set_fields(
        new_customer(owner, "李四", ("13800001111",)), next_follow_up_at=local(2026, 3, 2, 15)
    )
    set_fields(
        new_customer(owner, "赵六", ("13800002222",)), next_follow_up_at=local(2026, 3, 9, 15)
    )
    set_fields(
        new_customer(teammate, "孙七", ("13800003333",)), next_follow_up_at=local(2026, 2, 20, 15)
    )
    Promise.objects.create(
        customer=customer, made_by=owner, text="Send the quote", due_date=date(2026, 3, 2)
    )
    Promise.objects.create(
        customer=customer, made_by=owner, text="Invite to the launch", due_date=date(2026, 3, 20)
    )


def test_my_day_lists_overdue_due_and_promises(busy_day, client, owner):
    client.force_login(owner)
    html = client.get("/my-day/").content.decode()
    overdue, due, promises = (section(html, i) for i in ("overdue", "due-today", "promises-due"))
    assert ("张三" in overdue, "Ask again" in overdue, "李四" in overdue) == (True, True, False)
    assert ("李四" in due, "张三" in due, "赵六" in due) == (True, False, False)
    assert ("Send the quote" in promises, "Invite to the launch" in promises) == (True, False)
    assert "孙七" not in html
    assert "138****" not in overdue  # the owner reads own phones in clear


def test_my_day_api_matches_the_page(busy_day, client, owner):
    client.force_login(owner)
    body = client.get("/api/v1/my-day").json()
    assert body["day"] == "2026-03-02"
    assert [r["name"] for r in body["overdue"]] == ["张三"]
    assert [r["name"] for r in body["due_today"]] == ["李四"]
    assert [p["text"] for p in body["promises"]] == ["Send the quote"]
    assert (body["overdue_count"], body["due_today_count"], body["more_promises"]) == (1, 1, False)


def test_log_from_my_day_reschedules_and_returns_the_fragment(busy_day, client, owner, customer):
    client.force_login(owner)
    form = client.get(f"/customers/{customer.pk}/log/?return_to=my_day").content.decode()
    assert "2 Mar, 10:30" in form  # suggested slots, Shanghai time
    response = client.post(
        f"/customers/{customer.pk}/log/",
        {
            "kind": "call_out",
            "outcome": "answered",
            "summary": "Will decide after the weekend",
            "promise_0": "Send the brochure",
            "promise_due_0": "2026-03-03",
            "return_to": "my_day",
        },
    )
    html = response.content.decode()
    assert response["HX-Trigger"] == "interaction-logged"
    assert 'id="logged"' in html and "Logged." in html
    # The earliest open promise (busy_day's, due today) brings the follow-up forward from
    # 03-16 to today's next good slot.
    assert '<strong id="next-follow-up">2 Mar 2026, 10:30</strong>' in html
    assert Promise.objects.filter(text="Send the brochure", due_date=date(2026, 3, 3)).exists()
    overdue = section(client.get("/my-day/").content.decode(), "overdue")
    assert "张三" not in overdue


def test_log_form_shows_errors_and_writes_nothing(busy_day, client, owner, customer):
    client.force_login(owner)
    html = client.post(
        f"/customers/{customer.pk}/log/",
        {"kind": "note", "outcome": "answered", "summary": "x", "promise_0": "Call back"},
    ).content.decode()
    assert 'id="logged"' not in html
    assert "Only calls have an outcome." in html
    assert not Interaction.objects.exists()


def test_plans_saved_from_my_day(busy_day, client, owner):
    client.force_login(owner)
    for kind, text in [("morning", "Call 张三 first"), ("evening", "Two calls, one promise")]:
        assert client.post("/plans/", {"kind": kind, "text": text}).status_code == 302
    html = client.get("/my-day/").content.decode()
    assert "Call 张三 first" in html and "Two calls, one promise" in html
    plans = dict(Plan.objects.filter(user=owner).values_list("kind", "date"))
    assert plans == {"morning": date(2026, 3, 2), "evening": date(2026, 3, 2)}


def test_saving_a_plan_twice_keeps_one(busy_day, client, owner):
    client.force_login(owner)
    client.post("/plans/", {"kind": "morning", "text": "First draft"})
    client.post("/plans/", {"kind": "morning", "text": "Second draft"})
    assert list(Plan.objects.values_list("text", flat=True)) == ["Second draft"]


def test_weekly_plan_written_on_saturday_is_for_the_coming_week(busy_day, client, owner, clock):
    clock.move_to(local(2026, 3, 7, 17), tick=False)  # Saturday
    client.force_login(owner)
    client.post("/plans/", {"kind": "weekly", "text": "Close the two deposits"})
    assert Plan.objects.get(kind="weekly").date == date(2026, 3, 9)
    assert weekly_plan_date(date(2026, 3, 4)) == date(2026, 3, 2)
    html = client.get("/my-day/").content.decode()
    assert "written on Saturday" in html and "Close the two deposits" in html


def test_evening_summary_records_the_days_figures(clock, client, owner, customer):
    client.force_login(owner)
    client.post(f"/customers/{customer.pk}/log/", {"kind": "visit", "summary": "Came in"})
    client.post(
        f"/customers/{customer.pk}/log/",
        {
            "kind": "call_out",
            "summary": "Called",
            "promise_0": "Quote",
            "promise_due_0": "2026-03-04",
        },
    )
    client.post("/plans/", {"kind": "evening", "text": "Good day"})
    figures = Plan.objects.get(kind="evening").figures
    assert (figures["interactions"], figures["customers"], figures["promises_made"]) == (2, 1, 1)


def test_empty_plan_is_refused(busy_day, client, owner):
    client.force_login(owner)
    client.post("/plans/", {"kind": "morning", "text": "   "})
    assert not Plan.objects.exists()


def test_manager_team_view_shows_plans_and_overdue_counts(busy_day, client, owner, manager):
    client.force_login(owner)
    client.post("/plans/", {"kind": "morning", "text": "Call 张三 first"})
    client.force_login(manager)
    response = client.get("/team/")
    assert response.status_code == 200
    rows = {
        row.split("<td>", 2)[1].split("</td>")[0]: row
        for row in response.content.decode().split("<tr>")[2:]
    }
    assert set(rows) == {"张伟", "李娜"}
    assert ">1</td><td>1</td>" in rows["张伟"]  # one overdue, one due today
    assert "Call 张三 first" in rows["张伟"]
    assert ">1</td><td>0</td>" in rows["李娜"]


def test_team_view_only_covers_the_managers_units(busy_day, client, sh_manager, outsider):
    client.force_login(sh_manager)
    html = client.get("/team/").content.decode()
    assert ("陈静" in html, "张伟" in html) == (True, False)


@pytest.mark.parametrize("role", ["owner", "receptionist", "marketer"])
def test_team_view_is_404_for_others(busy_day, client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/team/").status_code == 404


def test_cadence_settings_page_saves_rules(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/settings/cadence/").status_code == 200
    data = {f"{code}-days": "" for code in CadenceRule.Code.values}
    data.update({"rel_hesitant-days": "4", "long_term-days": "45", "long_term-deliveries": "2"})
    data["rel_hesitant-next_step"] = "Answer the doubts"
    response = client.post("/settings/cadence/", data)
    assert response.status_code == 302
    rules = {r.code: (r.days, r.deliveries) for r in CadenceRule.objects.all()}
    assert rules["rel_hesitant"] == (4, None)
    assert rules["long_term"] == (45, 2)
    assert rules["rel_never"] == (None, None)


def test_cadence_settings_page_refuses_bad_numbers(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/settings/cadence/", {"rel_hesitant-days": "two"})
    assert response.status_code == 200
    assert "days must be whole numbers" in response.content.decode()
    assert not CadenceRule.objects.filter(code="rel_hesitant", days__isnull=False).exists()


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_cadence_settings_page_is_admin_only(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/settings/cadence/").status_code == 404
    assert client.post("/settings/cadence/", {"rel_hesitant-days": "1"}).status_code == 404
    assert not CadenceRule.objects.exists()


def test_my_day_needs_a_login(client):
    response = client.get("/my-day/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_notifications_are_shown_and_dismissed(busy_day, client, owner):
    from guanxi.interactions.tasks import scan_due_reminders_now

    scan_due_reminders_now()
    client.force_login(owner)
    html = client.get("/my-day/").content.decode()
    assert "2 follow-ups due today (1 overdue)" in html
    client.post("/notifications/read/")
    assert "follow-ups due today" not in client.get("/my-day/").content.decode()


def test_long_lists_show_the_most_urgent_first_and_the_totals(clock, client, owner):
    total = LIST_LIMIT + 5
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"客户{n:02d}",
            owner=owner,
            org_unit=owner.org_unit,
            next_follow_up_at=local(2026, 2, 1, 9) + timedelta(hours=n),  # 客户00: most overdue
        )
        for n in range(total)
    )
    Promise.objects.bulk_create(
        Promise(customer=c, made_by=owner, text=f"承诺{n:02d}", due_date=date(2026, 3, 1))
        for n, c in enumerate(customers)
    )
    client.force_login(owner)
    html = client.get("/my-day/").content.decode()
    overdue = section(html, "overdue")
    assert overdue.count('<li class="list-group-item" id="follow-up-') == LIST_LIMIT
    assert "客户00" in overdue and f"客户{total - 1:02d}" not in overdue
    assert f"{total} in all" in overdue
    assert f'id="overdue-count">{total}<' in html
    assert f'id="promises-count">{LIST_LIMIT}+<' in html
    assert section(html, "promises-due").count("承诺") == LIST_LIMIT


INPUT = re.compile(r'<input[^>]* name="([^"]+)" value="([^"]*)"')


def test_cadence_settings_page_shows_the_built_in_next_steps_in_chinese(
    client, admin_user, settings
):
    """The built-in next steps are placeholders in the user's language, not English values;
    saving the page unchanged keeps them built in (stored empty), so no English is saved."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(admin_user)
    html = client.get("/settings/cadence/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'placeholder="打电话推进成交"' in html
    assert "Call to move the deal on" not in html
    form = dict(INPUT.findall(html))
    assert form["unsigned_deal-next_step"] == "" and form["unsigned_deal-days"] == "7"
    response = client.post("/settings/cadence/", form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 302
    assert CadenceRule.objects.count() == len(CadenceRule.Code.values)
    assert set(CadenceRule.objects.values_list("next_step", flat=True)) == {""}


@pytest.mark.parametrize(
    "typed", ["Call to move the deal on", "打电话推进成交", " 打电话推进成交 "]
)
def test_cadence_settings_keep_the_built_in_next_step_when_it_is_typed(
    client, admin_user, settings, typed
):
    """The built-in text, in English (an old page, the API) or Chinese, stays built in."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(admin_user)
    data = {"unsigned_deal-days": "7", "unsigned_deal-next_step": typed}
    client.post("/settings/cadence/", data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert CadenceRule.objects.get(code="unsigned_deal").next_step == ""


def test_cadence_settings_page_keeps_an_admins_own_next_step(client, admin_user, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(admin_user)
    data = {"unsigned_deal-days": "5", "unsigned_deal-next_step": "约客户看样板间"}
    client.post("/settings/cadence/", data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert CadenceRule.objects.get(code="unsigned_deal").next_step == "约客户看样板间"
    html = client.get("/settings/cadence/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert dict(INPUT.findall(html))["unsigned_deal-next_step"] == "约客户看样板间"


def test_cadence_settings_page_shows_english_saved_by_an_older_page_as_built_in(
    client, admin_user, settings
):
    CadenceRule.objects.create(code="unsigned_deal", days=7, next_step="Call to move the deal on")
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(admin_user)
    html = client.get("/settings/cadence/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Call to move the deal on" not in html and 'placeholder="打电话推进成交"' in html
