"""{% load guanxi_format %}: {{ deal.amount|money }} → ¥2,670,000.00, {{ n|grouped }} → 12,345,
{{ when|local_date:"MONTH_DAY_TIME_FORMAT" }} → 12月3日 14:30 / 3 Dec, 14:30 (formats Django has no
setting name for; for Django's own names the date filter does the same)."""

from django import template

from guanxi.core import formatting

register = template.Library()


@register.filter
def money(value):
    return formatting.money(value)


@register.filter
def grouped(value):
    return formatting.grouped(value)


@register.filter(expects_localtime=True)
def local_date(value, name="SHORT_DATE_FORMAT"):
    return formatting.local_date(value, name)
