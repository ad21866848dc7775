"""Occasions (SPEC C2): lunar festivals on the right Gregorian date each year, birthdays and
important dates in "my day", greetings from the user's, the company's or the built-in text.

Dates checked against `lunardate` and the published calendars: Mid-Autumn (八月十五) fell on
2025-10-06 and falls on 2026-09-25; Spring Festival (正月初一) on 2026-02-17 and 2027-02-06.
"""

from datetime import date

import pytest
from django.utils import translation

from guanxi.customers.models import ImportantDate
from guanxi.interactions.models import GreetingTemplate
from guanxi.interactions.occasions import GreetingBook, festivals
from guanxi.interactions.selectors import my_day
from tests.conftest import new_customer

from .helpers import local, set_fields


@pytest.mark.parametrize(
    ("year", "expected"), [(2025, date(2025, 10, 6)), (2026, date(2026, 9, 25))]
)
def test_mid_autumn_on_its_gregorian_date(year, expected):
    assert festivals(year)["mid_autumn"] == expected


@pytest.mark.parametrize(
    ("year", "expected"), [(2026, date(2026, 2, 17)), (2027, date(2027, 2, 6))]
)
def test_spring_festival_on_its_gregorian_date(year, expected):
    assert festivals(year)["spring_festival"] == expected


def test_solar_festivals_keep_their_date():
    found = festivals(2026)
    assert (found["national_day"], found["new_year"]) == (date(2026, 10, 1), date(2026, 1, 1))


def _occasions(user):
    return [(o.occasion, o.date, o.customer) for o in my_day(user=user).occasions]


@pytest.mark.parametrize(
    ("today", "festival_day"),
    [(local(2025, 10, 2, 9), date(2025, 10, 6)), (local(2026, 9, 22, 9), date(2026, 9, 25))],
)
def test_mid_autumn_appears_in_my_day_in_the_week_before(clock, owner, today, festival_day):
    clock.move_to(today, tick=False)
    assert ("mid_autumn", festival_day, None) in _occasions(owner)


def test_spring_festival_appears_in_my_day_on_new_years_eve(clock, owner):
    clock.move_to(local(2027, 2, 5, 9), tick=False)
    assert ("spring_festival", date(2027, 2, 6), None) in _occasions(owner)


def test_birthdays_within_7_days_are_in_my_day(clock, owner):
    """Today is 2026-03-02: birthdays from 03-02 to 03-08 count, not 03-01 nor 03-09."""
    expected = {}
    for name, born, shown in [
        ("今天", date(1990, 3, 2), True),
        ("三天后", date(1985, 3, 5), True),
        ("第七天", date(1970, 3, 8), True),
        ("第八天", date(1970, 3, 9), False),
        ("昨天", date(1992, 3, 1), False),
    ]:
        c = new_customer(owner, name, (), birthday=born)
        if shown:
            expected[c.pk] = date(2026, born.month, born.day)
    found = {c: d for kind, d, c in _occasions(owner) if kind == "birthday"}
    assert found == expected


def test_birthday_across_the_new_year(clock, owner):
    clock.move_to(local(2026, 12, 29, 9), tick=False)
    c = new_customer(owner, "元旦后", (), birthday=date(1985, 1, 2))
    assert ("birthday", date(2027, 1, 2), c.pk) in _occasions(owner)


@pytest.mark.parametrize(
    ("today", "celebrated"),
    [
        (local(2027, 2, 25, 9), date(2027, 2, 28)),  # common year: on 28 February
        (local(2028, 2, 26, 9), date(2028, 2, 29)),  # leap year: on the day itself
    ],
)
def test_birthday_on_29_february(clock, owner, today, celebrated):
    clock.move_to(today, tick=False)
    c = new_customer(owner, "闰日", (), birthday=date(2000, 2, 29))
    assert ("birthday", celebrated, c.pk) in _occasions(owner)


def test_only_my_own_active_customers_birthdays(clock, owner, teammate):
    mine = new_customer(owner, "我的", (), birthday=date(1990, 3, 3))
    new_customer(teammate, "别人的", (), birthday=date(1990, 3, 3))
    archived = new_customer(owner, "已归档", (), birthday=date(1990, 3, 3))
    set_fields(archived, archived_at=local(2026, 1, 1))
    assert [c for kind, _, c in _occasions(owner) if kind == "birthday"] == [mine.pk]


def test_important_dates_yearly_and_one_off(clock, owner, customer):
    ImportantDate.objects.bulk_create(
        [
            ImportantDate(
                customer=customer, label="结婚纪念日", date=date(2010, 3, 4), yearly=True
            ),
            ImportantDate(customer=customer, label="孩子开学", date=date(2026, 3, 6), yearly=False),
            ImportantDate(customer=customer, label="去年出差", date=date(2025, 3, 5), yearly=False),
            ImportantDate(customer=customer, label="下月旅行", date=date(2026, 4, 1), yearly=False),
        ]
    )
    found = [(o.date, o.label) for o in my_day(user=owner).occasions if o.customer]
    assert found == [
        (date(2026, 3, 4), "结婚纪念日 · 张三"),
        (date(2026, 3, 6), "孩子开学 · 张三"),
    ]


def test_greeting_built_in_in_both_languages(owner):
    assert GreetingBook(owner, "en").text("birthday", "张三").startswith("Happy birthday, 张三!")
    assert GreetingBook(owner, "zh-hans").text("birthday", "张三") == (
        "张三您好！祝您生日快乐，身体健康，万事如意！——张伟"
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_greeting_users_own_overrides_company_overrides_built_in(owner, teammate, language):
    GreetingTemplate.objects.create(
        occasion="mid_autumn", language=language, owner=None, text=f"{language} company {{name}}"
    )
    GreetingTemplate.objects.create(
        occasion="mid_autumn",
        language=language,
        owner=owner,
        text=f"{language} mine {{name}} {{salesperson}}",
    )
    assert GreetingBook(owner, language).text("mid_autumn", "王五") == f"{language} mine 王五 张伟"
    assert GreetingBook(teammate, language).text("mid_autumn", "王五") == f"{language} company 王五"
    other = "zh-hans" if language == "en" else "en"
    assert "company" not in GreetingBook(teammate, other).text("mid_autumn", "王五")


def test_my_day_greeting_follows_the_active_language(clock, owner):
    new_customer(owner, "寿星", (), birthday=date(1990, 3, 3))
    GreetingTemplate.objects.create(
        occasion="birthday", language="zh-hans", owner=owner, text="{name}，生日快乐！"
    )
    with translation.override("zh-hans"):
        zh = [o.greeting for o in my_day(user=owner).occasions if o.occasion == "birthday"]
    with translation.override("en"):
        en = [o.greeting for o in my_day(user=owner).occasions if o.occasion == "birthday"]
    assert (zh, en[0].startswith("Happy birthday, 寿星")) == (["寿星，生日快乐！"], True)
