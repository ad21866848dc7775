"""Occasions (SPEC C2): birthdays, important dates and Chinese festivals, with greetings.

Lunar festivals are resolved to their Gregorian date for each year with `lunardate`.
"""

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from lunardate import LunarDate

from .models import GreetingTemplate

Occasion = GreetingTemplate.Occasion
LUNAR_FESTIVALS = {
    Occasion.SPRING_FESTIVAL: (1, 1),
    Occasion.LANTERN: (1, 15),
    Occasion.DRAGON_BOAT: (5, 5),
    Occasion.MID_AUTUMN: (8, 15),
}
SOLAR_FESTIVALS = {Occasion.NEW_YEAR: (1, 1), Occasion.NATIONAL_DAY: (10, 1)}


def festivals(year: int) -> dict[str, date]:
    """Gregorian dates of the festivals that fall in `year`."""
    return dict(_festivals(year))


@functools.cache
def _festivals(year: int) -> tuple[tuple[str, date], ...]:
    """Computed once per year: the lunar conversion is the slow part of "my day"."""
    found = {code: date(year, m, d) for code, (m, d) in SOLAR_FESTIVALS.items()}
    for code, (month, day) in LUNAR_FESTIVALS.items():
        found[code] = LunarDate(year, month, day).to_solar_date()
    return tuple(found.items())


def anniversary_in(original: date, year: int) -> date:
    """This year's date of a yearly occasion; 29 February falls on 28 February otherwise."""
    try:
        return original.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def next_anniversary(original: date, start: date) -> date:
    candidate = anniversary_in(original, start.year)
    return candidate if candidate >= start else anniversary_in(original, start.year + 1)


@dataclass
class UpcomingOccasion:
    date: date
    occasion: str
    label: str
    customer: object | None = None
    greeting: str = ""


DEFAULT_GREETINGS = {
    ("birthday", "zh-hans"): "{name}您好！祝您生日快乐，身体健康，万事如意！——{salesperson}",
    ("birthday", "en"): "Happy birthday, {name}! Wishing you health and happiness. — {salesperson}",
    ("anniversary", "zh-hans"): "{name}您好！在这个特别的日子，祝您一切顺利！——{salesperson}",
    ("anniversary", "en"): "Dear {name}, best wishes on this special day. — {salesperson}",
    ("spring_festival", "zh-hans"): "{name}您好！新春快乐，阖家幸福，万事如意！——{salesperson}",
    ("spring_festival", "en"): "Happy Spring Festival, {name}! — {salesperson}",
    ("lantern", "zh-hans"): "{name}您好！元宵节快乐，团团圆圆！——{salesperson}",
    ("lantern", "en"): "Happy Lantern Festival, {name}! — {salesperson}",
    ("dragon_boat", "zh-hans"): "{name}您好！端午安康！——{salesperson}",
    ("dragon_boat", "en"): "Happy Dragon Boat Festival, {name}! — {salesperson}",
    ("mid_autumn", "zh-hans"): "{name}您好！中秋快乐，花好月圆，阖家团圆！——{salesperson}",
    ("mid_autumn", "en"): "Happy Mid-Autumn Festival, {name}! — {salesperson}",
    ("national_day", "zh-hans"): "{name}您好！国庆快乐！——{salesperson}",
    ("national_day", "en"): "Happy National Day, {name}! — {salesperson}",
    ("new_year", "zh-hans"): "{name}您好！新年快乐，万事顺意！——{salesperson}",
    ("new_year", "en"): "Happy New Year, {name}! — {salesperson}",
}


class GreetingBook:
    """One user's greeting templates in one language, loaded once: their own, else the
    company's, else the built-in text."""

    def __init__(self, salesperson, language: str | None = None):
        self.salesperson = salesperson
        self.language = "en" if (language or get_language() or "").startswith("en") else "zh-hans"
        rows = GreetingTemplate.objects.filter(language=self.language).filter(
            Q(owner=salesperson) | Q(owner__isnull=True)
        )
        self.texts: dict[tuple[str, bool], str] = {
            (row.occasion, row.owner_id is not None): row.text for row in rows
        }

    def text(self, occasion: str, customer_name: str) -> str:
        template = (
            self.texts.get((occasion, True))
            or self.texts.get((occasion, False))
            or DEFAULT_GREETINGS.get((occasion, self.language), "{name}")
        )
        return template.replace("{name}", customer_name).replace(
            "{salesperson}", str(self.salesperson)
        )


def upcoming_occasions(*, user, customers, important_dates, start: date, days: int = 7):
    """Occasions of `user`'s customers and festivals from `start` for `days` days.

    `customers` yields (id, name, birthday); `important_dates` yields
    (customer id, customer name, label, date, yearly).
    """
    end = start + timedelta(days=days)
    book = GreetingBook(user)
    found: list[UpcomingOccasion] = []
    for customer_id, name, birthday in customers:
        if birthday:
            when = next_anniversary(birthday, start)
            if when < end:
                found.append(
                    UpcomingOccasion(
                        when,
                        Occasion.BIRTHDAY,
                        _("Birthday of %s") % name,
                        customer_id,
                        book.text(Occasion.BIRTHDAY, name),
                    )
                )
    for customer_id, name, label, original, yearly in important_dates:
        when = next_anniversary(original, start) if yearly else original
        if start <= when < end:
            found.append(
                UpcomingOccasion(
                    when,
                    Occasion.ANNIVERSARY,
                    f"{label} · {name}",
                    customer_id,
                    book.text(Occasion.ANNIVERSARY, name),
                )
            )
    for year in {start.year, end.year}:
        for code, when in festivals(year).items():
            if start <= when < end:
                found.append(
                    UpcomingOccasion(
                        when,
                        code,
                        Occasion(code).label,
                        None,
                        book.text(code, _("customer")),
                    )
                )
    found.sort(key=lambda o: o.date)
    return found
