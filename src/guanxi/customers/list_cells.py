"""The customer list's cells, written in Python.

A page shows 25 rows of up to 11 columns; an `{% include %}` per cell, each walking an
`{% if %}` chain over the column keys, was most of the list page's CPU time (issue 19).
One function per column writes the cell's text here, escaped by `format_html`; the list
page and the inline editor's "saved" answer both use `cell`.
"""

from collections.abc import Callable, Iterable

from django.urls import reverse
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _

from guanxi.core import formatting

from .models import Customer
from .templatetags.customer_search import highlight

DASH = "—"


def _date(value) -> str:
    if value is None:
        return ""
    return formats.date_format(template_localtime(value), "SHORT_DATE_FORMAT")


def _phone(c: Customer) -> str:
    if c.viewer_unmasked and c.primary_phone:
        return format_html(
            '<a class="text-reset text-decoration-none" href="tel:{}">{}</a>',
            c.primary_phone,
            c.phone_display,
        )
    return conditional_escape(c.phone_display)


def _region(c: Customer) -> str:
    if not (c.province or c.city or c.district):
        return DASH
    city = f" {c.city}" if c.city and c.city != c.province else ""
    return conditional_escape(f"{c.province}{city} {c.district}")


def _follow_up(c: Customer) -> str:
    text = conditional_escape(_date(c.next_follow_up_at) or DASH)
    if c.follow_up_overdue:
        return format_html(
            '{} <span class="badge text-bg-danger overdue">{}</span>', text, _("overdue")
        )
    return text


def _text(value) -> str:
    return conditional_escape(value or DASH)


CONTENT: dict[str, Callable[[Customer], str]] = {
    "phone": _phone,
    "company": lambda c: conditional_escape(highlight(c.company, c.search_term) or DASH),
    "stage": lambda c: conditional_escape(c.get_stage_display()),
    "relationship": lambda c: _text(c.get_relationship_display()),
    "segment": lambda c: _text(c.segment and str(c.segment)),
    "owner": lambda c: conditional_escape(str(c.owner) if c.owner else _("Public pool")),
    "region": _region,
    "last_contact": lambda c: _text(_date(c.last_contact_at)),
    "next_follow_up": _follow_up,
    "revenue": lambda c: conditional_escape(formatting.money(c.revenue)),
    "created": lambda c: conditional_escape(_date(c.created_at)),
}


def _css(c: Customer, key: str, saved: bool) -> str:
    css = ""
    if key == "phone":
        css = "masked text-nowrap"
    elif key == "next_follow_up" and c.follow_up_overdue:
        css = "text-danger fw-semibold"
    elif key == "revenue":
        css = "text-end text-nowrap"
    return f"{css} table-success" if saved else css


class _Urls:
    """The detail and inline-edit links of one page: each pattern reversed once, then the
    customer's id put in (a page writes 25 – 75 of them)."""

    _ID = 987654321987654321

    def __init__(self):
        self._patterns: dict[tuple, str] = {}

    def get(self, name: str, pk: int, *args) -> str:
        pattern = self._patterns.get((name, *args))
        if pattern is None:
            pattern = reverse(name, args=[self._ID, *args]).replace(str(self._ID), "{pk}")
            self._patterns[(name, *args)] = pattern
        return pattern.replace("{pk}", str(pk))


def cell(
    c: Customer, col, editable: Iterable[str], saved: bool = False, urls: _Urls | None = None
) -> SafeString:
    """One `<td>`: column `col` of customer `c`, with the pencil that swaps in its editor
    (list_cell_edit.html) when the column is in `editable` and the customer is active."""
    key = col.key
    content = CONTENT[key](c)
    button = ""
    if key in editable and not c.archived_at:
        label = _("Edit %(label)s") % {"label": col.label}
        button = format_html(
            ' <button type="button" class="btn btn-link btn-sm p-0 ms-1 text-secondary '
            'inline-edit" aria-label="{}" hx-get="{}" hx-target="#cell-{}-{}" '
            'hx-swap="outerHTML"><i class="bi bi-pencil" aria-hidden="true"></i></button>',
            label,
            (urls or _Urls()).get("customers:inline_edit", c.pk, key),
            c.pk,
            key,
        )
    return format_html(
        '<td id="cell-{}-{}" data-column="{}" class="{}">{}{}</td>',
        c.pk,
        key,
        key,
        _css(c, key, saved),
        content,
        button,
    )


def _name_cell(c: Customer, urls: _Urls) -> SafeString:
    archived = ""
    if c.archived_at:
        archived = format_html(' <span class="badge text-bg-secondary">{}</span>', _("archived"))
    match = ""
    if c.search_match:
        label, text = c.search_match
        match = format_html(
            '\n        <div class="small text-secondary text-truncate search-match">{}: {}</div>',
            label,
            conditional_escape(highlight(text, c.search_term)),
        )
    return format_html(
        '<td><a href="{}">{}</a>{}{}</td>',
        urls.get("customers:detail", c.pk),
        conditional_escape(highlight(c.name, c.search_term)),
        archived,
        match,
    )


def rows(items, columns, editable: Iterable[str], tick: bool) -> SafeString:
    """The list's `<tr>`s: the tick box (when bulk actions are offered), the name with the
    search match under it, then the user's columns in their order."""
    urls = _Urls()
    out = []
    for c in items:
        box = ""
        if tick:
            box = format_html(
                '\n      <td class="bulk-select"><input class="form-check-input" type="checkbox" '
                'name="ids" value="{}" form="bulk" aria-label="{}"></td>',
                c.pk,
                _("Tick %(name)s") % {"name": c.name},
            )
        out.append(
            format_html(
                "<tr>{}\n      {}\n      {}\n    </tr>",
                box,
                _name_cell(c, urls),
                mark_safe("".join(cell(c, col, editable, urls=urls) for col in columns)),
            )
        )
    return mark_safe("\n    ".join(out))  # every piece is escaped above
