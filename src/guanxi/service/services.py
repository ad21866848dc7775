"""Every state change of the service app: one transaction, a permission check, an audit
entry, the status log and the SLA recomputed from it."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Case, Field, IntegerField, Q, Sum, Value, When
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.audit import audit_record, audit_records, diff_fields
from guanxi.core.calendar import (
    Schedule,
    add_working_hours,
    calendar_for_unit,
    is_working_time,
    next_working_time,
    schedule_for,
)
from guanxi.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from guanxi.core.models import OrgUnit, Role, User
from guanxi.core.webhooks import webhook_emit, webhook_emit_many
from guanxi.customers.keys import InvalidPhone, normalize_phone
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get
from guanxi.sales.models import Product

from . import notify as notices
from .models import (
    NO_DEADLINE,
    OPEN_STATUSES,
    PRIORITY_WEIGHT,
    TRANSITIONS,
    AgentSkill,
    Channel,
    Priority,
    ReturnVisit,
    SlaEvent,
    SlaPolicy,
    Status,
    Ticket,
    TicketMessage,
    TicketStatusLog,
    TicketType,
)
from .permissions import (
    can_assign,
    can_create_ticket,
    can_manage_service,
    can_set_skills,
    can_work,
    is_agent,
    may_be_assigned,
)
from .sla import Targets, compute_clock, targets_for

LIMITS = {
    "subject": 200,
    "description": 5000,
    "order_ref": 60,
    "body": 5000,
    "note": 500,
    "resolution": 5000,
}
# A return visit (回访) is due this many working hours after the resolution.
RETURN_VISIT_AFTER_HOURS = 16


def _check_lengths(values: dict) -> list[FieldError]:
    return [
        FieldError(name, "too_long", _("At most %(n)s characters.") % {"n": LIMITS[name]})
        for name, value in values.items()
        if value is not None and len(value) > LIMITS[name]
    ]


def ticket_payload(ticket: Ticket) -> dict:
    return {
        "id": ticket.pk,
        "customer_id": ticket.customer_id,
        "type": ticket.type,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "status": ticket.status,
        "subject": ticket.subject,
        "org_unit_id": ticket.org_unit_id,
        "assignee_id": ticket.assignee_id,
        "response_due_at": ticket.response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
    }


def _locked(ticket_id: int) -> Ticket:
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket


def _locked_to_work_on(actor: User, ticket_id: int) -> Ticket:
    """The ticket, row-locked, if the actor may work on it (status, answers, fields)."""
    ticket = _locked(ticket_id)
    if not can_work(actor, ticket):
        raise Forbidden(_("You may not work on this ticket."))
    return ticket


def _visible_or_404(actor: User, ticket_id: int) -> None:
    if not Ticket.objects.visible_to(actor).filter(pk=ticket_id).exists():
        raise NotFound(_("Ticket not found."))


# --- SLA -------------------------------------------------------------------------------


def schedule_for_ticket(ticket: Ticket, cache: dict | None = None) -> Schedule:
    if cache is not None and ticket.org_unit_id in cache:
        return cache[ticket.org_unit_id]
    schedule = schedule_for(calendar_for_unit(ticket.org_unit))
    if cache is not None:
        cache[ticket.org_unit_id] = schedule
    return schedule


def ticket_clock(ticket: Ticket, *, now: datetime | None = None, schedule=None, policies=None):
    """The ticket's SLA clock, recomputed from its status log (explainable: its segments)."""
    now = now or timezone.now()
    log = list(
        TicketStatusLog.objects.filter(ticket_id=ticket.pk)
        .order_by("at", "id")
        .values_list("at", "to_status")
    )
    return compute_clock(
        log=log,
        first_response_at=ticket.first_response_at,
        targets=targets_for(ticket.type, ticket.priority, policies),
        schedule=schedule or schedule_for_ticket(ticket),
        now=now,
    )


SLA_FIELDS = [
    "response_due_at",
    "resolution_due_at",
    "response_breached",
    "resolution_breached",
    "due_at",
    "sla_check_at",
]


def recompute_sla(
    ticket: Ticket,
    *,
    now: datetime | None = None,
    schedule=None,
    policies=None,
    clock=None,
    done: set[str] | None = None,
) -> list[str]:
    """Store the deadlines, breach marks, queue order and next scan time the log implies.
    Returns the fields it set (the caller saves them in its transaction). `done`: the kinds
    of this cycle's SLA events, when the caller has read them (else read here if needed)."""
    now = now or timezone.now()
    if clock is None:
        clock = ticket_clock(ticket, now=now, schedule=schedule, policies=policies)
    ticket.response_due_at = clock.response_due_at
    ticket.resolution_due_at = clock.resolution_due_at
    responded = ticket.first_response_at is not None
    ticket.response_breached = clock.response_due_at is not None and (
        (responded and ticket.first_response_at > clock.response_due_at)
        or (not responded and clock.response_due_at <= now)
    )
    ticket.resolution_breached = (
        clock.resolution_due_at is not None and clock.resolution_due_at <= now
    )
    if clock.running:
        ticket.due_at = (
            clock.response_due_at
            if not responded and clock.response_due_at
            else clock.resolution_due_at or NO_DEADLINE
        )
        ticket.sla_check_at = _next_check(ticket, clock, now, done)
    else:
        ticket.due_at = NO_DEADLINE
        ticket.sla_check_at = None
    return list(SLA_FIELDS)


def _next_check(ticket: Ticket, clock, now: datetime, done: set[str] | None = None):
    """The earliest warning or breach moment the scan has not yet acted on (in the past if
    one is due now). A warning whose breach is already due is left to the breach."""
    responded = ticket.first_response_at is not None
    moments = {
        SlaEvent.Kind.RESOLUTION_WARNING: clock.resolution_warn_at,
        SlaEvent.Kind.RESOLUTION_BREACH: clock.resolution_due_at,
    }
    if not responded:
        moments[SlaEvent.Kind.RESPONSE_WARNING] = clock.response_warn_at
        moments[SlaEvent.Kind.RESPONSE_BREACH] = clock.response_due_at
    for warning, breach in (
        (SlaEvent.Kind.RESPONSE_WARNING, SlaEvent.Kind.RESPONSE_BREACH),
        (SlaEvent.Kind.RESOLUTION_WARNING, SlaEvent.Kind.RESOLUTION_BREACH),
    ):
        if moments.get(breach) is not None and moments[breach] <= now:
            moments.pop(warning, None)
    moments = {k: m for k, m in moments.items() if m is not None}
    if not moments:
        return None
    if done is None and ticket.pk and any(m <= now for m in moments.values()):
        done = set(
            SlaEvent.objects.filter(ticket_id=ticket.pk, cycle=ticket.reopen_count).values_list(
                "kind", flat=True
            )
        )
    pending = [m for k, m in moments.items() if k not in (done or ())]
    return min(pending) if pending else None


def _log(ticket: Ticket, *, actor, from_status: str, to_status: str, at, note: str = "") -> None:
    TicketStatusLog.objects.create(
        ticket=ticket, at=at, from_status=from_status, to_status=to_status, actor=actor, note=note
    )


# --- tickets ---------------------------------------------------------------------------


def _handling_unit(customer: Customer | None, org_unit: OrgUnit | None) -> OrgUnit:
    if org_unit is not None:
        return org_unit
    if customer is not None and customer.org_unit_id:
        return customer.org_unit.branch()
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()
    if root is None:
        raise ValidationFailed.single("org_unit", "no_unit", _("No organisation unit exists."))
    return root


def ticket_create(
    *,
    actor: User | None,
    customer_id: int | None,
    type: str,
    channel: str,
    subject: str,
    description: str = "",
    priority: str = Priority.NORMAL,
    product_id: int | None = None,
    order_ref: str = "",
    org_unit: OrgUnit | None = None,
    contact: dict | None = None,
    now: datetime | None = None,
    auto_assign: bool = True,
) -> Ticket:
    """Open a ticket. `actor` None is the public contact form (its caller checked the
    captcha and the rate limit); then `contact` says who wrote in."""
    now = now or timezone.now()
    if actor is not None and not can_create_ticket(actor):
        raise Forbidden(_("You may not open tickets."))
    subject = (subject or "").strip()
    errors = _check_lengths(
        {"subject": subject, "description": description, "order_ref": order_ref}
    )
    if not subject:
        errors.append(FieldError("subject", "required", _("Say what it is about.")))
    if type not in TicketType.values:
        errors.append(FieldError("type", "invalid_choice", _("Unknown ticket type.")))
    if channel not in Channel.values:
        errors.append(FieldError("channel", "invalid_choice", _("Unknown channel.")))
    if priority not in Priority.values:
        errors.append(FieldError("priority", "invalid_choice", _("Unknown priority.")))
    if errors:
        raise ValidationFailed(errors)
    customer = None
    if customer_id is not None:
        customer = (
            customer_get(viewer=actor, pk=customer_id)
            if actor is not None
            else Customer.objects.select_related("org_unit").get(pk=customer_id)
        )
    elif actor is not None and not contact:
        raise ValidationFailed.single("customer_id", "required", _("Choose the customer."))
    product = None
    if product_id is not None:
        product = Product.objects.filter(pk=product_id).first()
        if product is None:
            raise ValidationFailed.single("product_id", "not_found", _("Unknown product."))
    contact = dict(contact or {})
    if contact.get("phone"):
        try:  # stored as E.164 (;ext= included), shown as people dial it
            contact["phone"] = normalize_phone(contact["phone"]).e164
        except InvalidPhone:
            raise ValidationFailed.single(
                "phone", "invalid_phone", _("This is not a phone number.")
            ) from None
    with transaction.atomic():
        ticket = Ticket.objects.create(
            customer=customer,
            org_unit=_handling_unit(customer, org_unit),
            type=type,
            channel=channel,
            priority=priority,
            subject=subject,
            description=description,
            product=product,
            order_ref=order_ref,
            contact_name=contact.get("name", "")[:100],
            contact_phone=contact.get("phone", "")[:32],  # E.164, ;ext= included
            contact_email=contact.get("email", "")[:254],
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        _log(ticket, actor=actor, from_status="", to_status=Status.NEW, at=now)
        ticket.save(update_fields=recompute_sla(ticket, now=now))
        audit_record(
            actor=actor,
            verb="ticket.create",
            target=ticket,
            changes={"type": ticket.type, "priority": ticket.priority, "channel": channel},
        )
        webhook_emit("ticket.created", ticket_payload(ticket))
        if auto_assign:
            agent = pick_agent(ticket)
            if agent is not None:
                _assign(ticket, agent, actor=actor, now=now, note=_("automatic: skill and load"))
    return ticket


def _assign(ticket: Ticket, agent: User, *, actor, now, note: str = "") -> None:
    before = ticket.assignee_id
    ticket.assignee = agent
    fields = ["assignee", "updated_at"]
    if ticket.status == Status.NEW:
        _log(ticket, actor=actor, from_status=ticket.status, to_status=Status.ASSIGNED, at=now)
        ticket.status = Status.ASSIGNED
        fields.append("status")
    ticket.updated_at = now
    ticket.save(update_fields=fields)
    audit_record(
        actor=actor,
        verb="ticket.assign",
        target=ticket,
        changes={"assignee": [before, agent.pk]},
        note=str(note),
    )
    if actor is None or actor.pk != agent.pk:
        notices.send(
            recipient=agent,
            key=f"ticket:{ticket.pk}:assigned",
            title=gettext_lazy("A ticket was assigned to you"),
            body=ticket.subject,
            url=ticket.get_absolute_url(),
        )


def agent_loads(unit_ids, *, type: str | None = None, product_id: int | None = None):
    """[(user, weighted open load)] of the service agents of these units who can handle
    this type (and product), least loaded first."""
    agents = User.objects.filter(
        is_active=True, org_unit_id__in=unit_ids, roles__role=Role.SERVICE
    ).distinct()
    if type is not None:
        skilled = AgentSkill.objects.filter(type=type).filter(
            Q(product__isnull=True) | Q(product_id=product_id)
        )
        agents = agents.filter(pk__in=skilled.values("user_id"))
    weight = Case(
        *(When(priority=p, then=Value(w)) for p, w in PRIORITY_WEIGHT.items()),
        default=Value(1),
        output_field=IntegerField(),
    )
    loads = dict(
        Ticket.objects.filter(assignee__in=agents, status__in=OPEN_STATUSES)
        .values("assignee")
        .annotate(load=Sum(weight))
        .values_list("assignee", "load")
        .order_by()
    )
    return sorted(((a, loads.get(a.pk, 0)) for a in agents), key=lambda p: (p[1], p[0].pk))


def pick_agent(ticket: Ticket) -> User | None:
    """The least-loaded agent of the handling unit's branch with the skill; a product-
    specific skill wins over a general one; None when nobody has the skill."""
    units = ticket.org_unit.branch().subtree_ids()
    candidates = agent_loads(units, type=ticket.type, product_id=ticket.product_id)
    if ticket.product_id:
        specific = set(
            AgentSkill.objects.filter(type=ticket.type, product_id=ticket.product_id).values_list(
                "user_id", flat=True
            )
        )
        best = [c for c in candidates if c[0].pk in specific]
        candidates = best or candidates
    return candidates[0][0] if candidates else None


def ticket_assign(
    *, actor: User, ticket_id: int, assignee_id: int | None, note: str = ""
) -> Ticket:
    """Assign by hand (the manual override), or `assignee_id=None` to let skill and load
    choose. An agent may take an unassigned ticket of their branch themselves."""
    _visible_or_404(actor, ticket_id)
    now = timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket_id)
        taking = assignee_id == actor.pk and ticket.assignee_id is None and can_work(actor, ticket)
        if not (taking or can_assign(actor, ticket)):
            raise Forbidden(_("Only a manager of the handling unit may assign this ticket."))
        if not ticket.is_open:
            raise Conflict(_("This ticket is no longer open."), code="ticket_closed")
        if assignee_id is None:
            agent = pick_agent(ticket)
            if agent is None:
                raise ValidationFailed.single(
                    "assignee_id", "no_agent", _("No agent of this branch has the skill.")
                )
        else:
            agent = User.objects.filter(pk=assignee_id, is_active=True).first()
            if agent is None or not may_be_assigned(agent):
                raise ValidationFailed.single(
                    "assignee_id", "not_an_agent", _("Choose an active service agent.")
                )
        if agent.pk != ticket.assignee_id:
            _assign(ticket, agent, actor=actor, now=now, note=note)
    return ticket


def ticket_transition(
    *, actor: User, ticket_id: int, to_status: str, note: str = "", resolution: str = ""
) -> Ticket:
    """Move a ticket along the status machine; the change goes into the clock log."""
    _visible_or_404(actor, ticket_id)
    errors = _check_lengths({"note": note, "resolution": resolution})
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        ticket = _locked_to_work_on(actor, ticket_id)
        before = ticket.status
        if to_status not in TRANSITIONS.get(before, ()):
            raise Conflict(
                _("A ticket that is “%(from)s” cannot become “%(to)s”.")
                % {"from": Status(before).label, "to": _label(to_status)},
                code="invalid_transition",
                field="status",
            )
        if to_status == Status.RESOLVED and not (resolution.strip() or ticket.resolution):
            raise ValidationFailed.single("resolution", "required", _("Say how it was resolved."))
        fields = ["status", "updated_at"]
        reopened = before in (Status.RESOLVED, Status.CLOSED)
        if reopened:
            ticket.reopen_count += 1
            ticket.resolved_at = ticket.closed_at = None
            fields += ["reopen_count", "resolved_at", "closed_at"]
        _log(ticket, actor=actor, from_status=before, to_status=to_status, at=now, note=note)
        ticket.status = to_status
        ticket.updated_at = now
        if ticket.assignee_id is None and to_status != Status.CLOSED:
            ticket.assignee = actor
            fields.append("assignee")
        answered = to_status in (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED)
        if answered and ticket.first_response_at is None:
            ticket.first_response_at = now
            fields.append("first_response_at")
        if to_status == Status.RESOLVED:
            ticket.resolved_at = now
            if resolution.strip():
                ticket.resolution = resolution.strip()
            fields += ["resolved_at", "resolution"]
        if to_status == Status.CLOSED:
            ticket.closed_at = now
            fields.append("closed_at")
        fields += recompute_sla(ticket, now=now)
        ticket.save(update_fields=sorted(set(fields)))
        audit_record(
            actor=actor,
            verb="ticket.reopen" if reopened else "ticket.status",
            target=ticket,
            changes={"status": [before, to_status]},
            note=note,
        )
        if to_status == Status.RESOLVED:
            webhook_emit("ticket.resolved", ticket_payload(ticket))
            _schedule_return_visit(ticket, now=now)
            for key in ("response", "resolution"):
                notices.withdraw(key=f"ticket:{ticket.pk}:sla:{key}:warning:{ticket.reopen_count}")
    return ticket


def _label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def _schedule_return_visit(ticket: Ticket, *, now: datetime) -> None:
    """The customer's owner (else the agent) calls back after the resolution (回访)."""
    customer = ticket.customer
    owner = customer.owner if customer is not None and customer.owner_id else None
    assignee = owner or ticket.assignee
    if assignee is None or hasattr(ticket, "return_visit"):
        return
    due = add_working_hours(now, RETURN_VISIT_AFTER_HOURS, schedule_for_ticket(ticket))
    ReturnVisit.objects.create(ticket=ticket, assignee=assignee, due_at=due)
    notices.send(
        recipient=assignee,
        key=f"ticket:{ticket.pk}:return_visit",
        title=gettext_lazy("Return visit (回访) due"),
        body=ticket.subject,
        url=ticket.get_absolute_url(),
    )


def ticket_reply(
    *, actor: User, ticket_id: int, body: str, internal: bool = False, wait: bool = False
) -> TicketMessage:
    """An answer to the customer (the first one stops the first-response clock) or an
    internal note; `wait` then waits for the customer (the clock pauses)."""
    _visible_or_404(actor, ticket_id)
    body = (body or "").strip()
    errors = _check_lengths({"body": body})
    if not body:
        errors.append(FieldError("body", "required", _("Write the message.")))
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        ticket = _locked_to_work_on(actor, ticket_id)
        if not ticket.is_open and not internal:
            raise Conflict(_("Reopen the ticket to answer."), code="ticket_closed")
        message = TicketMessage.objects.create(
            ticket=ticket, author=actor, body=body, internal=internal, created_at=now
        )
        fields = ["updated_at"]
        ticket.updated_at = now
        if not internal:
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                fields.append("first_response_at")
            target = Status.WAITING if wait else Status.IN_PROGRESS
            if ticket.status != target and target in TRANSITIONS.get(ticket.status, ()):
                _log(ticket, actor=actor, from_status=ticket.status, to_status=target, at=now)
                ticket.status = target
                fields.append("status")
            if ticket.assignee_id is None:
                ticket.assignee = actor
                fields.append("assignee")
            fields += recompute_sla(ticket, now=now)
        ticket.save(update_fields=sorted(set(fields)))
        audit_record(
            actor=actor,
            verb="ticket.note" if internal else "ticket.reply",
            target=ticket,
            changes={"status": ticket.status},
        )
    return message


def ticket_update(*, actor: User, ticket_id: int, data: dict) -> Ticket:
    """Change type, priority, product or customer of an open ticket: the SLA follows."""
    _visible_or_404(actor, ticket_id)
    allowed = {"type", "priority", "subject", "description", "order_ref"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationFailed.single(sorted(unknown)[0], "unknown_field", _("Unknown field."))
    errors = _check_lengths({k: v for k, v in data.items() if k in LIMITS})
    if "type" in data and data["type"] not in TicketType.values:
        errors.append(FieldError("type", "invalid_choice", _("Unknown ticket type.")))
    if "priority" in data and data["priority"] not in Priority.values:
        errors.append(FieldError("priority", "invalid_choice", _("Unknown priority.")))
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        ticket = _locked_to_work_on(actor, ticket_id)
        before = {k: getattr(ticket, k) for k in data}
        for key, value in data.items():
            setattr(ticket, key, value)
        ticket.updated_at = now
        fields = [*data.keys(), "updated_at", *recompute_sla(ticket, now=now)]
        ticket.save(update_fields=fields)
        audit_record(
            actor=actor, verb="ticket.update", target=ticket, changes=diff_fields(before, data)
        )
    return ticket


# --- the SLA scan ----------------------------------------------------------------------


def unit_managers(unit: OrgUnit) -> list[User]:
    """The managers of the nearest unit up the tree that has any (the escalation path)."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    managers = list(
        User.objects.filter(is_active=True, org_unit_id__in=ids, roles__role=Role.MANAGER)
        .distinct()
        .order_by("id")
    )
    for unit_id in reversed(ids):
        here = [m for m in managers if m.org_unit_id == unit_id]
        if here:
            return here
    return []


EVENT_TITLES: dict[str, Promise] = {
    SlaEvent.Kind.RESPONSE_WARNING: gettext_lazy("First response due soon"),
    SlaEvent.Kind.RESPONSE_BREACH: gettext_lazy("SLA breached: first response late"),
    SlaEvent.Kind.RESOLUTION_WARNING: gettext_lazy("Resolution due soon"),
    SlaEvent.Kind.RESOLUTION_BREACH: gettext_lazy("SLA breached: resolution late"),
}

SCAN_BATCH = 200


def sla_due_batch_queryset(*, now: datetime, after: tuple[datetime, int] | None = None):
    """(sla_check_at, id) of the next SCAN_BATCH tickets with a warning or breach due, after
    the keyset `after`: one range walk of the partial index on (sla_check_at, id), which
    holds only open tickets whose clock runs, never the table (see
    tests/service/test_query_plans.py)."""
    qs = Ticket.objects.filter(sla_check_at__lte=now)
    if after is not None:
        at, pk = after
        qs = qs.filter(sla_check_at__gte=at).filter(Q(sla_check_at__gt=at) | Q(id__gt=pk))
    return qs.order_by("sla_check_at", "id").values_list("sla_check_at", "id")[:SCAN_BATCH]


def sla_scan(*, now: datetime | None = None, limit: int | None = None) -> dict:
    """Warn the assignee before a deadline, mark breaches and escalate them to the managers
    of the handling unit. Set-based: the due tickets are handled SCAN_BATCH at a time, each
    batch one transaction that claims its tickets (locks them where they are still due;
    PostgreSQL skips those another scan holds, SQLite's writers take turns), reads their
    status logs and past events in one query each, and writes the events, notices, audit
    entries, webhook outbox rows and recomputed clocks in bulk.

    Idempotent: a claimed ticket is re-read under the lock (a second scan finds it no longer
    due) and an SlaEvent row is unique per ticket, kind and cycle, so two scans at once
    escalate once; a crash rolls back only its batch, whose tickets are still due for the
    next scan."""
    now = now or timezone.now()
    scan = _Scan(now=now, policies={(p.type, p.priority): p for p in SlaPolicy.objects.all()})
    counts = {"checked": 0, "warnings": 0, "breaches": 0}
    after = None
    while True:
        batch = list(sla_due_batch_queryset(now=now, after=after))
        if not batch:
            break
        ids = [pk for _check_at, pk in batch]
        if limit is not None:
            ids = ids[: limit - counts["checked"]]
        warnings, breaches = _scan_batch(ids, scan)
        counts["checked"] += len(ids)
        counts["warnings"] += warnings
        counts["breaches"] += breaches
        if limit is not None and counts["checked"] >= limit:
            break
        after = batch[-1]
    return counts


@dataclass
class _Scan:
    """What one scan reads once and reuses for every batch: the policies, each unit's
    schedule and escalation path, the targets per type and priority."""

    now: datetime
    policies: dict
    schedules: dict[int, Schedule] = field(default_factory=dict)
    managers: dict[int, list[User]] = field(default_factory=dict)
    targets: dict[tuple[str, str], Targets] = field(default_factory=dict)

    def targets_for(self, ticket: Ticket) -> Targets:
        key = (ticket.type, ticket.priority)
        if key not in self.targets:
            self.targets[key] = targets_for(ticket.type, ticket.priority, self.policies)
        return self.targets[key]

    def managers_for(self, ticket: Ticket) -> list[User]:
        if ticket.org_unit_id not in self.managers:
            self.managers[ticket.org_unit_id] = unit_managers(ticket.org_unit)
        return self.managers[ticket.org_unit_id]


@dataclass
class _Out:
    """A batch's writes, collected while its tickets are checked, made in bulk at the end."""

    events: list[SlaEvent] = field(default_factory=list)
    notices: list[dict] = field(default_factory=list)
    audits: dict[str, list[tuple[Ticket, dict]]] = field(default_factory=dict)
    breaches: list[dict] = field(default_factory=list)  # sla.breached webhook payloads


def _scan_batch(ids: list[int], scan: _Scan) -> tuple[int, int]:
    now = scan.now
    warnings = breaches = 0
    with transaction.atomic():
        tickets = list(
            Ticket.objects.select_for_update(skip_locked=_skip_locked(), of=("self",))
            .filter(pk__in=ids, sla_check_at__lte=now)
            .select_related("org_unit", "assignee")
            .order_by("id")
        )
        if not tickets:  # another scan has them, or they moved on
            return 0, 0
        postponed: dict[datetime, list[int]] = {}
        working = []
        for ticket in tickets:
            schedule = schedule_for_ticket(ticket, scan.schedules)
            if is_working_time(now, schedule):
                working.append((ticket, schedule))
            else:
                # No 3 a.m. pings: a scan outside the unit's working hours (a worker that
                # was down, a late batch) leaves the ticket for the first scan of the next
                # window.
                postponed.setdefault(next_working_time(now, schedule), []).append(ticket.pk)
        for moment, pks in postponed.items():
            Ticket.objects.filter(pk__in=pks).update(sla_check_at=moment)
        if not working:
            return 0, 0
        pks = [t.pk for t, _s in working]
        logs: dict[int, list[tuple[datetime, str]]] = {pk: [] for pk in pks}
        for ticket_id, at, to_status in (
            TicketStatusLog.objects.filter(ticket_id__in=pks)
            .order_by("ticket_id", "at", "id")
            .values_list("ticket_id", "at", "to_status")
        ):
            logs[ticket_id].append((at, to_status))
        done: dict[int, set[str]] = {pk: set() for pk in pks}
        cycles = {t.pk: t.reopen_count for t, _s in working}
        for ticket_id, kind, cycle in SlaEvent.objects.filter(ticket_id__in=pks).values_list(
            "ticket_id", "kind", "cycle"
        ):
            if cycle == cycles[ticket_id]:
                done[ticket_id].add(kind)
        out = _Out()
        for ticket, schedule in working:
            clock = compute_clock(
                log=logs[ticket.pk],
                first_response_at=ticket.first_response_at,
                targets=scan.targets_for(ticket),
                schedule=schedule,
                now=now,
                explain=False,
            )
            for kind, moment in _due_events(ticket, clock, now):
                if kind in done[ticket.pk]:
                    continue
                if not _record_event(ticket, kind, moment, now=now, scan=scan, out=out):
                    continue
                done[ticket.pk].add(kind)
                if kind.endswith("breach"):
                    breaches += 1
                else:
                    warnings += 1
            # The clock computed above still holds: events change no status.
            recompute_sla(ticket, now=now, clock=clock, done=done[ticket.pk])
        _write(out, [t for t, _s in working])
    return warnings, breaches


def _due_events(ticket: Ticket, clock, now: datetime) -> list[tuple[str, datetime]]:
    """The warnings and breaches whose moment has come, a warning left out when its breach
    is due too (already late: the breach says it)."""
    if not clock.running:
        return []
    due = []
    if ticket.first_response_at is None:
        due += [
            (SlaEvent.Kind.RESPONSE_WARNING, clock.response_warn_at),
            (SlaEvent.Kind.RESPONSE_BREACH, clock.response_due_at),
        ]
    due += [
        (SlaEvent.Kind.RESOLUTION_WARNING, clock.resolution_warn_at),
        (SlaEvent.Kind.RESOLUTION_BREACH, clock.resolution_due_at),
    ]
    late = {
        k.replace("breach", "warning")
        for k, m in due
        if k.endswith("breach") and m is not None and m <= now
    }
    return [
        (kind, moment)
        for kind, moment in due
        if moment is not None and moment <= now and kind not in late
    ]


def _skip_locked() -> bool:
    from django.db import connection

    return connection.features.has_select_for_update_skip_locked


def _record_event(
    ticket: Ticket, kind: str, moment: datetime, *, now: datetime, scan: _Scan, out: _Out
) -> bool:
    """Collect the event, its notices (the assignee; on a breach the unit's managers too),
    its audit entry and, on a breach, its webhook payload into the batch's writes."""
    breach = kind.endswith("breach")
    clock_name = "response" if kind.startswith("response") else "resolution"
    recipients: list[User] = []
    if ticket.assignee is not None:
        recipients.append(ticket.assignee)
    if breach:
        recipients += [m for m in scan.managers_for(ticket) if m not in recipients]
    level = "breach" if breach else "warning"
    url = ticket.get_absolute_url()
    for user in recipients:
        out.notices.append(
            {
                "recipient": user,
                "key": f"ticket:{ticket.pk}:sla:{clock_name}:{level}:{ticket.reopen_count}",
                "title": EVENT_TITLES[kind],
                "body": ticket.subject,
                "url": url,
                "kind": "sla",
            }
        )
    out.events.append(
        SlaEvent(
            ticket=ticket,
            kind=kind,
            cycle=ticket.reopen_count,
            due_at=moment,
            at=now,
            notified=[u.pk for u in recipients],
        )
    )
    out.audits.setdefault(f"ticket.sla.{kind}", []).append((ticket, {"due": str(moment)}))
    if breach:
        out.breaches.append({**ticket_payload(ticket), "kind": clock_name, "due_at": moment})
    return True


def _write(out: _Out, tickets: list[Ticket]) -> None:
    """A batch's writes, a few statements whatever its size."""
    SlaEvent.objects.bulk_create(out.events, batch_size=500)
    if out.notices:
        notices.send_many(out.notices)
    for verb, entries in out.audits.items():
        audit_records(actor=None, verb=verb, entries=entries)
    if out.breaches:
        webhook_emit_many("sla.breached", out.breaches)
    _save_clocks(tickets)


def _save_clocks(tickets: list[Ticket]) -> None:
    """The recomputed SLA fields of many tickets: one prepared UPDATE by primary key run for
    each (executemany), where bulk_update would build a CASE per field and row."""
    from django.db import connection

    fields = [
        f for f in (Ticket._meta.get_field(name) for name in SLA_FIELDS) if isinstance(f, Field)
    ]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(Ticket._meta.db_table)} SET "
        + ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
        + " WHERE id = %s"
    )
    rows = [
        [f.get_db_prep_save(getattr(t, f.attname), connection) for f in fields] + [t.pk]
        for t in tickets
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


MAX_POLICY_HOURS = Decimal(10000)


def _hours_value(name: str, raw, errors: list[FieldError]) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or value < 0 or value > MAX_POLICY_HOURS:
        errors.append(FieldError(name, "invalid", _("Enter hours between 0 and 10000.")))
        return None
    if value != value.quantize(Decimal("0.01")):
        errors.append(FieldError(name, "invalid", _("At most two decimal places.")))
        return None
    return value


def sla_policy_set(
    *,
    actor: User,
    type: str,
    priority: str,
    first_response_hours,
    resolution_hours,
    warn_before_hours=2,
) -> SlaPolicy:
    """Set the working hours for one type × priority (first response, resolution, the
    warning before each); open tickets of that kind get their deadlines recomputed from
    their status logs. Managers and admins only; audited with the old and new hours."""

    if not can_manage_service(actor):
        raise Forbidden(_("Only managers change SLA policies."))
    errors: list[FieldError] = []
    if type not in TicketType.values:
        errors.append(FieldError("type", "invalid_choice", _("Unknown ticket type.")))
    if priority not in Priority.values:
        errors.append(FieldError("priority", "invalid_choice", _("Unknown priority.")))
    response = _hours_value("first_response_hours", first_response_hours, errors)
    resolution = _hours_value("resolution_hours", resolution_hours, errors)
    warn = _hours_value("warn_before_hours", warn_before_hours, errors)
    if response is not None and response <= 0:
        errors.append(FieldError("first_response_hours", "invalid", _("Allow more than 0 hours.")))
    if resolution is not None and resolution <= 0:
        errors.append(FieldError("resolution_hours", "invalid", _("Allow more than 0 hours.")))
    if response and resolution and response > resolution:
        errors.append(
            FieldError(
                "resolution_hours",
                "before_first_response",
                _("The resolution cannot be due before the first response."),
            )
        )
    if warn is not None and response and warn >= response:
        errors.append(
            FieldError(
                "warn_before_hours",
                "too_early",
                _("Warn less time before than the first response allows."),
            )
        )
    if errors:
        raise ValidationFailed(errors)
    values = {
        "first_response_hours": response,
        "resolution_hours": resolution,
        "warn_before_hours": warn,
    }
    now = timezone.now()
    with transaction.atomic():
        policy = SlaPolicy.objects.select_for_update().filter(type=type, priority=priority).first()
        before = {k: getattr(policy, k) for k in values} if policy else {}
        if policy is None:
            policy = SlaPolicy.objects.create(type=type, priority=priority, **values)
        else:
            for key, value in values.items():
                setattr(policy, key, value)
            policy.save(update_fields=list(values))
        changes = diff_fields(before, values)
        if not changes:
            return policy
        audit_record(actor=actor, verb="sla.policy", target=policy, changes=changes)
        policies = {(type, priority): policy}
        schedules: dict[int, Schedule] = {}
        for ticket in (
            Ticket.objects.open()
            .filter(type=type, priority=priority)
            .select_related("org_unit")
            .select_for_update(of=("self",))
        ):
            schedule = schedule_for_ticket(ticket, schedules)
            ticket.save(
                update_fields=recompute_sla(ticket, now=now, schedule=schedule, policies=policies)
            )
    return policy


def agent_skill_set(
    *, actor: User, user_id: int, types: list[str], product_ids=()
) -> list[AgentSkill]:
    """Replace an agent's skills: the ticket types they handle, optionally only for some
    products (assignment prefers a product-specific skill). A manager sets the skills of
    the service agents in the units they manage, an admin anyone's; audited."""

    if not can_manage_service(actor):
        raise Forbidden(_("Only managers change skills."))
    types = sorted(set(types))
    product_ids = sorted({int(p) for p in product_ids})
    errors: list[FieldError] = []
    if any(t not in TicketType.values for t in types):
        errors.append(FieldError("types", "invalid_choice", _("Unknown ticket type.")))
    if product_ids:
        known = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
        if known != set(product_ids):
            errors.append(FieldError("product_ids", "not_found", _("Unknown product.")))
    if product_ids and not types:
        errors.append(
            FieldError("types", "required", _("Choose the ticket types for these products."))
        )
    agent = User.objects.filter(pk=user_id, is_active=True).first()
    if agent is None or not can_set_skills(actor, agent):
        missing = NotFound(_("Agent not found."))
        missing.field = "user_id"
        raise missing
    if not is_agent(agent):
        errors.append(FieldError("user_id", "not_an_agent", _("Only service agents have skills.")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        old = list(
            AgentSkill.objects.select_for_update()
            .filter(user=agent)
            .order_by("type", "product_id")
            .values_list("type", "product_id")
        )
        AgentSkill.objects.filter(user=agent).delete()
        skills = AgentSkill.objects.bulk_create(
            AgentSkill(user=agent, type=t, product_id=p)
            for t in types
            for p in (product_ids or [None])
        )
        new = sorted((s.type, s.product_id) for s in skills)
        if old != new:
            names = dict(
                Product.objects.filter(
                    pk__in={p for _t, p in old + new if p is not None}
                ).values_list("pk", "name")
            )

            def products(pairs) -> list[str]:
                return sorted({names.get(p, str(p)) for _t, p in pairs if p is not None})

            # Types as codes (the audit log shows their labels), products by name.
            audit_record(
                actor=actor,
                verb="service.skills",
                target=agent,
                changes={
                    "types": [sorted({t for t, _p in old}), sorted({t for t, _p in new})],
                    "products": [products(old), products(new)],
                },
            )
    return skills
