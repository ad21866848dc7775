"""The agent's queue, the ticket page, quick create and the manager's view."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import SHOWN_ON_PAGE, DomainError, NotFound
from guanxi.core.models import User
from guanxi.core.web import attach_errors, is_htmx_partial, page_action, safe_next
from guanxi.customers.selectors import customer_get
from guanxi.sales.models import Product

from . import care, knowledge, services
from .forms import ArticleForm, ReplyForm, SkillForm, SlaPolicyForm, TicketForm
from .models import (
    TRANSITIONS,
    AgentSkill,
    Channel,
    Priority,
    Status,
    Ticket,
    TicketType,
)
from .permissions import (
    can_assign,
    can_create_ticket,
    can_edit_articles,
    can_manage_service,
    can_read_service_reports,
    can_work,
    queue_unit_ids,
    reads_manager_view,
)
from .reports import service_value
from .selectors import (
    TicketFilter,
    queue_counts,
    skill_agents,
    sla_policy_rows,
    ticket_get,
    ticket_list,
)


def _ticket_or_404(request, pk):
    return ticket_get(viewer=request.user, pk=pk)


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
    context["return_visits"] = care.return_visits_due(user=request.user, limit=10)
    context["can_read_reports"] = can_read_service_reports(request.user)
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
            "survey": getattr(ticket, "survey", None),
            "survey_url": request.build_absolute_uri(
                reverse("service_public:survey", args=[care.survey_token(ticket)])
            )
            if works and ticket.status in (Status.RESOLVED, Status.CLOSED)
            else "",
            "return_visit": getattr(ticket, "return_visit", None),
            "linked_articles": [
                link.article for link in ticket.article_links.select_related("article")
            ],
            "articles": knowledge.article_search(q=ticket.subject[:20], limit=5) if works else [],
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
        except SHOWN_ON_PAGE as exc:
            messages.error(request, str(exc.message))
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("service:ticket", pk=pk)


@login_required
@require_POST
def ticket_status_view(request, pk: int):
    page_action(
        request,
        services.ticket_transition,
        _("Status changed."),
        ticket_id=pk,
        to_status=request.POST.get("status", ""),
        note=request.POST.get("note", ""),
        resolution=request.POST.get("resolution", ""),
    )
    return redirect("service:ticket", pk=pk)


@login_required
@require_POST
def ticket_assign_view(request, pk: int):
    raw = request.POST.get("assignee", "")
    assignee = request.user.pk if raw == "me" else (int(raw) if raw.isdigit() else None)
    page_action(
        request,
        services.ticket_assign,
        _("Ticket assigned."),
        ticket_id=pk,
        assignee_id=assignee,
        note=request.POST.get("note", ""),
    )
    # The manager's view assigns in place and comes back to it.
    return redirect(safe_next(request, reverse("service:ticket", args=[pk])))


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create_view(request):
    """Quick create, from the customer page (?customer=ID) or an entry of the visitor and
    call register (?customer=ID&channel=phone&description=the entry's notes)."""
    if not can_create_ticket(request.user):
        raise Http404
    try:
        customer = customer_get(viewer=request.user, pk=int(request.GET.get("customer", "")))
    except (ValueError, NotFound) as exc:
        raise Http404 from exc
    initial = {
        "subject": request.GET.get("subject", "")[:200],
        "description": request.GET.get("description", "")[:5000],
    }
    if request.GET.get("channel") in Channel.values:
        initial["channel"] = request.GET["channel"]
    form = TicketForm(request.POST or None, initial=initial)
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
    if not reads_manager_view(request.user):
        raise Http404
    units = queue_unit_ids(request.user)
    if units is None:
        units = list(User.objects.values_list("org_unit_id", flat=True).distinct())
    loads = services.agent_loads([u for u in units if u is not None])
    unassigned = ticket_list(
        viewer=request.user, filters=TicketFilter(assignee="none"), limit=25
    ).items
    breached = ticket_list(viewer=request.user, filters=TicketFilter(breached=True), limit=25).items
    return render(
        request,
        "service/manager.html",
        {
            "counts": queue_counts(viewer=request.user, now=timezone.now()),
            "loads": loads,
            "unassigned": unassigned,
            "breached": breached,
            "now": timezone.now(),
            "queue_url": reverse("service:queue"),
            "agents": [agent for agent, _load in loads],
            "can_manage": can_manage_service(request.user),
        },
    )


# --- the manager's settings: SLA policies and skills ------------------------------------------


@login_required
def sla_policies_view(request):
    if not can_manage_service(request.user):
        raise Http404
    return render(request, "service/sla_policies.html", {"rows": sla_policy_rows()})


@login_required
@require_http_methods(["GET", "POST"])
def sla_policy_edit_view(request, type: str, priority: str):
    if not can_manage_service(request.user):
        raise Http404
    if type not in TicketType.values or priority not in Priority.values:
        raise Http404
    row = next(r for r in sla_policy_rows() if (r.type, r.priority) == (type, priority))
    form = SlaPolicyForm(
        request.POST or None,
        initial={
            "first_response_hours": row.first_response_hours,
            "resolution_hours": row.resolution_hours,
            "warn_before_hours": row.warn_before_hours,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.sla_policy_set(
                actor=request.user, type=type, priority=priority, **form.cleaned_data
            )
            messages.success(
                request,
                _("SLA policy saved: %(policy)s. Open tickets of this kind were recomputed.")
                % {"policy": f"{row.type_label} · {row.priority_label}"},
            )
            return redirect("service:sla_policies")
        except DomainError as exc:
            attach_errors(form, exc)
    open_count = Ticket.objects.open().filter(type=type, priority=priority).count()
    return render(
        request,
        "service/sla_policy_form.html",
        {"form": form, "row": row, "open_count": open_count},
    )


@login_required
def skills_view(request):
    if not can_manage_service(request.user):
        raise Http404
    return render(request, "service/skills.html", {"agents": skill_agents(viewer=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def skill_edit_view(request, user_id: int):
    if not can_manage_service(request.user):
        raise Http404
    agent = next((a for a in skill_agents(viewer=request.user) if a.pk == user_id), None)
    if agent is None:
        raise Http404

    current = list(AgentSkill.objects.filter(user=agent))
    chosen = {s.product_id for s in current if s.product_id}
    products = Product.objects.filter(Q(active=True) | Q(pk__in=chosen)).order_by("name", "id")
    form = SkillForm(
        request.POST or None,
        product_choices=[(str(p.pk), f"{p.name} ({p.sku})") for p in products[:1000]],
        initial={
            "types": sorted({s.type for s in current}),
            "products": [str(p) for p in sorted(chosen)],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.agent_skill_set(
                actor=request.user,
                user_id=agent.pk,
                types=form.cleaned_data["types"],
                product_ids=[int(p) for p in form.cleaned_data["products"]],
            )
            messages.success(request, _("Skills of %(agent)s saved.") % {"agent": agent})
            return redirect("service:skills")
        except DomainError as exc:
            attach_errors(form, exc, {"product_ids": "products"})
    return render(request, "service/skill_form.html", {"form": form, "agent": agent})


# --- after the resolution: survey, return visit ------------------------------------------


@login_required
@require_POST
def survey_record_view(request, pk: int):
    page_action(
        request,
        care.survey_record,
        _("Score recorded."),
        ticket_id=pk,
        score=request.POST.get("score"),
        comment=request.POST.get("comment", ""),
    )
    return redirect("service:ticket", pk=pk)


@login_required
@require_POST
def return_visit_view(request, pk: int):
    try:
        visit = care.return_visit_close(
            actor=request.user,
            visit_id=pk,
            outcome=request.POST.get("outcome", ""),
            score=request.POST.get("score") or None,
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Return visit closed."))
        return redirect("service:ticket", pk=visit.ticket_id)
    except SHOWN_ON_PAGE as exc:
        messages.error(request, str(exc.message))
    return redirect(request.POST.get("back") or reverse("service:return_visits"))


@login_required
def return_visits_view(request):
    return render(
        request,
        "service/return_visits.html",
        {"visits": care.return_visits_due(user=request.user, limit=50), "now": timezone.now()},
    )


# --- knowledge base (staff) ----------------------------------------------------------------


@login_required
def kb_list_view(request):
    q = request.GET.get("q", "")[:100]
    language = get_language() or "zh-hans"
    articles = knowledge.article_search(q=q, limit=50)
    for article in articles:
        article.title_shown = article.title_for(language)
    return render(
        request,
        "service/kb_list.html",
        {
            "q": q,
            "articles": articles,
            "can_edit": can_edit_articles(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def kb_edit_view(request, pk: int | None = None):
    if not can_edit_articles(request.user):
        raise Http404
    article = None
    if pk is not None:
        article = knowledge.article_get(pk=pk)

    form = ArticleForm(request.POST or None, instance_data=article)
    if request.method == "POST" and form.is_valid():
        try:
            saved = knowledge.article_save(
                actor=request.user, data=form.cleaned_data, article_id=pk
            )
            messages.success(request, _("Article saved."))
            return redirect("service:kb_edit", pk=saved.pk)
        except DomainError as exc:
            attach_errors(form, exc)
    return render(request, "service/kb_form.html", {"form": form, "article": article})


@login_required
@require_POST
def ticket_article_view(request, pk: int):
    raw = request.POST.get("article", "")
    try:
        knowledge.article_link(
            actor=request.user, ticket_id=pk, article_id=int(raw) if raw.isdigit() else 0
        )
        messages.success(request, _("Article linked."))
    except NotFound as exc:
        if not Ticket.objects.visible_to(request.user).filter(pk=pk).exists():
            raise Http404 from exc
        messages.error(request, str(exc.message))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("service:ticket", pk=pk)


# --- reports -----------------------------------------------------------------------------------


@login_required
def reports_view(request):
    if not can_read_service_reports(request.user):
        raise Http404
    try:
        months = min(max(int(request.GET.get("months", "6")), 1), 24)
    except ValueError:
        months = 6
    now = timezone.now()
    since = now - timedelta(days=365)
    return render(
        request,
        "service/reports.html",
        {
            "csat": care.csat(viewer=request.user, since=since),
            "deflections": knowledge.deflection_counts(since=now - timedelta(days=30)),
            "value": service_value(viewer=request.user, since=since, months=months),
            "months": months,
        },
    )
