"""The marketer's home panel: segments, campaigns in flight, consent and opt-outs."""

from django.db.models import Count, Q

from guanxi.core.home import HomePanel, register_home_panel
from guanxi.core.models import User

from .models import Campaign, ContactPermission, Segment
from .permissions import can_market, unit_scope_q

LIVE = (Campaign.Status.SCHEDULED, Campaign.Status.SENDING)


def marketing_today(user: User) -> dict | None:
    if not can_market(user):
        return None
    segments = Segment.objects.filter(unit_scope_q(user))
    campaigns = Campaign.objects.filter(unit_scope_q(user))
    consent = ContactPermission.objects.aggregate(
        consents=Count("id", filter=Q(granted=True)), opt_outs=Count("id", filter=Q(granted=False))
    )
    return {
        "segments": segments.count(),
        "last_rebuilt": segments.exclude(rebuilt_at=None).order_by("-rebuilt_at").first(),
        "live": list(campaigns.filter(status__in=LIVE).order_by("scheduled_at", "id")[:5]),
        "drafts": campaigns.filter(status=Campaign.Status.DRAFT).count(),
        **consent,
    }


def register() -> None:
    register_home_panel(
        HomePanel("marketing.today", "marketing/panels/today.html", marketing_today, 25)
    )
