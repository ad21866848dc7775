"""Webhooks (C8): signed deliveries to a real receiver on loopback, retries, failure, replay."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from guanxi.core.errors import Forbidden
from guanxi.core.models import WebhookDelivery
from guanxi.core.webhook_delivery import deliver_due_webhooks_now, sign
from guanxi.core.webhooks import (
    webhook_create,
    webhook_emit,
    webhook_emit_many,
    webhook_replay,
    webhook_verify,
)
from guanxi.customers.services import customer_update
from tests.conftest import new_customer
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401


class Receiver:
    """An HTTP server on 127.0.0.1 that checks each request's signature, as a customer's
    integration would, and answers with the next status of `statuses`."""

    def __init__(self, secret_holder: dict, statuses=(200,)):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {
                        "body": body,
                        "headers": dict(self.headers),
                        "valid": webhook_verify(
                            secret=secret_holder["secret"],
                            body=body,
                            timestamp=self.headers["X-Guanxi-Timestamp"],
                            signature=self.headers["X-Guanxi-Signature"],
                        ),
                    }
                )
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def secret():
    return {}


def register(admin_user, url, secret, events=("customer.created", "customer.updated")):
    hook = webhook_create(actor=admin_user, name="CRM sync", url=url, events=list(events))
    secret["secret"] = hook.secret
    return hook


def test_customer_created_is_delivered_signed(admin_user, owner, secret):
    with Receiver(secret) as receiver:
        register(admin_user, receiver.url, secret)
        customer = new_customer(owner, "王芳", ("13912345678",))
        result = deliver_due_webhooks_now()
    assert result["sent"] == 1
    request = receiver.requests[0]
    assert request["valid"]
    assert request["headers"]["X-Guanxi-Event"] == "customer.created"
    assert request["headers"]["X-Guanxi-Signature"].startswith("sha256=")
    body = json.loads(request["body"])
    assert body["event"] == "customer.created"
    assert body["data"]["id"] == customer.pk
    assert "phone" not in json.dumps(body["data"])  # contact details stay behind the API
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.response_code == 200


def test_tampered_body_or_old_timestamp_fails_verification():
    body = b'{"event":"customer.created"}'
    now = 1_700_000_000
    signature = sign("s3cret", str(now), body)
    assert webhook_verify(
        secret="s3cret", body=body, timestamp=str(now), signature=signature, now=now
    )
    assert not webhook_verify(
        secret="s3cret", body=body + b" ", timestamp=str(now), signature=signature, now=now
    )
    assert not webhook_verify(
        secret="other", body=body, timestamp=str(now), signature=signature, now=now
    )
    assert not webhook_verify(
        secret="s3cret", body=body, timestamp=str(now), signature=signature, now=now + 3600
    )


def test_failing_receiver_is_retried_then_marked_failed(admin_user, owner, secret, settings):
    settings.GUANXI_WEBHOOK_BACKOFF = [0, 0]  # three attempts, no waiting
    with Receiver(secret, statuses=(500,)) as receiver:
        register(admin_user, receiver.url, secret)
        new_customer(owner, "王芳", ("13912345678",))
        for _ in range(5):
            deliver_due_webhooks_now(now=timezone.now() + timezone.timedelta(seconds=1))
    delivery = WebhookDelivery.objects.get()
    assert len(receiver.requests) == 3
    assert all(r["valid"] for r in receiver.requests)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 3
    assert delivery.response_code == 500
    assert delivery.next_attempt_at is None


def test_retry_waits_for_backoff(admin_user, owner, secret, settings):
    settings.GUANXI_WEBHOOK_BACKOFF = [60, 300]
    with Receiver(secret, statuses=(503, 200)) as receiver:
        register(admin_user, receiver.url, secret)
        new_customer(owner, "王芳", ("13912345678",))
        deliver_due_webhooks_now()
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert 55 <= (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds() <= 65
        assert deliver_due_webhooks_now()["due"] == 0  # not yet due
        deliver_due_webhooks_now(now=timezone.now() + timezone.timedelta(seconds=61))
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 2
    assert len(receiver.requests) == 2


def test_unreachable_receiver_records_the_error(admin_user, owner, secret, settings):
    settings.GUANXI_WEBHOOK_BACKOFF = []
    register(admin_user, "http://127.0.0.1:9/nothing-listens", secret)
    new_customer(owner, "王芳", ("13912345678",))
    deliver_due_webhooks_now()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.response_code is None
    assert "ConnectError" in delivery.last_error


def test_replay_sends_the_same_event_again(admin_user, owner, secret):
    with Receiver(secret) as receiver:
        register(admin_user, receiver.url, secret)
        new_customer(owner, "王芳", ("13912345678",))
        deliver_due_webhooks_now()
        original = WebhookDelivery.objects.get()
        replay = webhook_replay(actor=admin_user, delivery_id=original.pk)
        deliver_due_webhooks_now()
    assert replay.replay_of == original
    assert len(receiver.requests) == 2
    first, second = (json.loads(r["body"]) for r in receiver.requests)
    assert first["id"] == second["id"]  # receivers dedupe on the event id
    assert all(r["valid"] for r in receiver.requests)


def test_only_subscribed_events_and_active_hooks_queue(admin_user, owner, secret, customer):
    register(admin_user, "http://127.0.0.1:9/", secret, events=["customer.merged"])
    customer_update(actor=owner, customer_id=customer.pk, data={"city": "北京"})
    assert not WebhookDelivery.objects.exists()
    assert webhook_emit("customer.merged", {"id": 1}) == 1


def test_many_events_at_once_are_each_their_own_delivery(admin_user, owner, secret):
    register(admin_user, "http://127.0.0.1:9/", secret, events=["customer.merged"])
    assert webhook_emit_many("customer.merged", [{"id": 1}, {"id": 2}, {"id": 3}]) == 3
    assert webhook_emit_many("customer.updated", [{"id": 4}]) == 0  # nobody subscribed
    rows = list(WebhookDelivery.objects.order_by("id"))
    assert [r.payload for r in rows] == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert len({r.event_id for r in rows}) == 3  # receivers dedupe on the event id


def test_update_event_names_changed_fields(admin_user, owner, secret, customer):
    register(admin_user, "http://127.0.0.1:9/", secret)
    WebhookDelivery.objects.all().delete()
    customer_update(actor=owner, customer_id=customer.pk, data={"city": "北京"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "customer.updated"
    assert delivery.payload["changed"] == ["city"]


def test_rolled_back_change_sends_nothing(admin_user, owner, secret):
    from django.db import transaction

    register(admin_user, "http://127.0.0.1:9/", secret)
    with pytest.raises(RuntimeError), transaction.atomic():
        new_customer(owner, "王芳", ("13912345678",))
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()


def test_only_admins_manage_webhooks(manager, owner):
    with pytest.raises(Forbidden):
        webhook_create(
            actor=manager, name="x", url="https://example.cn/", events=["customer.created"]
        )


def test_webhook_page_is_admin_only(client, admin_user, manager):
    client.force_login(manager)
    assert client.get("/webhooks/").status_code == 404
    client.force_login(admin_user)
    response = client.post(
        "/webhooks/",
        {"name": "ERP", "url": "https://erp.example.cn/hook", "events": ["customer.created"]},
    )
    assert response.status_code == 302
    page = client.get("/webhooks/")
    assert "erp.example.cn" in page.content.decode()


def test_bad_url_is_refused_on_the_page(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/webhooks/", {"name": "x", "url": "ftp://x", "events": ["customer.created"]}
    )
    assert response.status_code == 200
    assert "http://" in response.content.decode()
