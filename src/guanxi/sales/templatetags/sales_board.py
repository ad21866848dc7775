"""The cells of the sales-control board (销控表), rendered in Python.

A board shows thousands of units and refreshes every few seconds; through the template
language each cell cost ~0.2 ms (variable lookups, status labels, one CSRF tag per held
unit), i.e. a second for 5,000 units. Here a floor's cells are one string join.
"""

from html import escape  # the stdlib's: Django's lazy-aware one costs 5x per call

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..models import InventoryUnit

register = template.Library()


@register.simple_tag(takes_context=True)
def unit_cells(context, units) -> str:
    """`<span class="badge unit-… unit-cell" id="unit-…" data-status="…">` for each unit
    of a floor; a manager also gets the release (↑) button on held units."""
    cache = context.render_context.setdefault("sales_board", {})
    if not cache:
        cache["labels"] = {code: str(label) for code, label in InventoryUnit.Status.choices}
        release = ""
        if context.get("can_release"):
            token = escape(get_token(context["request"]))
            action = reverse("sales:unit_release", args=[0]).replace("/0/", "/{pk}/")
            release = (
                f'<form method="post" action="{action}" class="d-inline">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                '<button class="btn btn-link btn-sm p-0 text-white" name="release" value="1" '
                f'title="{escape(_("Release for sale"))}">↑</button></form>'
            )
        cache["release"] = release
    labels, release = cache["labels"], cache["release"]
    cells = []
    for u in units:
        title = f"{labels.get(u.status, u.status)} · ¥{u.price:.2f}"
        if u.size:
            title += f" · {u.size:.2f}m²"
        button = release.format(pk=u.id) if release and u.status == "held" else ""
        cells.append(
            f'<span class="badge unit-{u.status} unit-cell" id="unit-{u.id}" '
            f'data-status="{u.status}" title="{escape(title)}">'
            f"{escape(u.number or u.code)}{button}</span>"
        )
    return mark_safe("".join(cells))  # every value above is escaped
