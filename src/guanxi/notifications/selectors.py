"""Reads of the notification centre: a user only ever reads their own notices."""

from django.db.models import QuerySet

from guanxi.core.models import User

from .models import Notification


def notifications_unread(*, user: User, limit: int = 10) -> list[Notification]:
    return list(Notification.objects.filter(user=user, read_at__isnull=True)[:limit])


def notifications_unread_count(*, user: User) -> int:
    """Served by the (user, read_at, -id) index: cheap enough to poll."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's inbox, newest first (the index's order)."""
    return Notification.objects.filter(user=user)
