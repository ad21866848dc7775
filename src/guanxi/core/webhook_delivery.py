"""Webhook delivery (C8): the worker's side of core.webhooks — sign, POST, record the outcome
and schedule the retry. Below core.webhooks and core.tasks, so the task that sends and the
service that enqueues it do not import each other."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.utils import timezone

from .models import WebhookDelivery

DEFAULT_BACKOFF = (60, 300, 1800, 7200, 43200)
TIMEOUT_SECONDS = 10
# A send is over within TIMEOUT_SECONDS per phase; a row still "delivering" well past that
# was caught mid-send by a dying worker and is retried at the next scan (every ~30 s), not
# minutes later. Receivers deduplicate by X-Guanxi-Delivery (delivery is at least once).
STALE_DELIVERING = timedelta(seconds=3 * TIMEOUT_SECONDS)
BATCH = 100


def backoff() -> tuple[int, ...]:
    return tuple(getattr(settings, "GUANXI_WEBHOOK_BACKOFF", DEFAULT_BACKOFF))


def max_attempts() -> int:
    """The first try plus one retry per backoff step."""
    return 1 + len(backoff())


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


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
