"""The list's search highlighting: each match of the typed term marked, the rest escaped."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def highlight(text, term) -> str:
    """`text` with every case-insensitive occurrence of `term` in <mark>, HTML-escaped."""
    text = "" if text is None else str(text)
    if not term or not text:
        return text
    pieces, last = [], 0
    for match in re.finditer(re.escape(str(term)), text, flags=re.IGNORECASE):
        pieces += [escape(text[last : match.start()]), f"<mark>{escape(match[0])}</mark>"]
        last = match.end()
    if not last:
        return text
    pieces.append(escape(text[last:]))
    return mark_safe("".join(pieces))  # every piece is escaped above
