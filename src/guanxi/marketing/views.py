"""Marketing pages (segments, templates, campaigns, consent, lead forms) and the public
endpoints behind links in messages (unsubscribe, open pixel, click redirect, SMS replies)."""

import base64
import contextlib
import csv
import hashlib
import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.captcha import captcha_challenge, captcha_verify
from guanxi.core.errors import SHOWN_ON_PAGE, DomainError, NotFound
from guanxi.core.models import Role, User
from guanxi.core.visibility import customer_visibility_q, mask_phone
from guanxi.customers.models import Customer

from . import birthdays, policy, segments, services, templating, tokens
from .leads import lead_submit
from .models import (
    BirthdayGreeting,
    BirthdayGreetingSettings,
    Campaign,
    Channel,
    ConsentEvidence,
    ContactAttempt,
    LeadForm,
    MessageTemplate,
    Purpose,
    Recipient,
    Segment,
    SkipReason,
)
from .permissions import can_grant_export, can_market, desk_units, unit_scope_q
from .templating import PLACEHOLDERS

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _marketer(request):
    if not can_market(request.user):
        raise Http404
    return request.user


# ---- public ----------------------------------------------------------------------------------


@csrf_exempt  # the signed token is the credential; RFC 8058 one-click POSTs carry no cookie
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request, token):
    """GET shows what would stop and a button; only the POST changes anything, so a mail
    scanner that follows links unsubscribes nobody."""
    try:
        data = tokens.read_unsubscribe(token)
    except tokens.BadToken as exc:
        return render(request, "marketing/unsubscribe.html", {"bad": str(exc)}, status=400)
    context = {
        "token": token,
        "channel": Channel(data["ch"]).label,
        "purpose": Purpose(data["p"]).label,
    }
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        services.unsubscribe(
            token=token, all_channels=request.POST.get("all") == "1", one_click=one_click
        )
        context["done"] = True
        context["all"] = request.POST.get("all") == "1"
    return render(request, "marketing/unsubscribe.html", context)


@require_GET
def open_view(request, token):
    with contextlib.suppress(tokens.BadToken):  # a pixel never fails visibly
        services.track_open(token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def click_view(request, token):
    """Redirect only to the address signed into the link: never an open redirect."""
    try:
        url = services.track_click(token=token)
    except tokens.BadToken:
        return render(request, "marketing/bad_link.html", status=400)
    return HttpResponseRedirect(url)


@csrf_exempt  # called by the SMS provider, authenticated by the HMAC of the body
@require_POST
def sms_inbound_view(request):
    secret = getattr(settings, "GUANXI_SMS_INBOUND_SECRET", "")
    given = request.headers.get("X-Guanxi-Signature", "")
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest() if secret else ""
    if not secret or not hmac.compare_digest(given.encode(errors="replace"), expected.encode()):
        return JsonResponse(
            {"code": "forbidden", "message": "bad signature", "field": None}, status=403
        )
    try:
        data = json.loads(request.body or b"{}")
        sender, text = str(data["from"]), str(data["text"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse(
            {"code": "invalid", "message": "from and text required", "field": None}, status=400
        )
    return JsonResponse({"result": services.sms_inbound(sender=sender, text=text)})


BOUNCE_MAX_BYTES = 1024 * 1024  # a DSN with the returned headers is a few kilobytes


@csrf_exempt  # called by the mail server's bounce pipe, authenticated by the HMAC of the body
@require_POST
def bounce_inbound_view(request):
    """One DSN (the raw message, RFC 3464) per POST, signed like the SMS callback."""
    secret = getattr(settings, "GUANXI_BOUNCE_INBOUND_SECRET", "")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > BOUNCE_MAX_BYTES:  # refused before the body is read
        return JsonResponse(
            {"code": "too_large", "message": "report over 1 MB", "field": "body"}, status=413
        )
    given = request.headers.get("X-Guanxi-Signature", "")
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest() if secret else ""
    if not secret or not hmac.compare_digest(given.encode(errors="replace"), expected.encode()):
        return JsonResponse(
            {"code": "forbidden", "message": "bad signature", "field": None}, status=403
        )
    result = services.bounce_process(raw=request.body)
    if result["result"] == "not_a_dsn":
        return JsonResponse(
            {"code": "not_a_dsn", "message": "no delivery status report", "field": None},
            status=400,
        )
    return JsonResponse(result)


LEAD_RATE = 5  # submissions per address per 10 minutes
LEAD_WINDOW = 600


def _rate_limited(request, form_key) -> bool:
    ip = request.META.get("REMOTE_ADDR", "")
    key = f"leadrate:{form_key}:{ip}"
    cache.add(key, 0, timeout=LEAD_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return count > getattr(settings, "GUANXI_LEAD_RATE", LEAD_RATE)


@csrf_exempt  # an embeddable form on other sites: the captcha and honeypot guard it
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def lead_form_view(request, key):
    form = LeadForm.objects.filter(key=key, active=True).first()
    if form is None:
        raise Http404
    context = {"form": form, "values": {}, "errors": {}}
    status = 200
    if request.method == "POST":
        values = request.POST
        context["values"] = values
        if _rate_limited(request, key):
            context["errors"] = {
                "form": _("Too many submissions. Please try again in a few minutes.")
            }
            status = 429
        elif values.get("website"):  # the honeypot: people never see this field
            context["done"] = True
            return render(request, "marketing/lead_form.html", context)
        elif not captcha_verify(values.get("altcha", "")):
            context["errors"] = {"form": _("The anti-spam check failed. Please try again.")}
            status = 400
        else:
            try:
                lead_submit(
                    form_key=key,
                    name=values.get("name", ""),
                    phone=values.get("phone", ""),
                    email=values.get("email", ""),
                    message=values.get("message", ""),
                    consent=values.get("consent") == "1",
                    remote_addr=request.META.get("REMOTE_ADDR"),
                )
            except DomainError as exc:
                context["errors"] = {e.field: e.message for e in exc.errors} or {
                    "form": exc.message
                }
                status = 400
            else:
                context["done"] = True
    context["challenge"] = json.dumps(captcha_challenge())
    return render(request, "marketing/lead_form.html", context, status=status)


# ---- marketer pages --------------------------------------------------------------------------


@login_required
def home_view(request):
    user = _marketer(request)
    return render(
        request,
        "marketing/home.html",
        {
            "segments": Segment.objects.filter(unit_scope_q(user)).select_related("org_unit")[:100],
            "campaigns": Campaign.objects.filter(unit_scope_q(user)).select_related(
                "segment", "template"
            )[:50],
            "templates": MessageTemplate.objects.all()[:100],
            "forms": LeadForm.objects.filter(unit_scope_q(user, "branch_id"))[:50],
        },
    )


def _rules_from(post) -> dict:
    rules = []
    for i in range(8):
        name = post.get(f"rule-{i}-field", "")
        if name:
            rules.append(
                {
                    "field": name,
                    "op": post.get(f"rule-{i}-op", ""),
                    "value": post.get(f"rule-{i}-value", "").strip(),
                }
            )
    return {"all": rules}


def _rule_rows(rules: dict) -> list[dict]:
    items = list(rules.get("all", []))
    return items + [{"field": "", "op": "", "value": ""}] * max(0, 5 - len(items))


def _builder_context(user, segment=None, rules=None, error=None):
    rules = rules if rules is not None else (segment.rules if segment else {"all": []})
    return {
        "segment": segment,
        "name": segment.name if segment else "",
        "rules": _rule_rows(rules),
        "fields": segments.segment_fields(),
        "ops": segments.OP_LABELS,
        "error": error,
    }


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit_view(request, pk=None):
    user = _marketer(request)
    segment = None
    if pk is not None:
        segment = services.segment_get(viewer=user, pk=pk)

    context = _builder_context(user, segment)
    if request.method == "POST":
        rules = _rules_from(request.POST)
        try:
            segment = services.segment_save(
                actor=user,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", Segment.Kind.DYNAMIC)
                if segment is None
                else segment.kind,
                rules=rules,
                segment_id=segment.pk if segment else None,
            )
        except DomainError as exc:
            context = _builder_context(user, segment, rules, exc)
            context["name"] = request.POST.get("name", "")
            return render(request, "marketing/segment_edit.html", context, status=400)
        messages.success(
            request, _("Segment saved: %(n)s customers.") % {"n": f"{segment.member_count:,}"}
        )
        return redirect("marketing:segment", pk=segment.pk)
    if segment is not None:
        context["members"] = _masked(
            Customer.objects.filter(pk__in=segment.members.values("customer_id")).order_by("-id")[
                :20
            ]
        )
    return render(request, "marketing/segment_edit.html", context)


def _masked(customers):
    rows = list(customers)
    for c in rows:
        c.phone_masked = mask_phone(c.primary_phone) if c.primary_phone else ""
    return rows


@login_required
@require_POST
def segment_preview_view(request):
    """The live count while the marketer edits the rules (htmx)."""
    user = _marketer(request)
    try:
        result = services.segment_preview(viewer=user, rules=_rules_from(request.POST))
    except DomainError as exc:
        return render(request, "marketing/partials/segment_preview.html", {"error": exc})
    return render(
        request,
        "marketing/partials/segment_preview.html",
        {"count": result["count"], "rows": _masked(result["rows"])},
    )


@login_required
@require_POST
def segment_rebuild_view(request, pk):
    user = _marketer(request)
    segment = services.segment_get(viewer=user, pk=pk)

    segment = segments.segment_rebuild(segment_id=segment.pk)
    messages.success(
        request,
        _("Rebuilt in %(s)s s: %(n)s customers.")
        % {"s": segment.rebuild_seconds, "n": f"{segment.member_count:,}"},
    )
    return redirect("marketing:segment", pk=pk)


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def segment_export_view(request, pk):
    user = _marketer(request)
    sensitive = request.GET.get("sensitive") == "1"
    try:
        rows = services.segment_export_rows(actor=user, segment_id=pk, sensitive=sensitive)
        first = next(rows)
    except SHOWN_ON_PAGE as exc:
        messages.error(request, exc.message)
        return redirect("marketing:segment", pk=pk)
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff" + writer.writerow(first)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{pk}.csv"'
    return response


@login_required
@require_POST
def segment_grant_view(request, pk):
    if not can_grant_export(request.user):
        raise Http404
    grantee = User.objects.filter(pk=request.POST.get("grantee") or 0, is_active=True).first()
    try:
        if grantee is None:
            raise NotFound(_("Choose the marketer."))
        services.export_grant(
            actor=request.user,
            segment_id=pk,
            grantee=grantee,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Export granted to %s for 7 days.") % grantee)
    return redirect("marketing:segment", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit_view(request, pk=None):
    user = _marketer(request)
    template = MessageTemplate.objects.filter(pk=pk).first() if pk else None
    if pk and template is None:
        raise Http404
    context = {
        "template": template,
        "values": template.__dict__ if template else {"channel": "email"},
        "placeholders": PLACEHOLDERS,
        "channels": Channel.choices,
    }
    if request.method == "POST":
        try:
            template = services.template_save(actor=user, data=request.POST.dict(), template_id=pk)
        except DomainError as exc:
            context.update(values=request.POST, error=exc)
            return render(request, "marketing/template_edit.html", context, status=400)
        messages.success(request, _("Template saved."))
        return redirect("marketing:home")
    return render(request, "marketing/template_edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new_view(request):
    user = _marketer(request)
    context = {
        "segments": Segment.objects.filter(unit_scope_q(user)),
        "templates": MessageTemplate.objects.all(),
        "purposes": Purpose.choices,
        "values": {"attribution_days": 30, "cost_per_message": "0.00", "fixed_cost": "0.00"},
    }
    if request.method == "POST":
        p = request.POST
        try:
            campaign = services.campaign_create(
                actor=user,
                name=p.get("name", ""),
                template_id=int(p.get("template") or 0),
                segment_id=int(p.get("segment") or 0),
                purpose=p.get("purpose", Purpose.MARKETING),
                material=p.get("material", ""),
                cost_per_message=p.get("cost_per_message", "0"),
                fixed_cost=p.get("fixed_cost", "0"),
                attribution_days=int(p.get("attribution_days") or 0)
                if str(p.get("attribution_days", "")).isdigit()
                else 0,
            )
        except DomainError as exc:
            context.update(values=p, error=exc)
            return render(request, "marketing/campaign_new.html", context, status=400)
        return redirect("marketing:campaign", pk=campaign.pk)
    return render(request, "marketing/campaign_new.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_view(request, pk):
    user = _marketer(request)
    campaign = services.campaign_get(viewer=user, pk=pk)

    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "test":
                services.campaign_test_send(
                    actor=user, campaign_id=pk, to=request.POST.get("to", "").strip()
                )
                messages.success(request, _("Test e-mail sent."))
            elif action == "schedule":
                at = parse_datetime(request.POST.get("at", "")) if request.POST.get("at") else None
                services.campaign_schedule(actor=user, campaign_id=pk, at=at)
                messages.success(request, _("Scheduled: the worker sends it in throttled batches."))
            elif action == "cancel":
                services.campaign_cancel(actor=user, campaign_id=pk)
                messages.success(request, _("Campaign cancelled."))
            elif action == "attribute":
                services.attribute_conversions(campaign_id=pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("marketing:campaign", pk=pk)
    figures = services.campaign_figures(campaign)
    skips = [
        (SkipReason(code).label, n)
        for code, n in sorted(figures["skips"].items(), key=lambda kv: -kv[1])
    ]
    held = (
        Recipient.objects.filter(campaign=campaign)
        .exclude(reason="")
        .exclude(status=Recipient.Status.SENT)
        .select_related("customer")
        .order_by("id")[:50]
    )
    return render(
        request,
        "marketing/campaign.html",
        {
            "campaign": campaign,
            "f": figures,
            "skips": skips,
            "held": held,
            "unconfirmed": Recipient.objects.filter(
                campaign=campaign, status=Recipient.Status.UNCONFIRMED
            ).select_related("customer")[:50],
        },
    )


@login_required
@require_GET
def letters_view(request, pk):
    """Post campaigns: one printable letter per page, then address labels."""

    user = _marketer(request)
    campaign = services.campaign_get(viewer=user, pk=pk)

    if campaign.channel != Channel.POST:
        raise Http404
    rows = (
        Recipient.objects.filter(campaign=campaign, status=Recipient.Status.SENT)
        .select_related("customer", "customer__owner")
        .order_by("id")[:5000]
    )
    letters = []
    for r in rows:
        owner = r.customer.owner
        context = templating.context_for(r.customer, str(owner) if owner else "")
        letters.append(
            {"customer": r.customer, "text": templating.render(campaign.template.body_zh, context)}
        )
    return render(request, "marketing/letters.html", {"campaign": campaign, "letters": letters})


@login_required
@require_http_methods(["GET", "POST"])
def calls_view(request):
    """A salesperson's campaign calls (phone campaigns spread them over the team)."""
    if request.method == "POST":
        try:
            services.call_done(
                actor=request.user,
                recipient_id=int(request.POST.get("recipient") or 0),
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("marketing:calls")
    calls = (
        Recipient.objects.filter(assignee=request.user, status=Recipient.Status.SENT)
        .filter(customer__in=Customer.objects.filter(customer_visibility_q(request.user)))
        .select_related("customer", "campaign", "campaign__template")
        .order_by("responded_at", "id")[:200]
    )
    return render(request, "marketing/calls.html", {"calls": calls})


@login_required
@require_http_methods(["GET", "POST"])
def consent_view(request, customer_pk):
    """A customer's consent per channel and purpose, its evidence, and a form to record one."""
    customer = Customer.objects.filter(customer_visibility_q(request.user), pk=customer_pk).first()
    if customer is None:
        raise Http404
    if request.method == "POST":
        try:
            services.consent_record(
                actor=request.user,
                customer_id=customer.pk,
                channels=request.POST.getlist("channels"),
                purpose=request.POST.get("purpose", ""),
                granted=request.POST.get("granted") == "1",
                method=request.POST.get("method", ""),
                text_version=request.POST.get("text_version", ""),
                evidence=request.POST.get("evidence", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Consent recorded."))
        return redirect("marketing:consent", customer_pk=customer.pk)

    matrix = []
    for purpose, purpose_label in Purpose.choices:
        verdicts = []
        for channel, channel_label in Channel.choices:
            verdict = policy.evaluate([customer], channel=channel, purpose=purpose)[customer.pk]
            verdicts.append(
                (
                    channel_label,
                    verdict.allowed or verdict.reason == SkipReason.QUIET_HOURS,
                    SkipReason(verdict.reason).label if verdict.reason else "",
                )
            )
        matrix.append((purpose_label, verdicts))
    return render(
        request,
        "marketing/consent.html",
        {
            "customer": customer,
            "matrix": matrix,
            "evidence": ConsentEvidence.objects.filter(customer=customer).select_related(
                "recorded_by"
            )[:200],
            "attempts": ContactAttempt.objects.filter(customer_id=customer.pk)
            .select_related("campaign")
            .order_by("-at")[:50],
            "channels": Channel.choices,
            "purposes": Purpose.choices,
            "methods": ConsentEvidence.Method.choices,
        },
    )


@login_required
@require_GET
def consent_export_view(request, customer_pk):
    rows = services.consent_export_rows(viewer=request.user, customer_id=customer_pk)

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-{customer_pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(services.CONSENT_EXPORT_HEADER)
    writer.writerows(rows)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def lead_forms_view(request):
    user = _marketer(request)
    if request.method == "POST":
        try:
            services.lead_form_create(
                actor=user,
                name=request.POST.get("name", ""),
                key=request.POST.get("key", ""),
                intake_user_id=int(request.POST.get("intake_user") or 0),
                response_hours=int(request.POST.get("response_hours") or 4)
                if str(request.POST.get("response_hours", "4")).isdigit()
                else 0,
                consent_text=request.POST.get("consent_text", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("marketing:forms")
    forms = LeadForm.objects.filter(unit_scope_q(user, "branch_id")).select_related(
        "intake_user", "branch"
    )
    desk = User.objects.filter(is_active=True, roles__role=Role.RECEPTIONIST)
    units = desk_units(user)
    if units is not None:
        desk = desk.filter(org_unit_id__in=sorted(units))
    return render(
        request,
        "marketing/forms.html",
        {
            "forms": [
                (f, tokens.public_url(reverse("marketing:lead_form", args=[f.key]))) for f in forms
            ],
            "desk": desk,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def birthday_settings_view(request):
    """Administrators: the automatic birthday greeting on or off, its channel and template."""

    if not request.user.is_admin:
        raise Http404
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw_template = request.POST.get("template", "")
        try:
            birthdays.birthday_settings_save(
                actor=request.user,
                enabled=request.POST.get("enabled") == "1",
                channel=request.POST.get("channel", "")[:10],
                template_id=int(raw_template) if raw_template.isdigit() else None,
            )
        except DomainError as exc:
            errors = {e.field: e.message for e in getattr(exc, "errors", [])} or {"": exc.message}
        else:
            messages.success(request, _("Birthday greeting settings saved."))
            return redirect("marketing:birthdays")
    config = birthdays.birthday_settings()
    year = timezone.localdate().year
    counts = dict(
        BirthdayGreeting.objects.filter(year=year)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return render(
        request,
        "marketing/birthdays.html",
        {
            "config": config,
            "channels": BirthdayGreetingSettings.ChannelChoice.choices,
            "templates": MessageTemplate.objects.filter(channel__in=birthdays.CHANNELS),
            "errors": errors,
            "year": year,
            "counts": [
                (label, counts.get(value, 0)) for value, label in BirthdayGreeting.Status.choices
            ],
        },
        status=400 if errors else 200,
    )
