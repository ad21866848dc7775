"""CNY amounts as people read them: ¥2,670,000.00 in both languages."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def cny(value) -> str:
    try:
        amount = Decimal(value if value is not None else 0)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{number_format(abs(amount), 2, force_grouping=True)}"
