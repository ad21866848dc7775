"""The customer page's points panel, the points page with its redemption form, rewards."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from guanxi.core.errors import DomainError

from . import services
from .models import Tier
from .selectors import ledger_for, open_lots, tier_history


def loyalty_panel(request, customer) -> str:
    """Balance, tier, what expires next; links to the points page (customer page panel)."""
    summary = services.account_summary(customer.pk)
    return render_to_string(
        "loyalty/partials/panel.html",
        {"customer": customer, "summary": summary, "entry_tier": Tier.objects.first()},
        request=request,
    )


def _customer_page(request, pk: int, *, status: int = 200, error: str = ""):
    customer, entries = ledger_for(viewer=request.user, customer_id=pk)

    context = {
        "customer": customer,
        "entries": entries,
        "lots": open_lots(customer.pk),
        "tiers": tier_history(customer.pk),
        "summary": services.account_summary(customer.pk),
        "rewards": services.rewards_available(),
        "entry_tier": Tier.objects.first(),
        "key": uuid.uuid4().hex,
        "error": error,
    }
    return render(request, "loyalty/customer_points.html", context, status=status)


@login_required
def customer_points_view(request, pk: int):
    return _customer_page(request, pk)


@login_required
@require_POST
def redeem_view(request, pk: int):
    reward_id = request.POST.get("reward") or None
    points = request.POST.get("points") or None
    try:
        entry = services.points_redeem(
            actor=request.user,
            customer_id=pk,
            key=request.POST.get("key", ""),
            reward_id=int(reward_id) if reward_id and reward_id.isdigit() else None,
            points=None if reward_id else points,
            ref=request.POST.get("ref", ""),
        )
    except DomainError as exc:
        return _customer_page(request, pk, status=exc.status, error=str(exc.message))
    messages.success(
        request,
        _redeemed_message(entry),
    )
    return redirect("loyalty:customer", pk=pk)


def _redeemed_message(entry) -> str:
    from django.utils.translation import gettext as _

    return _("%(points)s points redeemed; balance %(balance)s.") % {
        "points": f"{-entry.points:,}",
        "balance": f"{entry.balance_after:,}",
    }


@login_required
@require_POST
def visit_view(request, pk: int):
    from django.utils.translation import gettext as _

    try:
        entry = services.points_earn_visit(
            actor=request.user, customer_id=pk, key=request.POST.get("key", "")
        )
    except DomainError as exc:
        return _customer_page(request, pk, status=exc.status, error=str(exc.message))
    messages.success(request, _("%(points)s points for the visit.") % {"points": entry.points})
    return redirect("loyalty:customer", pk=pk)
