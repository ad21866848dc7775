"""Pipeline, deal page, sales-control board, approvals and the finance desk."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import SHOWN_ON_PAGE, DomainError
from guanxi.core.events import collect_effects
from guanxi.core.web import attach_errors, page_action
from guanxi.customers.selectors import CustomerFilter, customer_get, customer_list
from guanxi.customers.warnings import sales_confirmation_check

from . import services
from .forms import DealForm, DepositForm, PaymentForm, QuoteForm
from .models import Agreement, ChangeRequest, Deal, InventoryUnit, PipelineStage, Product, Quote
from .pdf import agreement_pdf
from .permissions import (
    can_open_deal,
    can_open_deals,
    is_finance,
    manages_sales,
    reads_finance_desk,
)
from .selectors import (
    board_version,
    deal_get,
    finance_queue,
    kanban,
    pending_changes,
    pending_quotes,
    sales_board,
)


def _deal_or_404(request, pk):
    return deal_get(viewer=request.user, pk=pk)


def _pipeline_context(request, mine: bool, error=None) -> dict:
    columns = kanban(viewer=request.user, mine=mine)
    return {
        "columns": columns,
        "has_deals": any(column.count for column in columns),
        "mine": mine,
        "error": error,
        # Card links built from one reversed prefix: 200 reverse() calls a page cost 35 ms.
        "deal_base": reverse("sales:deal", args=[0]).removesuffix("0/"),
    }


@login_required
def pipeline_view(request):
    mine = request.GET.get("mine") == "1"
    context = _pipeline_context(request, mine)
    context["can_open_deals"] = can_open_deals(request.user)
    if request.headers.get("HX-Request"):
        return render(request, "sales/partials/board.html", context)
    return render(request, "sales/pipeline.html", context)


@login_required
@require_POST
def deal_move_view(request, pk: int):
    """Kanban drop: move, then re-render the board (with the rule's message if refused)."""
    error = None
    try:
        services.deal_move(
            actor=request.user,
            deal_id=pk,
            to_stage=request.POST.get("stage", ""),
            lost_reason=request.POST.get("lost_reason", ""),
        )
    except SHOWN_ON_PAGE as exc:
        error = exc.message
    mine = request.POST.get("mine") == "1"
    return render(request, "sales/partials/board.html", _pipeline_context(request, mine, error))


@login_required
@require_http_methods(["GET", "POST"])
def deal_create_view(request, customer_id: int):
    customer = customer_get(viewer=request.user, pk=customer_id)

    if not can_open_deal(request.user, customer):
        raise Http404
    initial = {"title": customer.name}
    product = _product_param(request)
    if product is not None:
        initial.update(product=product.pk, title=f"{customer.name} · {product.name}")
    form = DealForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal = services.deal_create(
                actor=request.user,
                customer_id=customer.pk,
                title=data["title"],
                amount=data.get("amount") or "0",
                product_id=data["product"].pk if data.get("product") else None,
                expected_close=data.get("expected_close"),
            )
        except DomainError as exc:
            attach_errors(form, exc, {"product_id": "product"})
        else:
            return redirect("sales:deal", pk=deal.pk)
    return render(request, "sales/deal_form.html", {"form": form, "customer": customer})


def _product_param(request):
    """The product a "New deal" button of the sales-control board carries (?product=)."""

    raw = request.GET.get("product", "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return Product.objects.filter(pk=int(raw), active=True).first()


@login_required
def deal_start_view(request):
    """ "New deal" from the pipeline or the sales-control board: find the customer first
    (the same search as the customer list), then the deal form of the customer page."""

    if not can_open_deals(request.user):
        raise Http404
    q = request.GET.get("q", "").strip()[:100]
    product = _product_param(request)
    customers = []
    if q:
        page = customer_list(viewer=request.user, filters=CustomerFilter(q=q), limit=20)
        customers = [c for c in page.items if can_open_deal(request.user, c)]
    return render(
        request,
        "sales/deal_start.html",
        {"q": q, "customers": customers, "product": product},
    )


def deals_panel(request, customer) -> str:
    """The customer page's deals: each deal's stage and amount, and the "New deal" button."""
    from django.template.loader import render_to_string

    deals = list(
        Deal.objects.filter(customer=customer)
        .select_related("owner")
        .order_by("-created_at", "-id")[:10]
    )
    can_open = can_open_deal(request.user, customer)
    if not deals and not can_open:
        return ""
    return render_to_string(
        "sales/partials/customer_deals.html",
        {"customer": customer, "deals": deals, "can_open": can_open},
        request=request,
    )


@login_required
def deal_view(request, pk: int):
    deal = _deal_or_404(request, pk)
    units = InventoryUnit.objects.filter(status=InventoryUnit.Status.AVAILABLE)
    if deal.product_id:
        units = units.filter(product_id=deal.product_id)
    instalments = list(deal.instalments.all())
    context = {
        "deal": deal,
        "stages": PipelineStage.objects.filter(active=True),
        "deposit_form": DepositForm(units=units[:300]),
        "payment_form": PaymentForm(instalments=[i for i in instalments if i.status == "due"]),
        "quote_form": QuoteForm(initial={"product": deal.product_id}),
        "instalments": instalments,
        "payments": deal.payments.select_related("recorded_by"),
        "agreements": deal.agreements.order_by("issued_at"),
        "events": deal.events.select_related("actor")[:50],
        "changes": deal.changes.order_by("-created_at"),
        "commissions": deal.commissions.select_related("salesperson", "department"),
        "quotes": Quote.objects.filter(customer=deal.customer)
        .select_related("product", "quoted_by")
        .order_by("-created_at")[:10],
        "is_finance": is_finance(request.user),
        "available_units": units[:300],
    }
    return render(request, "sales/deal.html", context)


def _warnings_confirmed(request, pk: int, action: str) -> bool:
    """An unresolved complaint (customers.warnings) needs the form's audited confirmation."""
    deal = _deal_or_404(request, pk)
    try:
        sales_confirmation_check(
            actor=request.user,
            customer=deal.customer,
            action=action,
            confirmed=request.POST.get("confirm_warnings") == "1",
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    return True


def _deal_action(request, pk, action, success, **kwargs):
    page_action(request, action, success, deal_id=pk, **kwargs)
    return redirect("sales:deal", pk=pk)


@login_required
@require_POST
def deposit_view(request, pk: int):
    if not _warnings_confirmed(request, pk, "deposit"):
        return redirect("sales:deal", pk=pk)
    unit = request.POST.get("unit", "")
    form = DepositForm(
        # A unit id that is not a number is the form's error, not a 500.
        request.POST,
        units=InventoryUnit.objects.filter(pk=int(unit) if unit.isdigit() else 0),
    )
    if not form.is_valid():
        messages.error(
            request,
            " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()),
        )
        return redirect("sales:deal", pk=pk)
    data = form.cleaned_data
    return _deal_action(
        request,
        pk,
        services.deal_take_deposit,
        _("Deposit taken; the unit is reserved."),
        kind=data["kind"],
        amount=data["amount"],
        unit_id=data.get("unit"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_issue_view(request, pk: int):
    """GET: what the 认购书 will say, to confirm (it cannot be altered once issued, only
    amended through a change request); POST: issue it, with the optional comment."""
    if request.method == "POST":
        return _deal_action(
            request,
            pk,
            services.agreement_issue,
            _("Subscription agreement issued."),
            note=request.POST.get("comment", "")[:500],
        )
    deal = _deal_or_404(request, pk)
    try:
        preview = services.agreement_preview(actor=request.user, deal_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("sales:deal", pk=pk)
    return render(request, "sales/agreement_confirm.html", {"deal": deal, "preview": preview})


@login_required
def agreement_pdf_view(request, pk: int):
    agreement = Agreement.objects.select_related("deal").filter(pk=pk).first()
    if agreement is None:
        raise Http404
    _deal_or_404(request, agreement.deal_id)
    try:
        content = agreement_pdf(agreement)
    except DomainError as exc:
        return HttpResponse(
            exc.message, status=exc.status, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{agreement.number}.pdf"'
    return response


@login_required
@require_POST
def payment_view(request, pk: int):
    if not is_finance(request.user):
        return HttpResponse(_("Only finance records money received."), status=403)
    deal = _deal_or_404(request, pk)
    form = PaymentForm(request.POST, instalments=deal.instalments.filter(status="due"))
    if not form.is_valid():
        messages.error(
            request,
            " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()),
        )
        return redirect("sales:deal", pk=pk)
    data = form.cleaned_data
    if request.POST.get("preview") == "1":
        # The deal page's form asks first: money recorded cannot be taken back by finance
        # alone (a refund is a change request). A direct post (a script) records at once.
        instalment = deal.instalments.filter(pk=data.get("instalment") or 0).first()
        return render(
            request,
            "sales/payment_confirm.html",
            {
                "deal": deal,
                "data": data,
                "method_label": dict(form.fields["method"].choices).get(data["method"], ""),
                "instalment": instalment,
            },
        )
    try:
        with collect_effects() as effects:
            services.payment_record(
                actor=request.user,
                deal_id=pk,
                amount=data["amount"],
                method=data["method"],
                receipt_number=data["receipt_number"],
                instalment_id=data.get("instalment"),
                note=request.POST.get("comment", "")[:500],
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Payment recorded."))
        # What other apps did at this transaction: points earned, a tier upgrade (C6).
        for effect in effects:
            if effect["message"]:
                messages.info(request, effect["message"])
    return redirect("sales:deal", pk=pk)


@login_required
@require_POST
def quote_view(request, pk: int):
    if not _warnings_confirmed(request, pk, "quote"):
        return redirect("sales:deal", pk=pk)
    deal = _deal_or_404(request, pk)
    form = QuoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a product and a price."))
        return redirect("sales:deal", pk=pk)
    try:
        quote = services.quote_issue(
            actor=request.user,
            customer_id=deal.customer_id,
            product_id=form.cleaned_data["product"].pk,
            price=form.cleaned_data["price"],
            deal_id=deal.pk,
            note=form.cleaned_data.get("note", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Quote waits for a manager's approval.")
            if quote.status == Quote.Status.PENDING
            else _("Quote issued."),
        )
    return redirect("sales:deal", pk=pk)


@login_required
@require_POST
def change_view(request, pk: int):
    kind = request.POST.get("kind", "")
    data = {
        "unit_id": int(request.POST["unit"]) if request.POST.get("unit", "").isdigit() else None,
        "new_name": request.POST.get("new_name", ""),
        "fee": request.POST.get("fee", "").strip() or None,  # none given: the default fee
    }
    if kind == "price_change":
        data["price"] = request.POST.get("price", "").strip()
    return _deal_action(
        request,
        pk,
        services.change_request,
        _("Change requested; a manager decides."),
        kind=kind,
        reason=request.POST.get("reason", ""),
        data=data,
    )


def _approval_to_confirm(request) -> dict | None:
    """?confirm=quote|change&pk=…&decision=approve|reject: the one decision to confirm, with
    what it does; None for the list (or when the item is no longer waiting)."""
    target, raw = request.GET.get("confirm", ""), request.GET.get("pk", "")
    if target not in ("quote", "change") or not raw.isdigit() or len(raw) > 18:
        return None
    decision = "approve" if request.GET.get("decision") == "approve" else "reject"
    rows = pending_quotes(request.user) if target == "quote" else pending_changes(request.user)
    item = rows.filter(pk=int(raw)).first()
    if item is None:
        messages.error(request, _("This request is no longer waiting for a decision."))
        return None
    return {"target": target, "item": item, "decision": decision}


@login_required
@require_http_methods(["GET", "POST"])
def approvals_view(request):
    if not manages_sales(request.user):
        raise Http404
    if request.method == "POST":
        approve = request.POST.get("decision") == "approve"
        target = request.POST.get("target", "")
        pk = request.POST.get("pk", "")
        pk = int(pk) if pk.isdigit() else 0
        note = request.POST.get("comment", "")[:500]
        try:
            if target == "quote":
                services.quote_decide(actor=request.user, quote_id=pk, approve=approve, note=note)
            else:
                services.change_decide(actor=request.user, change_id=pk, approve=approve, note=note)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Approved.") if approve else _("Rejected."))
        return redirect("sales:approvals")
    confirm = _approval_to_confirm(request)
    if confirm:
        return render(request, "sales/approval_confirm.html", confirm)
    return render(
        request,
        "sales/approvals.html",
        {
            "quotes": pending_quotes(request.user),
            "changes": pending_changes(request.user),
            "change_kinds": ChangeRequest.Kind,
        },
    )


@login_required
def board_view(request):
    """销控表, polled by htmx every few seconds: a poll carrying the version it last saw
    gets 204 (htmx keeps the grid) while nothing changed, the redrawn grid otherwise."""
    product_id = request.GET.get("product", "")
    product_id = int(product_id) if product_id.isdigit() else None
    seen = request.GET.get("v")
    polling = request.headers.get("HX-Request") and product_id and seen
    if polling and seen == board_version(product_id):
        return HttpResponse(status=204)
    board = sales_board(product_id, with_version=True)

    context = {
        "board": board,
        "products": Product.objects.filter(has_units=True, active=True),
        "statuses": InventoryUnit.Status.choices,
        "can_release": manages_sales(request.user),
        "can_open_deals": can_open_deals(request.user),
    }
    if request.headers.get("HX-Request"):
        return render(request, "sales/partials/unit_grid.html", context)
    return render(request, "sales/board.html", context)


@login_required
@require_POST
def unit_release_view(request, pk: int):
    try:
        unit = services.unit_set_release(
            actor=request.user, unit_id=pk, release=request.POST.get("release") == "1"
        )
    except SHOWN_ON_PAGE as exc:
        messages.error(request, exc.message)
        return redirect("sales:board")
    return redirect(f"/sales/board/?product={unit.product_id}")


@login_required
def finance_view(request):
    if not reads_finance_desk(request.user):
        raise Http404
    return render(request, "sales/finance.html", {"instalments": finance_queue(request.user)})
