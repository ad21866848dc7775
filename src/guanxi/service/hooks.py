"""What the service app tells the customer page and sales (customers.warnings): a
customer's open tickets; an unresolved complaint asks sales to confirm before a quote,
deposit or order. And the "New ticket" buttons of the customer page and of the visitor and
call register (reception.register_actions)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.customers.models import Customer
from guanxi.customers.warnings import CustomerWarning

from .models import Ticket, TicketType
from .permissions import can_create_ticket
from .selectors import open_tickets_of


def ticket_warnings(*, customer, viewer) -> list[CustomerWarning]:
    tickets = open_tickets_of(customer_id=customer.pk)
    if not tickets:
        return []
    visible = set(
        Ticket.objects.visible_to(viewer)
        .filter(pk__in=[t.pk for t in tickets])
        .values_list("pk", flat=True)
    )
    return [
        CustomerWarning(
            code=f"ticket:{t.pk}",
            message=_("Open %(type)s #%(id)s: %(subject)s (%(status)s)")
            % {
                "type": t.get_type_display(),
                "id": t.pk,
                "subject": t.subject,
                "status": t.get_status_display(),
            },
            level="danger" if t.type == TicketType.COMPLAINT else "warning",
            url=t.get_absolute_url() if t.pk in visible else "",
            confirm_sales=t.type == TicketType.COMPLAINT,
        )
        for t in tickets
    ]


def ticket_actions(*, customer, viewer) -> list[tuple[str, str]]:
    if not can_create_ticket(viewer):
        return []
    return [(_("New ticket"), f"{reverse('service:create')}?customer={customer.pk}")]


def visit_ticket_actions(*, visit, viewer) -> list[tuple[str, str]]:
    """ "New ticket" on an entry of the call register: the quick create form for the caller's
    customer record, the channel (phone for a call, visit for a walk-in) and the entry's
    notes filled in."""
    if not can_create_ticket(viewer):
        return []
    # The register lists the whole branch; a ticket is offered only for a record the viewer
    # may open (a salesperson sees other salespeople's visitors on it, not their records).
    if not Customer.objects.visible_to(viewer).filter(pk=visit.customer_id).exists():
        return []
    params = {
        "customer": visit.customer_id,
        "channel": "phone" if visit.kind == "call" else "visit",
    }
    if visit.notes:
        params["description"] = visit.notes
    return [(_("New ticket"), f"{reverse('service:create')}?{urlencode(params)}")]
