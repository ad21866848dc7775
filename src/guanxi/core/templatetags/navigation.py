"""{% navigation_menu %}: the header's menu, rendered once and then reused.

The menu is the same for every user with the same role flags (context_processors.navigation)
on the same page in the same language: ~35 links and labels, a few milliseconds of template
work on every page (issue 19). It is rendered once per (language, flags, page) and kept in
this process; with DEBUG on it is rendered every time, so template edits show at once.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

_MENUS: dict[tuple, str] = {}
# Bounded: a few languages × role combinations × page names; cleared if ever exceeded.
_MAX_MENUS = 5000


@register.simple_tag(takes_context=True)
def navigation_menu(context) -> str:
    match = getattr(context.get("request"), "resolver_match", None)
    here = match.url_name if match else None
    app = match.app_name if match else None
    nav = context.get("nav") or {}
    key = (get_language(), get_script_prefix(), here, app, tuple(sorted(nav.items())))
    html = _MENUS.get(key)
    if html is None:
        html = render_to_string("partials/nav_menu.html", {"nav": nav, "here": here, "app": app})
        if not settings.DEBUG:
            if len(_MENUS) >= _MAX_MENUS:
                _MENUS.clear()
            _MENUS[key] = html
    return mark_safe(html)  # rendered (and escaped) by the template above
