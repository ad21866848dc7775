"""The agent's queue, the ticket page, quick create and the manager's view."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import DomainError, NotFound
from guanxi.core.models import Role, User
from guanxi.core.web import attach_errors, is_htmx_partial
from guanxi.customers.selectors import customer_get

from . import services
from .forms import ReplyForm, TicketForm
from .models import TRANSITIONS, Priority, Status, TicketType
from .permissions import can_assign, can_create_ticket, can_manage_service, can_work, queue_unit_ids
from .selectors import TicketFilter, queue_counts, ticket_get, ticket_list


def _ticket_or_404(request, pk):
    try:
        return ticket_get(viewer=request.user, pk=pk)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def queue_view(request):
    try:
        filters = TicketFilter.from_params(request.GET)
        page = ticket_list(
            viewer=request.user, filters=filters, cursor=request.GET.get("cursor", "")
        )
        error = None
    except DomainError as exc:
        filters, page, error = TicketFilter(), None, exc.message
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "error": error,
        "now": timezone.now(),
        "query": params.urlencode(),
        "statuses": [("open", _("Open")), ("all", _("All")), *Status.choices],
        "types": TicketType.choices,
        "priorities": Priority.choices,
    }
    if is_htmx_partial(request):
        return render(request, "service/partials/ticket_table.html", context)
    return render(request, "service/queue.html", context)


@login_required
def ticket_view(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    clock = services.ticket_clock(ticket)
    works = can_work(request.user, ticket)
    log = ticket.status_log.select_related("actor").order_by("at", "id")
    messages_ = ticket.messages.select_related("author").order_by("id")
    if not works:
        messages_ = messages_.filter(internal=False)
    agents = []
    if can_assign(request.user, ticket):
        agents = [a for a, _load in services.agent_loads(ticket.org_unit.branch().subtree_ids())]
    return render(
        request,
        "service/ticket.html",
        {
            "ticket": ticket,
            "clock": clock,
            "log": log,
            "ticket_messages": messages_,
            "works": works,
            "can_assign": bool(agents),
            "agents": agents,
            "transitions": [(s, Status(s).label) for s in TRANSITIONS.get(ticket.status, ())],
            "reply_form": ReplyForm(),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def ticket_reply_view(request, pk: int):
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_reply(
                actor=request.user,
                ticket_id=pk,
                body=form.cleaned_data["body"],
                internal=form.cleaned_data["internal"],
                wait=form.cleaned_data["wait"],
            )
            messages.success(request, _("Message saved."))
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
    else:
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
    return redirect("service:ticket", pk=pk)


@login_required
@require_POST
def ticket_status_view(request, pk: int):
    try:
        services.ticket_transition(
            actor=request.user,
            ticket_id=pk,
            to_status=request.POST.get("status", ""),
            note=request.POST.get("note", ""),
            resolution=request.POST.get("resolution", ""),
        )
        messages.success(request, _("Status changed."))
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("service:ticket", pk=pk)


@login_required
@require_POST
def ticket_assign_view(request, pk: int):
    raw = request.POST.get("assignee", "")
    assignee = request.user.pk if raw == "me" else (int(raw) if raw.isdigit() else None)
    try:
        services.ticket_assign(
            actor=request.user,
            ticket_id=pk,
            assignee_id=assignee,
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Ticket assigned."))
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("service:ticket", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create_view(request):
    """Quick create, from the customer page (?customer=ID) or the call register."""
    if not can_create_ticket(request.user):
        raise Http404
    try:
        customer = customer_get(viewer=request.user, pk=int(request.GET.get("customer", "")))
    except (ValueError, NotFound) as exc:
        raise Http404 from exc
    form = TicketForm(request.POST or None, initial={"subject": request.GET.get("subject", "")})
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                actor=request.user, customer_id=customer.pk, **form.cleaned_data
            )
            messages.success(request, _("Ticket #%(id)s opened.") % {"id": ticket.pk})
            return redirect(ticket.get_absolute_url())
        except DomainError as exc:
            attach_errors(form, exc)
    return render(request, "service/ticket_form.html", {"form": form, "customer": customer})


@login_required
def manager_view(request):
    """The manager's view: figures, each agent's weighted load, the unassigned queue."""
    if not (can_manage_service(request.user) or request.user.has_role(Role.MANAGER)):
        raise Http404
    units = queue_unit_ids(request.user)
    if units is None:
        units = list(User.objects.values_list("org_unit_id", flat=True).distinct())
    unassigned = ticket_list(
        viewer=request.user, filters=TicketFilter(assignee="none"), limit=25
    ).items
    breached = ticket_list(viewer=request.user, filters=TicketFilter(breached=True), limit=25).items
    return render(
        request,
        "service/manager.html",
        {
            "counts": queue_counts(viewer=request.user, now=timezone.now()),
            "loads": services.agent_loads([u for u in units if u is not None]),
            "unassigned": unassigned,
            "breached": breached,
            "now": timezone.now(),
            "queue_url": reverse("service:queue"),
        },
    )
