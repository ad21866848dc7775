"""Timeline sources of this app: interactions and promises."""

from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.formatting import local_date
from guanxi.core.timeline import TimelineEvent

from .models import Interaction, Promise

ICONS = {
    "call_in": "telephone-inbound",
    "call_out": "telephone-outbound",
    "visit": "door-open",
    "meeting": "people",
    "email": "envelope",
    "sms": "chat-dots",
    "wechat": "wechat",
    "note": "journal-text",
    "card": "postcard",
    "gift": "gift",
}


def interaction_events(*, customer, viewer, limit: int):
    rows = (
        Interaction.objects.filter(customer=customer)
        .select_related("actor")
        .prefetch_related("promises")
        .order_by("-occurred_at")[:limit]
    )
    for row in rows:
        badges = [row.get_outcome_display()] if row.outcome else []
        body = row.summary
        if row.next_step:
            body += "\n" + _("Next step: %s") % row.next_step
        yield TimelineEvent(
            at=row.occurred_at,
            kind="interaction",
            title=row.get_kind_display(),
            body=body,
            actor=str(row.actor),
            icon=ICONS.get(row.kind, "dot"),
            badges=badges,
        )


def promise_events(*, customer, viewer, limit: int):
    rows = (
        Promise.objects.filter(customer=customer)
        .select_related("made_by", "done_by")
        .order_by("-created_at")[:limit]
    )
    today = timezone.localdate()
    for row in rows:
        state, badges = promise_state(row, today)
        yield TimelineEvent(
            at=row.created_at,
            kind="promise",
            title=_("Promise: %s") % row.text,
            body=state,
            actor=str(row.made_by),
            icon="hand-thumbs-up",
            badges=badges,
        )


def promise_state(row: Promise, today) -> tuple[str, list[str]]:
    """What a promise's line says, and its badge: kept; not yet due; due today; overdue.

    Only a promise past its due day unkept is overdue: "not kept" (未兑现) is never said of
    one still ahead (issue 11 item 9)."""
    due = local_date(row.due_date, "DATE_FORMAT")
    if row.done_at:
        return _("kept %(date)s by %(who)s") % {
            "date": local_date(row.done_at, "DATE_FORMAT"),
            "who": row.done_by,
        }, []
    if row.due_date > today:
        return _("to keep by %s") % due, [_("not yet due")]
    if row.due_date == today:
        return _("to keep today (%s)") % due, [_("due today")]
    return _("not kept, was due %s") % due, [_("overdue promise")]
