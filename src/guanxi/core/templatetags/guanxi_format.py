"""{% load guanxi_format %}: {{ deal.amount|money }} → ¥2,670,000.00, {{ n|grouped }} → 12,345."""

from django import template

from guanxi.core import formatting

register = template.Library()


@register.filter
def money(value):
    return formatting.money(value)


@register.filter
def grouped(value):
    return formatting.grouped(value)
