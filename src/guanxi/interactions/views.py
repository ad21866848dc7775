"""My day, logging touches, plans, the team view, cadence settings and the calendar feed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.errors import SHOWN_ON_PAGE, DomainError, Forbidden
from guanxi.core.visibility import can_edit
from guanxi.core.web import attach_errors, safe_next
from guanxi.customers.selectors import customer_get

from . import services
from .cadence import default_step, load_rules, saved_step
from .calendar import build_feed
from .forms import InteractionForm
from .models import CadenceRule, CalendarFeed, Plan, Promise
from .my_day_sections import my_day_sections_for
from .permissions import can_see_team
from .selectors import calendar_user, my_day, team_overview, weekly_plan_date
from .windows import slot_quality, suggest_slots, windows_for


def _customer_or_404(request, pk: int):
    return customer_get(viewer=request.user, pk=pk)


def _pk_urls(name: str):
    """reverse() once for a URL that takes one pk, then fill in each pk: a page of rows
    otherwise spends more time reversing its links (~50 µs each) than reading its data."""
    marker = "2147483647"
    pattern = reverse(name, args=[int(marker)])
    return lambda pk: pattern.replace(marker, str(pk), 1)


@login_required
def my_day_view(request):
    day = my_day(user=request.user)
    detail, log, done = (
        _pk_urls(n) for n in ("customers:detail", "interaction_log", "promise_done")
    )
    for c in day.overdue + day.due_today:
        c.detail_url, c.log_url = detail(c.pk), log(c.pk)
    for p in day.promises:
        p.customer.detail_url, p.done_url = detail(p.customer_id), done(p.pk)
    return render(
        request,
        "interactions/my_day.html",
        {
            "day": day,
            "plan_kinds": Plan.Kind,
            "weekly_for": weekly_plan_date(day.day),
            "sections": my_day_sections_for(request.user),
        },
    )


@login_required
@require_POST
def greeting_send_view(request, pk: int):
    """The "send greeting" button of an occasion in my day: through the contact policy."""
    try:
        outcome = services.greeting_send(
            actor=request.user,
            customer_id=pk,
            occasion=request.POST.get("occasion", ""),
            channel=request.POST.get("channel", ""),
        )
    except SHOWN_ON_PAGE as exc:
        messages.error(request, exc.message)
    else:
        channel = {"sms": _("SMS"), "wechat": _("WeChat"), "email": _("E-mail")}[outcome.channel]
        if outcome.sent:
            messages.success(request, _("Greeting sent by %s.") % channel)
        else:
            messages.warning(
                request,
                _("Greeting by %(channel)s held back: %(reason)s")
                % {"channel": channel, "reason": outcome.reason_label},
            )
    return redirect(safe_next(request, reverse("my_day")))


@login_required
@require_http_methods(["GET", "POST"])
def log_view(request, pk: int):
    """The quick logging form (an htmx fragment on the customer page and in "my day")."""
    customer = _customer_or_404(request, pk)
    may_judge = can_edit(request.user, customer)
    form = InteractionForm(
        request.POST or None,
        initial={"relationship": customer.relationship},
        can_set_relationship=may_judge,
    )
    logged = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.interaction_log(
                actor=request.user,
                customer_id=pk,
                kind=data["kind"],
                summary=data["summary"],
                occurred_at=data.get("occurred_at"),
                outcome=data.get("outcome", ""),
                next_step=data.get("next_step", ""),
                promises=form.promises(),
                next_follow_up_at=data.get("next_follow_up_at"),
                relationship=data.get("relationship") if may_judge else None,
            )
        except DomainError as exc:
            attach_errors(form, exc, {"promises": "promise_0"})
        else:
            logged = True
            customer = _customer_or_404(request, pk)
            form = InteractionForm(
                initial={"relationship": customer.relationship}, can_set_relationship=may_judge
            )
    windows = windows_for(customer)
    context = {
        "customer": customer,
        "form": form,
        "logged": logged,
        "windows": windows,
        "slots": suggest_slots(customer, windows=windows),
        "return_to": request.POST.get("return_to") or request.GET.get("return_to", ""),
    }
    response = render(request, "interactions/partials/log_form.html", context)
    if logged:
        response["HX-Trigger"] = "interaction-logged"
    return response


@login_required
@require_GET
def slot_check_view(request, pk: int):
    """Warn while typing a follow-up time that falls in a poor hour for this customer."""
    customer = _customer_or_404(request, pk)
    raw = request.GET.get("next_follow_up_at", "")
    at = parse_datetime(raw) if raw else None
    if at is None:
        return HttpResponse("")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    quality = slot_quality(customer, at)
    return render(request, "interactions/partials/slot_quality.html", {"quality": quality})


@login_required
@require_POST
def promise_done_view(request, pk: int):
    try:
        promise = services.promise_complete(actor=request.user, promise_id=pk)
    except Forbidden as exc:
        # The customer is visible (else NotFound): say why, back where the click came from.
        messages.error(request, exc.message)
        customer_id = Promise.objects.filter(pk=pk).values_list("customer_id", flat=True).get()
        return redirect(safe_next(request, reverse("customers:detail", args=[customer_id])))
    messages.success(request, _("Promise marked as kept."))
    return redirect(safe_next(request, reverse("customers:detail", args=[promise.customer_id])))


@login_required
@require_POST
def plan_save_view(request):
    kind = request.POST.get("kind", "")
    today = timezone.localdate()
    day = weekly_plan_date(today) if kind == Plan.Kind.WEEKLY else today
    try:
        services.plan_save(
            actor=request.user, kind=kind, day=day, text=request.POST.get("text", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved."))
    return redirect("my_day")


@login_required
def team_view(request):
    if not can_see_team(request.user):
        raise Http404
    return render(
        request,
        "interactions/team.html",
        {
            "rows": team_overview(manager=request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cadence_settings_view(request):
    if not request.user.is_admin:
        raise Http404

    if request.method == "POST":
        errors = []
        for code, label in CadenceRule.Code.choices:
            days = request.POST.get(f"{code}-days", "").strip()
            deliveries = request.POST.get(f"{code}-deliveries", "").strip()
            if not all(v == "" or v.isdigit() for v in (days, deliveries)):
                errors.append(f"{label}: " + _("days must be whole numbers."))
                continue
            try:
                services.cadence_rule_update(
                    actor=request.user,
                    code=code,
                    days=int(days) if days else None,
                    deliveries=int(deliveries) if deliveries else None,
                    next_step=request.POST.get(f"{code}-next_step", ""),
                )
            except DomainError as exc:
                errors.append(f"{label}: {exc.message}")
        for error in errors:
            messages.error(request, error)
        if not errors:
            messages.success(request, _("Cadence rules saved."))
            return redirect("cadence_settings")
    rules = load_rules()
    saved = dict(CadenceRule.objects.values_list("code", "next_step"))
    rows = [
        # The built-in next step is a translated placeholder, never a pre-filled value:
        # saving the page unchanged must not store it (in English) for everyone.
        (code, label, rules[code], saved_step(code, saved.get(code, "")), default_step(code))
        for code, label in CadenceRule.Code.choices
    ]
    return render(request, "interactions/cadence.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings_view(request):
    new_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(actor=request.user)
            messages.success(request, _("Calendar link revoked."))
        else:
            token = services.calendar_feed_rotate(actor=request.user)
            new_url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    return render(
        request,
        "interactions/calendar.html",
        {
            "new_url": new_url,
            "has_feed": CalendarFeed.objects.filter(user=request.user).exists(),
        },
    )


@require_GET
def calendar_feed_view(request, token: str):
    """Public by secret URL (phone calendars cannot log in); a revoked token is a 404."""
    user = calendar_user(token)
    if user is None:
        raise Http404
    base = request.build_absolute_uri("/").rstrip("/")
    response = HttpResponse(
        build_feed(user=user, base_url=base), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=300"
    return response
