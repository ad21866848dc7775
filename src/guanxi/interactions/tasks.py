"""Background work: the due-reminder scan (django-tasks).

The scan is idempotent: every notice has a key unique per user, so running it twice — or
twice at once, or again after a crash — notifies once. The day's follow-up summary is
refreshed while unread and withdrawn when its customers were moved away (no stale count).
E-mail copies are sent by the notification centre.
"""

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_tasks import task

from guanxi.customers.models import Customer
from guanxi.notifications.services import Notice, notify_many, notify_withdraw
from guanxi.notifications.tasks import send_pending_emails_now

from .models import Promise
from .selectors import local_day_bounds

BATCH = 5000
FOLLOW_UPS_DUE = gettext_lazy("%(total)d follow-ups due today (%(overdue)d overdue)")
PROMISE_DUE = gettext_lazy("Promise due: %(text)s (%(name)s)")


def scan_due_reminders_now(now=None) -> dict:
    """One notice per owner per day summing up what is due; one per promise due."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, end = local_day_bounds(today)
    summary_key = f"followups:{today:%Y%m%d}"
    due = list(
        Customer.objects.filter(
            next_follow_up_at__lt=end, owner__isnull=False, archived_at__isnull=True
        )
        .values("owner_id")
        .annotate(overdue=Count("id", filter=Q(next_follow_up_at__lt=start)), total=Count("id"))
        .order_by()
    )
    summaries = [
        Notice(
            recipient_id=row["owner_id"],
            key=summary_key,
            kind="follow_up",
            title=FOLLOW_UPS_DUE,
            params={"total": row["total"], "overdue": row["overdue"]},
            url="/my-day/",
        )
        for row in due
    ]
    notify_withdraw(key=summary_key, keep_recipients=[row["owner_id"] for row in due])
    promises = (
        Promise.objects.open()
        .filter(
            due_date__lte=today, customer__owner__isnull=False, customer__archived_at__isnull=True
        )
        .values_list("id", "customer__owner_id", "text", "customer_id", "customer__name")
    )
    promise_notices = [
        Notice(
            recipient_id=owner_id,
            key=f"promise:{promise_id}",
            kind="promise",
            title=PROMISE_DUE,
            params={"text": text, "name": name},
            url=f"/customers/{customer_id}/",
        )
        for promise_id, owner_id, text, customer_id, name in promises.iterator(chunk_size=BATCH)
    ]
    notify_many(summaries, replace=True, now=now)
    notify_many(promise_notices, now=now)
    return {"owners": len(due), "candidates": len(summaries) + len(promise_notices)}


@task()
def scan_due_reminders() -> dict:
    result = scan_due_reminders_now()
    result["emails"] = send_pending_emails_now()
    return result
