from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from guanxi.core.formatting import local_date

from ..models import NO_DEADLINE

register = template.Library()


@register.simple_tag
def sla_badge(ticket, now=None):
    """The SLA timer of a queue row: late, due soon (within 2 h), due, or paused."""
    now = now or timezone.now()
    if not ticket.is_open:
        if ticket.is_breached:
            return format_html('<span class="badge text-bg-danger">{}</span>', _("SLA breached"))
        return ""
    if ticket.due_at == NO_DEADLINE:
        return format_html('<span class="badge text-bg-secondary">{}</span>', _("Paused"))
    local = timezone.localtime(ticket.due_at)
    if ticket.due_at <= now or ticket.is_breached:
        css, label = "text-bg-danger", _("Late since %(at)s")
    elif ticket.due_at - now <= timedelta(hours=2):
        css, label = "text-bg-warning", _("Due %(at)s")
    else:
        css, label = "text-bg-light border", _("Due %(at)s")
    return format_html(
        '<span class="badge {}" data-due="{}">{}</span>',
        css,
        ticket.due_at.isoformat(),
        label % {"at": local_date(local, "MONTH_DAY_TIME_FORMAT")},
    )


@register.filter
def working_hours(value) -> str:
    """A timedelta of working time as hours: "6.5 h"."""
    if value is None:
        return "—"
    return f"{value.total_seconds() / 3600:.1f} h"
