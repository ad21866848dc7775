"""The customer page's value panel, the churn watch list, the analyst's checklist and the
profitability ranking."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import DomainError
from guanxi.core.web import safe_next
from guanxi.customers.models import Customer

from . import services
from .models import ChurnWarning
from .recommend import recommend_for
from .rules import NEXT_ACTIONS
from .selectors import _visible_values, _with_customers, checklist, value_of


def value_panel(request, customer) -> str:
    value = value_of(customer.pk)
    warning = ChurnWarning.objects.filter(customer_id=customer.pk, status__in=services.LIVE).first()
    return render_to_string(
        "insights/partials/panel.html",
        {
            "customer": customer,
            "value": value,
            "next_action": NEXT_ACTIONS.get(value.stage if value else "cultivation"),
            "warning": warning,
            "recommendations": recommend_for(customer),
        },
        request=request,
    )


@login_required
def watch_list_view(request):
    status = request.GET.get("status", "open")
    if status not in ChurnWarning.Status.values:
        status = "open"
    warnings = services.watch_list(viewer=request.user, status=status)

    customers = Customer.objects.in_bulk([w.customer_id for w in warnings])
    for w in warnings:
        w.the_customer = customers.get(w.customer_id)
    return render(
        request,
        "insights/watch_list.html",
        {"warnings": warnings, "status": status, "statuses": ChurnWarning.Status.choices},
    )


@login_required
@require_POST
def warning_decide_view(request, pk: int):
    action = request.POST.get("action")
    try:
        if action == "snooze":
            days = request.POST.get("days", "")
            services.churn_snooze(
                actor=request.user,
                warning_id=pk,
                days=int(days) if days.isdigit() else 0,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("Warning snoozed."))
        else:
            services.churn_dismiss(
                actor=request.user, warning_id=pk, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Warning dismissed."))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)

    return redirect(safe_next(request, "/insights/churn/"))


@login_required
def checklist_view(request):
    return render(request, "insights/checklist.html", checklist(viewer=request.user))


@login_required
def profitability_view(request):
    from django.db.models import DecimalField, ExpressionWrapper, F

    rows = _with_customers(
        _visible_values(request.user)
        .filter(purchases__gt=0)
        .annotate(
            margin=ExpressionWrapper(
                F("value") - F("cost"), output_field=DecimalField(max_digits=14, decimal_places=2)
            )
        )
        .order_by("margin" if request.GET.get("order") == "worst" else "-margin")[:100]
    )
    for row in rows:
        row.margin = row.profit  # exact Decimal (SQLite's arithmetic drops the places)
    return render(
        request,
        "insights/profitability.html",
        {"rows": rows, "worst": request.GET.get("order") == "worst"},
    )
