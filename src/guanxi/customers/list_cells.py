"""The customer list's rows and cells, written in Python.

A page shows 25 rows of up to 11 columns; an `{% include %}` per cell, each walking an
`{% if %}` chain over the column keys, was most of the list page's CPU time (issue 19).
One function per column writes the cell's text here; every value goes through `esc` (the
standard library's `html.escape`, which Django's `escape` wraps: the same output without a
lazy-string wrapper per call). The list page and the inline editor's answer use `cell`.
"""

from collections.abc import Callable, Iterable
from html import escape

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from guanxi.core import formatting

from .models import Customer
from .templatetags.customer_search import highlight

DASH = "—"


def esc(value) -> str:
    """`value` as HTML text: escaped, unless it is already safe (a highlighted match)."""
    return value if isinstance(value, SafeString) else escape(str(value))


def _date(value) -> str:
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)  # as the template's date filter shows it
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _phone(c: Customer) -> str:
    if c.viewer_unmasked and c.primary_phone:
        return (
            f'<a class="text-reset text-decoration-none" href="tel:{esc(c.primary_phone)}">'
            f"{esc(c.phone_display)}</a>"
        )
    return esc(c.phone_display)


def _region(c: Customer) -> str:
    if not (c.province or c.city or c.district):
        return DASH
    city = f" {c.city}" if c.city and c.city != c.province else ""
    return esc(f"{c.province}{city} {c.district}")


def _follow_up(c: Customer) -> str:
    text = esc(_date(c.next_follow_up_at) or DASH)
    if c.follow_up_overdue:
        return f'{text} <span class="badge text-bg-danger overdue">{esc(_("overdue"))}</span>'
    return text


def _text(value) -> str:
    return esc(value or DASH)


CONTENT: dict[str, Callable[[Customer], str]] = {
    "phone": _phone,
    "company": lambda c: esc(highlight(c.company, c.search_term) or DASH),
    "stage": lambda c: esc(c.get_stage_display()),
    "relationship": lambda c: _text(c.get_relationship_display()),
    "segment": lambda c: _text(c.segment and str(c.segment)),
    "owner": lambda c: esc(str(c.owner) if c.owner else _("Public pool")),
    "region": _region,
    "last_contact": lambda c: _text(_date(c.last_contact_at)),
    "next_follow_up": _follow_up,
    "revenue": lambda c: esc(formatting.money(c.revenue)),
    "created": lambda c: esc(_date(c.created_at)),
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
    button = ""
    if key in editable and not c.archived_at:
        label = esc(_("Edit %(label)s") % {"label": col.label})
        url = esc((urls or _Urls()).get("customers:inline_edit", c.pk, key))
        button = (
            ' <button type="button" class="btn btn-link btn-sm p-0 ms-1 text-secondary '
            f'inline-edit" aria-label="{label}" hx-get="{url}" hx-target="#cell-{c.pk}-{key}" '
            'hx-swap="outerHTML"><i class="bi bi-pencil" aria-hidden="true"></i></button>'
        )
    return mark_safe(  # every value is escaped above
        f'<td id="cell-{c.pk}-{key}" data-column="{key}" class="{_css(c, key, saved)}">'
        f"{CONTENT[key](c)}{button}</td>"
    )


def _name_cell(c: Customer, urls: _Urls) -> str:
    archived = ""
    if c.archived_at:
        archived = f' <span class="badge text-bg-secondary">{esc(_("archived"))}</span>'
    match = ""
    if c.search_match:
        label, text = c.search_match
        match = (
            '\n        <div class="small text-secondary text-truncate search-match">'
            f"{esc(label)}: {esc(highlight(text, c.search_term))}</div>"
        )
    url = esc(urls.get("customers:detail", c.pk))
    return f'<td><a href="{url}">{esc(highlight(c.name, c.search_term))}</a>{archived}{match}</td>'


def rows(items, columns, editable: Iterable[str], tick: bool) -> SafeString:
    """The list's `<tr>`s: the tick box (when bulk actions are offered), the name with the
    search match under it, then the user's columns in their order."""
    urls = _Urls()
    out = []
    for c in items:
        box = ""
        if tick:
            label = esc(_("Tick %(name)s") % {"name": c.name})
            box = (
                '\n      <td class="bulk-select"><input class="form-check-input" type="checkbox" '
                f'name="ids" value="{c.pk}" form="bulk" aria-label="{label}"></td>'
            )
        tds = "".join(cell(c, col, editable, urls=urls) for col in columns)
        out.append(f"<tr>{box}\n      {_name_cell(c, urls)}\n      {tds}\n    </tr>")
    return mark_safe("\n    ".join(out))  # every value is escaped above
