"""Reads of tickets, always through visibility (permissions.ticket_visibility_q)."""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.models import Role, User
from guanxi.core.visibility import mask_phone, sees_unmasked
from guanxi.customers.models import display_phone

from .models import OPEN_STATUSES, AgentSkill, Priority, SlaPolicy, Status, Ticket, TicketType
from .permissions import can_work
from .sla import DEFAULT_HOURS, DEFAULT_WARN_HOURS

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
QUEUE_FIELDS = (
    "id",
    "subject",
    "type",
    "priority",
    "status",
    "channel",
    "due_at",
    "response_due_at",
    "resolution_due_at",
    "response_breached",
    "resolution_breached",
    "first_response_at",
    "created_at",
    "resolved_at",
    "reopen_count",
    "contact_name",
    # Read for masking each row (mark_ticket_masking): deferred, they cost a query a row.
    "contact_phone",
    "contact_email",
    "org_unit__id",
    "org_unit__name",
    "customer__id",
    "customer__name",
    "customer__owner_id",
    "customer__org_unit_id",
    "assignee__id",
    "assignee__username",
    "assignee__display_name",
    "assignee__first_name",
    "assignee__last_name",
)


@dataclass
class TicketFilter:
    status: str = "open"  # "open", "all" or one status
    type: str = ""
    priority: str = ""
    assignee: str = ""  # "", "me", "none" or a user id
    breached: bool = False
    customer_id: int | None = None
    order: str = "due"  # "due" (most urgent first) or "new" (newest first)

    @classmethod
    def from_params(cls, params) -> "TicketFilter":
        f = cls(
            status=params.get("status") or "open",
            type=params.get("type") or "",
            priority=params.get("priority") or "",
            assignee=params.get("assignee") or "",
            breached=params.get("breached") in ("1", "true", "on"),
            order=params.get("order") or "due",
        )
        errors = []
        if f.status not in ("open", "all", *Status.values):
            errors.append(("status", _("Unknown status.")))
        if f.type and f.type not in TicketType.values:
            errors.append(("type", _("Unknown ticket type.")))
        if f.priority and f.priority not in Priority.values:
            errors.append(("priority", _("Unknown priority.")))
        if f.order not in ("due", "new"):
            errors.append(("order", _("Unknown order.")))
        if f.assignee not in ("", "me", "none") and not f.assignee.isdigit():
            errors.append(("assignee", _("Unknown assignee.")))
        if errors:
            raise ValidationFailed.single(errors[0][0], "invalid", errors[0][1])
        return f


@dataclass
class Page:
    items: list = field(default_factory=list)
    next_cursor: str = ""


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _decode(cursor: str, order: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if order == "due":
            due, pk = values
            return [parse_datetime(due), int(pk)]
        return [int(values[0])]
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise ValidationFailed.single(
            "cursor", "invalid_cursor", _("Invalid page cursor.")
        ) from exc


def ticket_queryset(*, viewer: User, filters: TicketFilter):
    qs = Ticket.objects.visible_to(viewer)
    if filters.status == "open":
        qs = qs.open()
    elif filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.assignee == "me":
        qs = qs.filter(assignee_id=viewer.pk)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee:
        qs = qs.filter(assignee_id=int(filters.assignee))
    if filters.breached:
        qs = qs.filter(Q(response_breached=True) | Q(resolution_breached=True))
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    return qs


def queue_page_queryset(
    *, viewer: User, filters: TicketFilter, cursor: str = "", limit: int = PAGE_SIZE
):
    """The one query of a queue page: `limit + 1` rows after the cursor, in the order's
    index order ((due_at, id) or -id), so the database walks an index and stops, never
    sorting or counting the table (see tests/service/test_query_plans.py)."""
    qs = ticket_queryset(viewer=viewer, filters=filters).select_related(
        "org_unit", "customer", "assignee"
    )
    qs = qs.only(*QUEUE_FIELDS)
    if filters.order == "due":
        if cursor:
            due, pk = _decode(cursor, "due")
            # due_at >= due AND (due_at > due OR id > pk): a range start on the index, the
            # OR only filters (as one OR, SQLite would merge two index searches and sort).
            qs = qs.filter(due_at__gte=due).filter(Q(due_at__gt=due) | Q(id__gt=pk))
        return qs.order_by("due_at", "id")[: limit + 1]
    if cursor:
        (pk,) = _decode(cursor, "new")
        qs = qs.filter(id__lt=pk)
    return qs.order_by("-id")[: limit + 1]


def ticket_list(
    *, viewer: User, filters: TicketFilter, cursor: str = "", limit: int = PAGE_SIZE
) -> Page:
    """One keyset page of the queue: most urgent first (due_at, id) or newest first (id);
    never an OFFSET, never a COUNT over the table."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = list(queue_page_queryset(viewer=viewer, filters=filters, cursor=cursor, limit=limit))

    def key(t: Ticket) -> list:
        return [t.due_at.isoformat(), t.pk] if filters.order == "due" else [t.pk]

    page = Page(items=rows[:limit])
    if len(rows) > limit:
        page.next_cursor = _encode(key(rows[limit - 1]))
    for ticket in page.items:
        mark_ticket_masking(viewer, ticket)
    return page


def mark_ticket_masking(viewer: User, ticket: Ticket) -> None:
    """The customer's fields follow the customer's masking; a web contact's phone is clear
    to those who work the ticket (they call back), masked to everyone else."""
    if ticket.customer is not None:
        ticket.customer.viewer_unmasked = sees_unmasked(viewer, ticket.customer)
    works = can_work(viewer, ticket)
    ticket.contact_phone_display = (  # type: ignore[attr-defined]
        ""
        if not ticket.contact_phone
        else display_phone(ticket.contact_phone)
        if works
        else mask_phone(ticket.contact_phone)
    )
    ticket.contact_email_display = (  # type: ignore[attr-defined]
        ticket.contact_email
        if works or not ticket.contact_email
        else ticket.contact_email[:1] + "****@" + ticket.contact_email.partition("@")[2]
    )


def ticket_get(*, viewer: User, pk: int) -> Ticket:
    ticket = (
        Ticket.objects.visible_to(viewer)
        .select_related("customer", "customer__owner", "org_unit", "assignee", "product")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    mark_ticket_masking(viewer, ticket)
    return ticket


def open_tickets_of(*, customer_id: int, limit: int = 5) -> list[Ticket]:
    """A customer's open tickets, for the warnings registry (not filtered by viewer: the
    caller shows them on a customer page the viewer may already see)."""
    return list(
        Ticket.objects.open()
        .filter(customer_id=customer_id)
        .only("id", "subject", "type", "status", "priority", "created_at")
        .order_by("-id")[:limit]
    )


def queue_counts(*, viewer: User, now: datetime) -> dict:
    """Small figures for the manager's view: open, unassigned and breached in scope."""
    from django.db.models import Count

    qs = Ticket.objects.visible_to(viewer).filter(status__in=OPEN_STATUSES)
    return qs.aggregate(
        open=Count("id"),
        unassigned=Count("id", filter=Q(assignee__isnull=True)),
        breached=Count("id", filter=Q(response_breached=True) | Q(resolution_breached=True)),
        due_soon=Count("id", filter=Q(due_at__lte=now)),
    )


# --- SLA policies and skills (the manager's settings) -------------------------------------


@dataclass
class PolicyRow:
    type: str
    type_label: str
    priority: str
    priority_label: str
    first_response_hours: object
    resolution_hours: object
    warn_before_hours: object
    stored: bool


def sla_policy_rows() -> list[PolicyRow]:
    """Every ticket type × priority with the hours in force: the stored policy, else the
    built-in default the SLA falls back to (sla.targets_for)."""

    stored = {(p.type, p.priority): p for p in SlaPolicy.objects.all()}
    rows = []
    for ticket_type, type_label in TicketType.choices:
        for priority, priority_label in Priority.choices:
            policy = stored.get((ticket_type, priority))
            if policy is not None:
                hours = (
                    policy.first_response_hours,
                    policy.resolution_hours,
                    policy.warn_before_hours,
                )
            else:
                hours = (*DEFAULT_HOURS[TicketType(ticket_type)], DEFAULT_WARN_HOURS)
            rows.append(
                PolicyRow(
                    ticket_type,
                    str(type_label),
                    priority,
                    str(priority_label),
                    *hours,
                    stored=policy is not None,
                )
            )
    return rows


def skill_agents(*, viewer: User) -> list[User]:
    """The service agents whose skills `viewer` sets (a manager: those in the units they
    manage; an admin: all), each with `.skill_list` [(type label, product name or "")]."""
    from django.db.models import Prefetch

    agents = User.objects.filter(is_active=True, roles__role=Role.SERVICE).distinct()
    if not viewer.is_admin:
        agents = agents.filter(org_unit_id__in=viewer.managed_unit_ids)
    agents = agents.select_related("org_unit").prefetch_related(
        Prefetch(
            "service_skills",
            queryset=AgentSkill.objects.select_related("product").order_by("type", "product_id"),
        )
    )
    result = list(agents.order_by("org_unit__name", "id"))
    for agent in result:
        agent.skill_list = [  # type: ignore[attr-defined]
            (s.get_type_display(), s.product.name if s.product else "")
            for s in agent.service_skills.all()
        ]
    return result
