"""CNY amounts as people read them: ¥2,670,000.00 in both languages."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()
CENT = Decimal("0.01")


@register.filter
def cny(value) -> str:
    try:
        amount = Decimal(value if value is not None else 0)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    # Chinese and English both group by thousands with commas; Django's zh-Hans formats set
    # no grouping, so the grouping is done here.
    return f"{sign}¥{abs(amount).quantize(CENT):,}"
