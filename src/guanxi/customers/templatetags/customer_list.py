"""{% load customer_list %}: the list's cells, written by customers/list_cells.py."""

from django import template

from ..list_cells import cell, cells

register = template.Library()


@register.simple_tag
def list_cells(c, columns, editable):
    return cells(c, columns, editable)


@register.simple_tag
def list_cell(c, col, editable, saved=False):
    return cell(c, col, editable, saved=bool(saved))
