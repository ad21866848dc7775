"""Background work: the due-reminder scan and reminder e-mails (django-tasks).

The scan is idempotent: every notification has a key unique per user, inserted with
ignore_conflicts, so running it twice — or twice at once, or again after a crash — notifies
once. E-mails are claimed row by row (pending → sending → sent) before they are sent.
"""

from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from guanxi.core.models import User
from guanxi.customers.models import Customer

from .models import Notification, Promise
from .selectors import local_day_bounds

BATCH = 5000
STALE_SENDING = timedelta(minutes=15)


def _insert(rows: list[Notification]) -> None:
    for start in range(0, len(rows), BATCH):
        Notification.objects.bulk_create(rows[start : start + BATCH], ignore_conflicts=True)


def scan_due_reminders_now(now=None) -> dict:
    """One notification per owner per day summing up what is due; one per promise due."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, end = local_day_bounds(today)
    emailers = set(
        User.objects.filter(notify_by_email=True, is_active=True)
        .exclude(email="")
        .values_list("id", flat=True)
    )
    due = (
        Customer.objects.filter(
            next_follow_up_at__lt=end, owner__isnull=False, archived_at__isnull=True
        )
        .values("owner_id")
        .annotate(overdue=Count("id", filter=Q(next_follow_up_at__lt=start)), total=Count("id"))
        .order_by()
    )
    rows = [
        Notification(
            user_id=row["owner_id"],
            key=f"followups:{today:%Y%m%d}",
            title=_("%(total)d follow-ups due today (%(overdue)d overdue)") % row,
            url="/my-day/",
            email_state="pending" if row["owner_id"] in emailers else "none",
        )
        for row in due
    ]
    promises = (
        Promise.objects.open()
        .filter(
            due_date__lte=today, customer__owner__isnull=False, customer__archived_at__isnull=True
        )
        .values_list("id", "customer__owner_id", "text", "customer_id", "customer__name")
    )
    rows += [
        Notification(
            user_id=owner_id,
            key=f"promise:{promise_id}",
            title=_("Promise due: %(text)s (%(name)s)") % {"text": text, "name": name},
            url=f"/customers/{customer_id}/",
            email_state="pending" if owner_id in emailers else "none",
        )
        for promise_id, owner_id, text, customer_id, name in promises.iterator(chunk_size=BATCH)
    ]
    _insert(rows)
    return {"owners": len(due), "candidates": len(rows)}


def send_pending_emails_now(now=None) -> int:
    """Claim each pending e-mail before sending, so two workers never send the same one."""
    now = now or timezone.now()
    Notification.objects.filter(email_state="sending", created_at__lt=now - STALE_SENDING).update(
        email_state="pending"
    )
    sent = 0
    for notification_id in Notification.objects.filter(email_state="pending").values_list(
        "id", flat=True
    )[:500]:
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=notification_id, email_state="pending").update(
                email_state="sending"
            )
        if not claimed:
            continue
        notification = Notification.objects.select_related("user").get(pk=notification_id)
        send_mail(
            notification.title,
            notification.body or notification.title,
            None,
            [notification.user.email],
        )
        Notification.objects.filter(pk=notification_id).update(email_state="sent")
        sent += 1
    return sent


@task()
def scan_due_reminders() -> dict:
    result = scan_due_reminders_now()
    result["emails"] = send_pending_emails_now()
    return result
