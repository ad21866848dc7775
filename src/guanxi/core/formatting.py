"""How numbers read on every page, in both languages: CNY with thousands separators and two
decimals (¥2,670,000.00 — the form Chinese contracts and bank slips use too), and counts
grouped by thousands (12,345); dates in the reader's language (2026年12月3日 / 3 December 2026,
2026-12-03 / 3 Dec 2026 in table cells), from the format modules in guanxi/formats."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import dateformat, timezone
from django.utils.formats import get_format, get_format_modules
from django.utils.translation import get_language

CENT = Decimal("0.01")


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value, currency: str = "¥") -> str:
    """¥2,670,000.00; '—' for nothing; a negative amount as −¥50.00."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "−" if amount < 0 else ""
    return f"{sign}{currency}{abs(amount):,.2f}"


def grouped(value) -> str:
    """12,345 for a count; other values unchanged."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,}"


# Formats Django has no setting for, with the value used when a language's module lacks them.
EXTRA_DATE_FORMATS = {
    "MONTH_DAY_TIME_FORMAT": "m-d H:i",
    "WEEKDAY_DATE_FORMAT": "Y-m-d l",
    "SHORT_DATETIME_SECONDS_FORMAT": "Y-m-d H:i:s",
}


def date_format_for(name: str) -> str:
    """The active language's format string for a Django name (SHORT_DATE_FORMAT…) or one of
    EXTRA_DATE_FORMATS; any other string is taken as a format itself."""
    if name in EXTRA_DATE_FORMATS:
        for module in get_format_modules(get_language()):
            found = getattr(module, name, None)
            if found:
                return str(found)
        return EXTRA_DATE_FORMATS[name]
    return str(get_format(name))


def local_date(value: date | datetime | None, name: str = "SHORT_DATE_FORMAT") -> str:
    """A date or moment as the reader's language writes it, in the office's time zone; ''
    for nothing. For text built in Python (notices, timeline sentences, choice labels)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, date_format_for(name))
