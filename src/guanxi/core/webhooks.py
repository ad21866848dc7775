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

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import audit_record
from .errors import Forbidden, NotFound, ValidationFailed
from .events import event_dispatch
from .models import User, Webhook, WebhookDelivery

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


DEFAULT_BACKOFF = (60, 300, 1800, 7200, 43200)
TIMEOUT_SECONDS = 10
# A send is over within TIMEOUT_SECONDS per phase; a row still "delivering" well past that
# was caught mid-send by a dying worker and is retried at the next scan (every ~30 s), not
# minutes later. Receivers deduplicate by X-Guanxi-Delivery (delivery is at least once).
STALE_DELIVERING = timedelta(seconds=3 * TIMEOUT_SECONDS)
BATCH = 100
SIGNATURE_TOLERANCE = 300  # seconds a receiver accepts between the timestamp and its clock


def backoff() -> tuple[int, ...]:
    return tuple(getattr(settings, "GUANXI_WEBHOOK_BACKOFF", DEFAULT_BACKOFF))


def max_attempts() -> int:
    """The first try plus one retry per backoff step."""
    return 1 + len(backoff())


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


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
    from .tasks import deliver_webhooks

    deliver_webhooks.enqueue()


def request_body(delivery: WebhookDelivery) -> bytes:
    document = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def deliver_one(delivery: WebhookDelivery, *, client: httpx.Client | None = None) -> bool:
    """POST one claimed delivery and record the outcome; True when the receiver took it."""
    body = request_body(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Guanxi-Webhooks/1",
        "X-Guanxi-Event": delivery.event,
        "X-Guanxi-Delivery": str(delivery.pk),
        "X-Guanxi-Timestamp": timestamp,
        "X-Guanxi-Signature": sign(delivery.webhook.secret, timestamp, body),
    }
    code, error = None, ""
    try:
        if client is None:
            with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as own:
                response = own.post(delivery.webhook.url, content=body, headers=headers)
        else:
            response = client.post(delivery.webhook.url, content=body, headers=headers)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:200]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = code
    delivery.last_error = error[:500]
    if not error:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.next_attempt_at = None
    elif delivery.attempts >= max_attempts():
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=backoff()[delivery.attempts - 1])
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "response_code",
            "last_error",
            "status",
            "next_attempt_at",
        ]
    )
    return not error


def deliver_due_webhooks_now(now=None, limit: int = BATCH) -> dict:
    """Send every due delivery once. Idempotent and safe with several workers: each row is
    claimed (pending → delivering) by one conditional UPDATE before it is sent."""
    now = now or timezone.now()
    # A worker that died mid-send leaves "delivering" behind: try those again.
    WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.DELIVERING, last_attempt_at__lt=now - STALE_DELIVERING
    ).update(status=WebhookDelivery.Status.PENDING)
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    sent = failed = 0
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        for delivery_id in due:
            claimed = WebhookDelivery.objects.filter(
                pk=delivery_id, status=WebhookDelivery.Status.PENDING
            ).update(status=WebhookDelivery.Status.DELIVERING, last_attempt_at=timezone.now())
            if not claimed:
                continue
            delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
            if deliver_one(delivery, client=client):
                sent += 1
            else:
                failed += 1
    return {"due": len(due), "sent": sent, "failed": failed}


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
        from .errors import FieldError

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
