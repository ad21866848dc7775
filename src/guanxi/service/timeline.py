"""Timeline source of this app: tickets opened, their status changes and surveys."""

from django.utils.translation import gettext as _

from guanxi.core.timeline import TimelineEvent

from .models import Status, Ticket, TicketStatusLog


def ticket_events(*, customer, viewer, limit: int):
    visible = Ticket.objects.visible_to(viewer).filter(customer=customer)
    for entry in (
        TicketStatusLog.objects.filter(ticket__in=visible.values("pk"))
        .select_related("ticket", "actor")
        .order_by("-at", "-id")[:limit]
    ):
        ticket = entry.ticket
        if not entry.from_status:
            title = _("Ticket opened: %(type)s") % {"type": ticket.get_type_display()}
        else:
            title = _("Ticket %(from)s → %(to)s") % {
                "from": Status(entry.from_status).label,
                "to": Status(entry.to_status).label,
            }
        yield TimelineEvent(
            at=entry.at,
            kind="ticket",
            title=title,
            body=f"#{ticket.pk} {ticket.subject}",
            actor=str(entry.actor or ""),
            url=ticket.get_absolute_url(),
            icon="life-preserver",
            badges=[ticket.get_priority_display()]
            + ([_("SLA breached")] if ticket.is_breached else []),
        )
