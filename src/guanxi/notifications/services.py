"""Every notice the product sends goes through here (ARCHITECTURE: the notification centre).

A sender passes the title as a lazy translation (`gettext_lazy`) with `params`; the
notice stores the source-language text and is shown in each reader's language. A `key`
names the cause: sending the same key twice notifies once, `replace=True` refreshes an
unread notice whose figures changed, and `notify_withdraw` removes notices whose cause is
gone (a follow-up count for customers that were moved away).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise

from guanxi.core.models import User

from .models import Notification

BATCH = 2000


@dataclass(frozen=True)
class Notice:
    """One notice to send; see `notify`."""

    recipient_id: int
    key: str
    title: str | Promise
    params: dict = field(default_factory=dict)
    body: str | Promise = ""
    url: str = ""
    kind: str = "general"


def _source_text(text: str | Promise) -> str:
    """The untranslated message: what gettext looks up when the notice is read."""
    with translation.override(None):
        return str(text)


def _row(notice: Notice, *, emailers: set[int], now: datetime) -> Notification:
    return Notification(
        user_id=notice.recipient_id,
        key=notice.key[:120],
        kind=notice.kind,
        title=_source_text(notice.title)[:200],
        params=notice.params,
        body=_source_text(notice.body),
        url=notice.url[:200],
        created_at=now,
        email_state=(
            Notification.EmailState.PENDING
            if notice.recipient_id in emailers
            else Notification.EmailState.NONE
        ),
    )


def _emailers(user_ids: Iterable[int]) -> set[int]:
    return set(
        User.objects.filter(pk__in=set(user_ids), notify_by_email=True, is_active=True)
        .exclude(email="")
        .values_list("id", flat=True)
    )


def notify(
    *,
    recipient: User | int,
    key: str,
    title: str | Promise,
    params: dict | None = None,
    body: str | Promise = "",
    url: str = "",
    kind: str = "general",
    replace: bool = False,
) -> bool:
    """Notify one user; True when a notice was created (or, with `replace`, refreshed)."""
    notice = Notice(
        recipient_id=recipient if isinstance(recipient, int) else recipient.pk,
        key=key,
        title=title,
        params=params or {},
        body=body,
        url=url,
        kind=kind,
    )
    return notify_many([notice], replace=replace) > 0


def notify_many(notices: Iterable[Notice], *, replace: bool = False, now=None) -> int:
    """Send many notices in batches (a scan's output); how many were new or refreshed.

    Without `replace` an existing (user, key) is left alone, read or not. With it, an
    unread notice takes the new title and values; a read one stays read.
    """
    now = now or timezone.now()
    notices = list(notices)
    emailers = _emailers(n.recipient_id for n in notices)
    rows = [_row(n, emailers=emailers, now=now) for n in notices]
    changed = 0
    with transaction.atomic():
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            existing = _existing(batch)
            fresh = [r for r in batch if (r.user_id, r.key) not in existing]
            Notification.objects.bulk_create(fresh, ignore_conflicts=True)
            changed += len(fresh)
            if replace:
                changed += _refresh(batch, existing)
    return changed


def _existing(rows: list[Notification]) -> dict[tuple[int, str], Notification]:
    keys = {r.key for r in rows}
    users = {r.user_id for r in rows}
    found = Notification.objects.filter(key__in=keys, user_id__in=users).only(
        "id", "user_id", "key", "title", "params", "read_at"
    )
    return {(n.user_id, n.key): n for n in found}


def _refresh(rows: list[Notification], existing: dict[tuple[int, str], Notification]) -> int:
    stale = []
    for row in rows:
        old = existing.get((row.user_id, row.key))
        if old is None or old.read_at is not None:
            continue
        if (old.title, old.params) != (row.title, row.params):
            old.title, old.params, old.url = row.title, row.params, row.url
            stale.append(old)
    Notification.objects.bulk_update(stale, ["title", "params", "url"], batch_size=BATCH)
    return len(stale)


def notify_withdraw(
    *,
    key: str,
    recipient: User | int | None = None,
    prefix: bool = False,
    keep_recipients: Iterable[int] = (),
) -> int:
    """The cause is gone: remove the unread notices with this key (or key prefix), except
    those of `keep_recipients` (whose cause is still there)."""
    qs = Notification.objects.filter(read_at__isnull=True)
    qs = qs.filter(key__startswith=key) if prefix else qs.filter(key=key)
    if recipient is not None:
        qs = qs.filter(user_id=recipient if isinstance(recipient, int) else recipient.pk)
    kept = list(keep_recipients)
    if kept:
        qs = qs.exclude(user_id__in=kept)
    deleted, _ = qs.delete()
    return deleted


def notification_mark_read(*, actor: User, notification_id: int | None = None) -> int:
    """Mark one of the actor's notices read, or all of them; never another user's."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
