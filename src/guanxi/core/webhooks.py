"""Signed webhooks (C8): events, the outbox, delivery with retries, replay.

A service calls `webhook_emit(event, payload)` inside its transaction. One delivery row per
subscribed webhook is written in that transaction (the outbox: a crash after commit loses
nothing) and the delivery job is enqueued when it commits. The worker POSTs

    body = {"id": <event uuid>, "event": "customer.created", "created_at": ..., "data": {...}}

with the headers

    X-Guanxi-Event: customer.created
    X-Guanxi-Delivery: <delivery id>
    X-Guanxi-Timestamp: <unix seconds>
    X-Guanxi-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>

A 2xx answer is success. Anything else is retried after settings.GUANXI_WEBHOOK_BACKOFF
(1 min, 5 min, 30 min, 2 h, 12 h); after the last retry the delivery is marked failed. Any
delivery can be replayed from the log. Receivers verify with `webhook_verify`.
"""

import hmac
import json
import time
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import audit_record
from .errors import FieldError, Forbidden, NotFound, ValidationFailed
from .events import event_dispatch
from .models import User, Webhook, WebhookDelivery
from .tasks import deliver_webhooks
from .webhook_delivery import sign

# The event catalogue: core's own events here; every other app declares its events with
# register_webhook_event() in its AppConfig.ready(), so a new app never edits this module.
EVENTS: dict[str, str | Promise] = {
    "customer.created": gettext_lazy("Customer created"),
    "customer.updated": gettext_lazy("Customer updated"),
    "customer.merged": gettext_lazy("Customers merged"),
    "import.completed": gettext_lazy("Import completed"),
}


def register_webhook_event(name: str, label: str | Promise) -> None:
    """Declare an event receivers can subscribe to; call from the emitting app's ready()."""
    EVENTS[name] = label


def event_label(name: str) -> str:
    """The event in the reader's language; an event no app declares any more reads as words."""
    label = EVENTS.get(name)
    return str(label) if label is not None else name.replace(".", " ").replace("_", " ")


# What a failed delivery's stored error (the httpx exception's class) means, for the log.
_ERRORS: dict[str, str | Promise] = {
    "ConnectError": gettext_lazy("Could not connect to the receiver (refused or unreachable)."),
    "ConnectTimeout": gettext_lazy("The receiver did not accept the connection in time."),
    "ReadTimeout": gettext_lazy("The receiver did not answer in time."),
    "WriteTimeout": gettext_lazy("The request could not be sent in time."),
    "PoolTimeout": gettext_lazy("The request could not be sent in time."),
    "TimeoutException": gettext_lazy("The receiver did not answer in time."),
    "RemoteProtocolError": gettext_lazy("The receiver closed the connection unexpectedly."),
    "UnsupportedProtocol": gettext_lazy("The URL is not an http(s) address."),
    "TooManyRedirects": gettext_lazy("The receiver redirected too often."),
}


def delivery_error_text(error: str, response_code: int | None = None) -> str:
    """A delivery's failure in the reader's language ("ConnectError: [Errno 111] …" →
    "Could not connect to the receiver …"); the technical detail stays in the database."""
    if not error:
        return ""
    if error.startswith("HTTP ") and response_code:
        return _("The receiver answered with HTTP status %(code)s.") % {"code": response_code}
    name = error.split(":", 1)[0].strip()
    if name in _ERRORS:
        return str(_ERRORS[name])
    return _("The delivery failed (%(reason)s).") % {"reason": name or error[:60]}


SIGNATURE_TOLERANCE = 300  # seconds a receiver accepts between the timestamp and its clock


def webhook_verify(
    *, secret: str, body: bytes, timestamp: str, signature: str, now: float | None = None
) -> bool:
    """What a receiver does: recompute the signature, compare in constant time, and refuse
    stale timestamps (a replayed capture)."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    if age > SIGNATURE_TOLERANCE:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def webhook_emit(event: str, payload: dict) -> int:
    """Queue `event` for every active webhook subscribed to it; returns how many.

    Call inside the transaction of the change: the rows commit (or roll back) with it.
    The in-process listeners of the event (core.events) run first, in the same transaction.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    event_dispatch(event, payload)
    hooks = [
        h for h in Webhook.objects.filter(active=True).only("id", "events") if event in h.events
    ]
    if not hooks:
        return 0
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook=hook, event=event, event_id=event_id, payload=payload, next_attempt_at=now
        )
        for hook in hooks
    )
    transaction.on_commit(_enqueue_delivery)
    return len(hooks)


def webhook_emit_many(event: str, payloads: list[dict]) -> int:
    """`webhook_emit` for many events of one kind at once (a scan's batch): each payload is
    its own event (its own id) for every subscribed webhook, written in one insert; the
    in-process listeners run once per payload. Returns the delivery rows written."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}")
    for payload in payloads:
        event_dispatch(event, payload)
    hooks = [
        h for h in Webhook.objects.filter(active=True).only("id", "events") if event in h.events
    ]
    if not hooks or not payloads:
        return 0
    now = timezone.now()
    rows = []
    for payload in payloads:
        event_id = uuid.uuid4()
        data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
        rows += [
            WebhookDelivery(
                webhook=hook, event=event, event_id=event_id, payload=data, next_attempt_at=now
            )
            for hook in hooks
        ]
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    transaction.on_commit(_enqueue_delivery)
    return len(rows)


def _enqueue_delivery() -> None:
    deliver_webhooks.enqueue()


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Only an administrator may manage webhooks."))


def _check(name: str, url: str, events: list[str]) -> list[str]:
    errors = []
    if not name.strip():
        errors.append(("name", "required", _("Give the webhook a name.")))
    if not url.lower().startswith(("http://", "https://")):
        errors.append(("url", "invalid_url", _("The URL must start with http:// or https://.")))
    events = sorted(set(events))
    if not events:
        errors.append(("events", "required", _("Choose at least one event.")))
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        errors.append(("events", "invalid_choice", _("Unknown event: %s") % unknown[0]))
    if errors:
        raise ValidationFailed([FieldError(*e) for e in errors])
    return events


def webhook_create(*, actor: User, name: str, url: str, events: list[str]) -> Webhook:
    _require_admin(actor)
    events = _check(name, url, events)
    with transaction.atomic():
        hook = Webhook.objects.create(
            name=name.strip()[:100], url=url.strip(), events=events, created_by=actor
        )
        audit_record(
            actor=actor,
            verb="webhook.create",
            target=hook,
            changes={"url": [None, hook.url], "events": [None, events]},
        )
    return hook


def webhook_set_active(*, actor: User, webhook_id: int, active: bool) -> Webhook:
    _require_admin(actor)
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
        if hook is None:
            raise NotFound(_("Webhook not found."))
        if hook.active != active:
            hook.active = active
            hook.save(update_fields=["active"])
            audit_record(
                actor=actor,
                verb="webhook.activate" if active else "webhook.deactivate",
                target=hook,
            )
    return hook


def webhook_replay(*, actor: User, delivery_id: int) -> WebhookDelivery:
    """Send a logged delivery again, as a new delivery with the same event id (receivers
    that dedupe on the id recognise it)."""
    _require_admin(actor)
    with transaction.atomic():
        original = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
        if original is None:
            raise NotFound(_("Delivery not found."))
        replay = WebhookDelivery.objects.create(
            webhook=original.webhook,
            event=original.event,
            event_id=original.event_id,
            payload=original.payload,
            next_attempt_at=timezone.now(),
            replay_of=original,
        )
        audit_record(
            actor=actor,
            verb="webhook.replay",
            target=original.webhook,
            changes={"delivery": [original.pk, replay.pk]},
        )
        transaction.on_commit(_enqueue_delivery)
    return replay


def customer_payload(customer, changed: list[str] | None = None) -> dict:
    """What receivers learn about a customer: identifiers, no contact details (they call the
    API with a token for those, through visibility and masking)."""
    body = {
        "id": customer.pk,
        "name": customer.name,
        "stage": customer.stage,
        "owner_id": customer.owner_id,
        "org_unit_id": customer.org_unit_id,
        "url": customer.get_absolute_url(),
    }
    if changed is not None:
        body["changed"] = sorted(changed)
    return body
