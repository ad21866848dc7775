"""E-mail copies of notices, for users who asked for them (django-tasks).

Each e-mail is claimed row by row (pending → sending → sent) before it is sent, so two
workers never send the same one; a claim left by a crashed worker is retried after
STALE_SENDING.
"""

from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import Notification

STALE_SENDING = timedelta(minutes=15)
BATCH = 500

State = Notification.EmailState


def send_pending_emails_now(now=None) -> int:
    now = now or timezone.now()
    Notification.objects.filter(
        email_state=State.SENDING, created_at__lt=now - STALE_SENDING
    ).update(email_state=State.PENDING)
    sent = 0
    pending = Notification.objects.filter(email_state=State.PENDING).values_list("id", flat=True)
    for notification_id in pending[:BATCH]:
        with transaction.atomic():
            claimed = Notification.objects.filter(
                pk=notification_id, email_state=State.PENDING
            ).update(email_state=State.SENDING)
        if not claimed:
            continue
        notification = Notification.objects.select_related("user").get(pk=notification_id)
        text = notification.text
        send_mail(text, notification.body or text, None, [notification.user.email])
        Notification.objects.filter(pk=notification_id).update(email_state=State.SENT)
        sent += 1
    return sent


@task()
def send_pending_emails() -> int:
    return send_pending_emails_now()
