"""The front desk, the "who is next" screen, rosters, disputes, the pool and statistics."""

import csv
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.calendar import time_zone_for_unit
from guanxi.core.errors import SHOWN_ON_PAGE, DomainError, ValidationFailed
from guanxi.core.ids import MAX_ID
from guanxi.core.models import Role, User
from guanxi.core.permissions import managed_units
from guanxi.core.visibility import customer_visibility_q
from guanxi.customers.keys import InvalidPhone, normalize_phone
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.customers.selectors import customer_get

from . import services
from .models import Dispute, DutySlot, ReceptionSettings, Visit
from .permissions import (
    can_change_settings,
    can_claim_from_pool,
    can_decide_dispute,
    can_manage_desk,
    can_open_dispute,
    can_redistribute,
    reads_disputes,
    reads_statistics,
)
from .register_actions import visit_actions
from .selectors import (
    branch_salespeople,
    credit_lines,
    current_credit_split,
    customer_visits,
    desk_state,
    disputes_for,
    open_disputes,
    pool_customers,
    visit_statistics,
    visits_on,
)


def _branch(request):
    try:
        return services.desk_branch(request.user, None)
    except DomainError as exc:
        raise Http404 from exc


def _ids(values) -> tuple[int, ...]:
    return tuple(int(v) for v in values if str(v).isdigit())


def _int_or_none(value):
    return int(value) if value and str(value).isdigit() else None


@login_required
@require_http_methods(["GET", "POST"])
def desk_view(request):
    """The receptionist's screen: phone first, then the rest; the decision shows at once."""
    branch = _branch(request)
    result, errors, values = None, {}, {}
    if request.method == "POST":
        values = request.POST
        registration = services.Registration(
            phone=values.get("phone", ""),
            name=values.get("name", ""),
            kind=values.get("kind", Visit.Kind.VISIT),
            source=values.get("source", ""),
            intention=values.get("intention", ""),
            party_size=_int_or_none(values.get("party_size")) or 1,
            notes=values.get("notes", ""),
            referred_by_phone=values.get("referred_by_phone", ""),
            household_phone=values.get("household_phone", ""),
            named=_ids(values.getlist("named")),
            prefers=_int_or_none(values.get("prefers")),
            refuses=_int_or_none(values.get("refuses")),
            complaint=bool(values.get("complaint")),
            discount_seeking=bool(values.get("discount_seeking")),
            forgot_receiver=bool(values.get("forgot_receiver")),
            event_assignee=_int_or_none(values.get("event_assignee")),
            assistant=_int_or_none(values.get("assistant")),
        )
        try:
            visit = services.visit_register_and_receive(
                actor=request.user, registration=registration
            )
        except DomainError as exc:
            for error in exc.errors or [exc]:
                errors[error.field or "general"] = str(error.message)
        else:
            # Post/redirect/get: reloading the page must not register the visitor again.
            return redirect(f"{reverse('reception:desk')}?received={visit.pk}")
    elif (received := _int_or_none(request.GET.get("received"))) and received <= MAX_ID:
        # Only the desk, or whoever registered the visit, reads its outcome: visit ids are
        # sequential, and a salesperson must not read another's new customer this way.
        visits = Visit.objects.filter(pk=received, branch=branch)
        if not can_manage_desk(request.user, branch):
            visits = visits.filter(registered_by=request.user)
        result = visits.select_related("customer", "receiver", "assistant").first()
    context = {
        "state": desk_state(branch),
        "result": result,
        "errors": errors,
        "values": values,
        "salespeople": branch_salespeople(branch),
        "intentions": Visit.Intention.choices,
        "kinds": Visit.Kind.choices,
        "sources": Customer.Source.choices,
        "slot_states": DutySlot.State.choices,
        "can_manage": can_manage_desk(request.user, branch),
        "other_branch": bool(result and result.phone_elsewhere),
        "zone": time_zone_for_unit(branch),
        # What the receptionist picked in the lists, kept after a refused registration.
        "picked": {
            name: values.getlist(name) if hasattr(values, "getlist") else []
            for name in ("named", "prefers", "refuses", "assistant", "event_assignee")
        },
    }
    return render(request, "reception/desk.html", context)


@login_required
@require_GET
def lookup_view(request):
    """As the receptionist types the phone: is this a returning customer, and whose?

    Only for the desk's roles, and only customers the viewer may see (their branch's, for a
    receptionist): a phone number must not tell anyone else's customer name and owner.
    """
    branch = _branch(request)
    raw = request.GET.get("phone", "")
    customer, invalid = None, False
    if len(raw.strip()) >= 7:
        try:
            phone = normalize_phone(raw)
        except InvalidPhone:
            invalid = True
        else:
            match = (
                CustomerPhone.objects.select_related("customer__owner")
                .filter(customer_visibility_q(request.user, "customer__"), number=phone.e164)
                .first()
            )
            customer = match.customer if match else None
    visits = (
        customer.visits.select_related("receiver").order_by("-registered_at")[:5]
        if customer
        else []
    )
    return render(
        request,
        "reception/partials/lookup.html",
        {
            "customer": customer,
            "invalid": invalid,
            "visits": visits,
            "claim_valid": customer.claim_is_valid() if customer else False,
            # The protection ends at the end of a day in the branch's time zone: shown there.
            "zone": time_zone_for_unit(branch),
        },
    )


@login_required
@require_GET
def next_view(request):
    """Who is next (big screen); the partial refreshes itself every few seconds."""
    branch = _branch(request)
    template = (
        "reception/partials/next.html"
        if request.headers.get("HX-Request")
        else "reception/next.html"
    )
    return render(request, template, {"state": desk_state(branch)})


@login_required
@require_POST
def slot_state_view(request, pk: int):
    try:
        services.slot_set_state(actor=request.user, slot_id=pk, state=request.POST.get("state", ""))
    except SHOWN_ON_PAGE as exc:
        messages.error(request, exc.message)
    back = "reception:roster" if request.POST.get("back") == "roster" else "reception:desk"
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def roster_view(request):
    branch = _branch(request)
    if request.method == "POST":
        order = sorted(
            (
                (_int_or_none(request.POST.get(f"pos-{pk}")) or 0, pk)
                for pk in _ids(request.POST.getlist("on_duty"))
            ),
        )
        try:
            services.roster_set(actor=request.user, salesperson_ids=[pk for _, pk in order])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Today's queue is set."))
            return redirect("reception:desk")
    state = desk_state(branch)
    positions = {
        s.salesperson_id: s.position + 1 for s in state.slots if s.state != DutySlot.State.OFF
    }
    people = [(u, positions.get(u.pk)) for u in branch_salespeople(branch)]
    return render(request, "reception/roster.html", {"state": state, "people": people})


@login_required
def register_view(request):
    """来人来电登记表: the day's visits and calls."""
    branch = _branch(request)
    day = parse_date(request.GET.get("date", "")) or timezone.localdate()
    visits = list(visits_on(branch, day)[:500])
    for visit in visits:
        # Buttons other apps registered for an entry (service: "New ticket").
        visit.actions = visit_actions(visit=visit, viewer=request.user)
    return render(
        request,
        "reception/register.html",
        {
            "visits": visits,
            "day": day,
            "branch": branch,
        },
    )


@login_required
def disputes_view(request):
    if not reads_disputes(request.user):
        raise Http404
    state = request.GET.get("state", Dispute.State.OPEN)
    if state not in Dispute.State.values:
        state = Dispute.State.OPEN
    return render(
        request,
        "reception/disputes.html",
        {
            "disputes": disputes_for(request.user, state=state).prefetch_related("parties"),
            "state": state,
            "states": Dispute.State.choices,
        },
    )


def _field_errors(exc: DomainError) -> dict[str, str]:
    """A refusal as {field: message}, "general" for one that names no field."""
    errors: list = list(exc.errors) or [exc]
    return {(e.field or "general").split(".")[0]: str(e.message) for e in errors}


@login_required
@require_http_methods(["GET", "POST"])
def dispute_open_view(request, customer_id: int):
    """Open a dispute by hand from the customer page: what happened and who is involved."""
    customer = customer_get(viewer=request.user, pk=customer_id)

    if not can_open_dispute(request.user, customer):
        raise Http404
    branch = customer.org_unit.branch()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.dispute_open(
                actor=request.user,
                customer_id=customer.pk,
                description=request.POST.get("description", ""),
                party_ids=[
                    int(v) for v in request.POST.getlist("parties") if v.isdigit() and len(v) < 20
                ],
            )
        except DomainError as exc:
            errors = _field_errors(exc)
        else:
            messages.success(request, _("Dispute opened: the branch manager decides it."))
            return redirect(customer.get_absolute_url())
    return render(
        request,
        "reception/dispute_open.html",
        {
            "customer": customer,
            "people": branch_salespeople(branch),
            "errors": errors,
            "values": request.POST,
            "picked": request.POST.getlist("parties") if request.method == "POST" else [],
            "visits": customer_visits(customer, limit=10),
        },
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def dispute_decide_view(request, pk: int):
    dispute = (
        open_disputes(request.user).filter(pk=pk).first() if reads_disputes(request.user) else None
    )
    if dispute is None:
        raise Http404
    errors: dict[str, str] = {}
    if request.method == "POST":
        split = {}
        for key, value in request.POST.items():
            if key.startswith("pct-") and value.strip():
                split[key[4:]] = value.strip()
        try:
            services.dispute_decide(
                actor=request.user,
                dispute_id=pk,
                credit=request.POST.get("credit", ""),
                split=split,
                reason=request.POST.get("reason", ""),
                quarrel=bool(request.POST.get("quarrel")),
            )
        except DomainError as exc:
            errors = _field_errors(exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("reception:disputes")
    people = list(branch_salespeople(dispute.branch))
    current = current_credit_split(dispute.customer)
    if request.method == "POST":
        # What the manager typed stays, whatever was refused.
        percents = {key[4:]: value for key, value in request.POST.items() if key.startswith("pct-")}
        credit = request.POST.get("credit", "")
    else:
        percents, credit = {}, str(dispute.customer.credit_holder_id or "")
    # The split in force shows in each empty box as a hint (a placeholder, not a value: a
    # manager who moves the credit must not have to clear the old holder's share first).
    hints = {
        str(person or "department"): f"{percent.normalize():f}"
        for person, _unit, percent, _case in current
    }
    return render(
        request,
        "reception/dispute_decide.html",
        {
            "dispute": dispute,
            "people": [(p, percents.get(str(p.pk), ""), hints.get(str(p.pk), "0")) for p in people],
            "department_pct": percents.get("department", ""),
            "department_hint": hints.get("department", "0"),
            "credit": credit,
            "errors": errors,
            "error": errors.get("general"),
            "values": request.POST,
            "parties": list(dispute.parties.all()),
            "visits": customer_visits(dispute.customer),
            "current": credit_lines(dispute.customer),
            "zone": time_zone_for_unit(dispute.branch),
        },
        status=422 if errors else 200,
    )


def customer_panel(request, customer) -> str:
    """The customer page's ownership panel: owner, protection end, credit, open disputes,
    and the button to open one by hand."""
    from django.template.loader import render_to_string

    branch = customer.org_unit.branch() if customer.org_unit_id else None
    can_open = branch is not None and can_open_dispute(request.user, customer, branch)
    can_decide = branch is not None and can_manage_desk(request.user, branch)
    # The desk and the managers see the open disputes here; a salesperson sees the button.
    disputes = (
        list(Dispute.objects.filter(customer=customer, state=Dispute.State.OPEN).order_by("-id"))
        if can_decide
        else []
    )
    can_decide = can_decide and branch is not None and can_decide_dispute(request.user, branch.pk)
    shows_end = customer.protected_until is not None and not customer.ownership_settled_at
    return render_to_string(
        "reception/partials/customer_panel.html",
        {
            "customer": customer,
            "can_open": can_open,
            "can_decide": can_decide,
            "disputes": disputes,
            "credit": credit_lines(customer),
            "zone": time_zone_for_unit(branch) if shows_end and branch else None,
        },
        request=request,
    )


@login_required
@require_http_methods(["GET", "POST"])
def pool_view(request):
    if request.method == "POST":
        try:
            customer = services.pool_claim(
                actor=request.user, customer_id=_int_or_none(request.POST.get("customer")) or 0
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%s is now yours.") % customer.name)
            return redirect(customer)
    return render(
        request,
        "reception/pool.html",
        {"customers": pool_customers(request.user), "can_claim": can_claim_from_pool(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def redistribute_view(request):
    if not can_redistribute(request.user):
        raise Http404
    people = User.objects.filter(roles__role=Role.SALES).distinct().order_by("display_name")
    units = managed_units(request.user)
    if units is not None:
        people = people.filter(org_unit_id__in=units)
    if request.method == "POST":
        # First the plan ("674 customers move from 王强 to 3 people"), then, only when the
        # manager confirms it, the move: a cancelled confirmation changes nothing.
        args = {
            "actor": request.user,
            "from_user_id": _int_or_none(request.POST.get("from")) or 0,
            "to_user_ids": list(_ids(request.POST.getlist("to"))),
            "method": request.POST.get("method", "even"),
        }
        try:
            if request.POST.get("confirm") != "1":
                plan = services.redistribute_preview(**args)
                return render(
                    request,
                    "reception/redistribute_confirm.html",
                    {"plan": plan, "reason": request.POST.get("reason", "")[:500]},
                )
            counts = services.redistribute(**args, reason=request.POST.get("reason", "")[:500])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%d customers redistributed.") % sum(counts.values()))
            return redirect("reception:redistribute")
    return render(request, "reception/redistribute.html", {"people": people})


# Lazy: the labels are read per request, in that request's language.
STAT_GROUPS = {
    "day": gettext_lazy("Day"),
    "salesperson": gettext_lazy("Salesperson"),
    "source": gettext_lazy("Source"),
}


def _stat_params(request):
    today = timezone.localdate()
    period = request.GET.get("period", "day")
    start = {
        "day": today,
        "week": today - timedelta(days=today.weekday()),
        "month": today.replace(day=1),
    }.get(period, today)
    start = parse_date(request.GET.get("start", "")) or start
    end = parse_date(request.GET.get("end", "")) or today
    if end < start:
        raise ValidationFailed.single("end", "invalid_range", _("The end is before the start."))
    if (end - start).days > 400:
        raise ValidationFailed.single("end", "too_long", _("At most 400 days at a time."))
    group = request.GET.get("group", "salesperson")
    if group not in STAT_GROUPS:
        group = "salesperson"
    return period, start, end, group


@login_required
def stats_view(request):
    """来人来电统计表 and the weekly / monthly visitor, call and conversion analysis."""
    if not reads_statistics(request.user):
        raise Http404
    branch = _branch(request)
    try:
        period, start, end, group = _stat_params(request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reception:stats")
    rows = visit_statistics(branch, start, end, group)
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return _export(rows, group, export, f"visits-{start}-{end}")
    return render(
        request,
        "reception/stats.html",
        {
            "rows": rows,
            "period": period,
            "start": start,
            "end": end,
            "group": group,
            "groups": STAT_GROUPS,
            "group_label": STAT_GROUPS[group],
            "branch": branch,
            "chart": {
                "keys": [r.key for r in rows],
                "new": [r.visits_new for r in rows],
                "returning": [r.visits_returning for r in rows],
                "calls": [r.calls for r in rows],
            },
        },
    )


def _export(rows, group, fmt, name):
    header = [
        str(STAT_GROUPS[group]),
        _("New visitors"),
        _("Returning visitors"),
        _("Calls"),
        "A",
        "B",
        "C",
        _("Became customers"),
        _("Total"),
    ]
    data = [
        [
            r.key,
            r.visits_new,
            r.visits_returning,
            r.calls,
            r.intention_a,
            r.intention_b,
            r.intention_c,
            r.converted,
            r.total,
        ]
        for r in rows
    ]
    if fmt == "csv":

        class Echo:
            def write(self, value):
                return value

        writer = csv.writer(Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in [header, *data]),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Visits and calls"))
    sheet.append(header)
    for row in data:
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request):
    branch = _branch(request)
    if not can_change_settings(request.user, branch.pk):
        raise Http404
    config = services.settings_for(branch)
    fields = [f.name for f in ReceptionSettings._meta.fields if f.name not in ("id", "branch")]
    error = None
    if request.method == "POST":
        try:
            values = {}
            for name in fields:
                raw = request.POST.get(name, "").strip()
                if not raw:
                    raise ValidationFailed.single(name, "required", _("Every value is needed."))
                values[name] = raw
            services.settings_update(actor=request.user, branch_id=branch.pk, values=values)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("Settings saved."))
            return redirect(reverse("reception:settings"))
    rows = [
        (
            name,
            ReceptionSettings._meta.get_field(name).verbose_name,
            request.POST.get(name) if error else getattr(config, name),
        )
        for name in fields
    ]
    return render(
        request, "reception/settings.html", {"rows": rows, "error": error, "branch": branch}
    )
