"""{% load customer_list %}: the list's rows and cells, written by customers/list_cells.py."""

from django import template

from ..list_cells import cell, rows

register = template.Library()


@register.simple_tag
def list_rows(items, columns, editable, can_bulk, bulk_actions):
    """The rows, with a tick box each when the page offers bulk actions."""
    return rows(items, columns, editable, tick=bool(can_bulk and bulk_actions))


@register.simple_tag
def list_cell(c, col, editable, saved=False):
    return cell(c, col, editable, saved=bool(saved))
