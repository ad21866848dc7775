"""C8: interrupted work recovers promptly (issue #12 item 11).

A webhook delivery caught mid-send by a dying worker is sent again at the next scan, within
a minute, not after minutes; a task row whose worker died never stays RUNNING forever.
"""

import uuid
from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from guanxi.core.models import WebhookDelivery
from guanxi.core.tasks import LOST, recover_stale_tasks_now
from guanxi.core.webhook_delivery import deliver_due_webhooks_now
from tests.conftest import new_customer
from tests.core.test_webhooks import Receiver, register
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401


def test_a_delivery_caught_mid_send_is_retried_within_a_minute(admin_user, owner):
    secret = {}
    with Receiver(secret) as receiver:
        register(admin_user, receiver.url, secret)
        new_customer(owner, "王芳", ("13912345678",))
        # The worker claimed it and died before recording the outcome, 40 seconds ago.
        WebhookDelivery.objects.update(
            status=WebhookDelivery.Status.DELIVERING,
            last_attempt_at=timezone.now() - timedelta(seconds=40),
        )
        result = deliver_due_webhooks_now()
    assert result["sent"] == 1
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED


def test_a_delivery_being_sent_right_now_is_not_sent_twice(admin_user, owner):
    secret = {}
    with Receiver(secret) as receiver:
        register(admin_user, receiver.url, secret)
        new_customer(owner, "王芳", ("13912345678",))
        WebhookDelivery.objects.update(
            status=WebhookDelivery.Status.DELIVERING, last_attempt_at=timezone.now()
        )
        result = deliver_due_webhooks_now()
    assert result["sent"] == 0 and receiver.requests == []


def task_row(path, started_minutes_ago, status="RUNNING"):
    return DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status=status,
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
        args_kwargs={"args": [], "kwargs": {}},
        task_path=path,
        backend_name="default",
        queue_name="default",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )


def test_a_task_row_whose_worker_died_is_failed_not_running_forever(db):
    lost = task_row("guanxi.interactions.tasks.scan_due_reminders", 20)
    busy = task_row("guanxi.interactions.tasks.scan_due_reminders", 1)
    long_import = task_row("guanxi.transfer.tasks.run_import", 60)
    assert recover_stale_tasks_now() == 1
    lost.refresh_from_db()
    assert (lost.status, lost.exception_class_path) == ("FAILED", LOST)
    assert lost.finished_at is not None
    for row in (busy, long_import):
        row.refresh_from_db()
        assert row.status == "RUNNING"


def test_recovery_is_idempotent(db):
    task_row("guanxi.core.tasks.deliver_webhooks", 30)
    assert recover_stale_tasks_now() == 1
    assert recover_stale_tasks_now() == 0
