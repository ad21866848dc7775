"""The notification centre's one table: every notice any app sends (ARCHITECTURE layers:
just above core, so every domain app can notify)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """An in-app notice to one user.

    `key` makes every notice idempotent: a scan that runs twice, or two scans at once, notify
    once. `title` holds the source-language message and `params` its values, so the notice is
    shown in the reader's language, not the sender's.
    """

    class EmailState(models.TextChoices):
        NONE = "none", _("not e-mailed")
        PENDING = "pending", _("e-mail waiting")
        SENDING = "sending", _("e-mail being sent")
        SENT = "sent", _("e-mailed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    key = models.CharField(max_length=120)
    kind = models.CharField(max_length=40, default="general")
    title = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=10, choices=EmailState.choices, default=EmailState.NONE
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_unique_key")
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "-id"], name="notification_unread"),
            models.Index(
                fields=["email_state"],
                name="notification_mail_queue",
                condition=~models.Q(email_state="none") & ~models.Q(email_state="sent"),
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The title in the active language, with its values filled in."""
        message = gettext(self.title)
        if not self.params:
            return message
        try:
            return message % self.params
        except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
            return self.title % self.params
