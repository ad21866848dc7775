"""Webhook administration: register URLs, read the delivery log, replay. Admins only."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from .errors import DomainError
from .models import Webhook, WebhookDelivery
from .web import attach_errors
from .webhooks import (
    EVENTS,
    delivery_error_text,
    event_label,
    webhook_create,
    webhook_replay,
    webhook_set_active,
)

LOG_SIZE = 50


class WebhookForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=500,
        widget=forms.URLInput(attrs={"class": "form-control", "placeholder": "https://"}),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=list(EVENTS.items()),
        widget=forms.CheckboxSelectMultiple,
    )


def _require_admin(request) -> None:
    if not request.user.is_admin:
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    _require_admin(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("Webhook registered."))
            return redirect("webhook_list")
    deliveries = WebhookDelivery.objects.select_related("webhook")
    status = request.GET.get("status", "")
    if status in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    hook = request.GET.get("webhook", "")
    if hook.isdigit():
        deliveries = deliveries.filter(webhook_id=int(hook))
    hooks = list(Webhook.objects.all())
    for h in hooks:
        h.event_labels = [event_label(e) for e in h.events]
    log = list(deliveries.order_by("-id")[:LOG_SIZE])
    for d in log:
        d.event_label = event_label(d.event)
        d.error_text = delivery_error_text(d.last_error, d.response_code)
    return render(
        request,
        "core/webhooks.html",
        {
            "form": form,
            "webhooks": hooks,
            "deliveries": log,
            "statuses": WebhookDelivery.Status.choices,
            "status": status,
            "event_labels": EVENTS,
        },
    )


@login_required
@require_POST
def webhook_toggle(request, pk: int):
    _require_admin(request)
    try:
        webhook_set_active(
            actor=request.user, webhook_id=pk, active=request.POST.get("active") == "1"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("webhook_list")


@login_required
@require_POST
def webhook_replay_view(request, pk: int):
    _require_admin(request)
    try:
        webhook_replay(actor=request.user, delivery_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Delivery queued again."))
    return redirect("webhook_list")
