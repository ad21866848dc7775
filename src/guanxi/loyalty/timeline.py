"""Timeline source: the points ledger and tier changes of a customer."""

from django.utils.translation import gettext as _

from guanxi.core.timeline import TimelineEvent

from .models import PointsEntry, TierChange


def points_events(*, customer, viewer, limit: int):
    for entry in (
        PointsEntry.objects.filter(customer_id=customer.pk)
        .exclude(points=0, kind=PointsEntry.Kind.EARN)
        .select_related("actor", "reward")
        .order_by("-at", "-id")[:limit]
    ):
        yield TimelineEvent(
            at=entry.at,
            kind="points",
            title=_("%(kind)s %(points)s points")
            % {"kind": entry.get_kind_display(), "points": f"{entry.points:+,}"},
            body=_("Balance %(balance)s") % {"balance": f"{entry.balance_after:,}"}
            + (f" · {entry.note}" if entry.note else ""),
            actor=str(entry.actor or ""),
            icon="star",
        )
    for change in (
        TierChange.objects.filter(customer_id=customer.pk)
        .select_related("from_tier", "to_tier")
        .order_by("-at")[:limit]
    ):
        yield TimelineEvent(
            at=change.at,
            kind="points",
            title=_("Tier: %(tier)s") % {"tier": change.to_tier},
            body=_("%(reason)s; valid %(start)s – %(end)s")
            % {
                "reason": change.get_reason_display(),
                "start": change.valid_from.isoformat(),
                "end": change.valid_until.isoformat(),
            },
            icon="award",
        )
