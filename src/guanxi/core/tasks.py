"""Background work of the platform: webhook deliveries (django-tasks)."""

from django_tasks import task

from .webhooks import deliver_due_webhooks_now


@task()
def deliver_webhooks() -> dict:
    """Send due webhook deliveries; enqueued after each event and every ~30 s (idempotent)."""
    return deliver_due_webhooks_now()
