"""Tiers (金卡 / 银卡 / 普通): recognised at the transaction, reviewed at the period end.

- Upgrade: at the transaction whose qualifying spend (or points) over the rolling window
  reaches a higher tier's threshold; valid from that day for the tier period.
- Period end: a tier whose validity ended is kept (保级) when the window's qualifying
  figure reaches its keep threshold, otherwise it drops by one level; either way a new
  validity period starts. Every change is a `TierChange` row with its dates and reason.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.calendar import add_months
from guanxi.core.events import event_effect
from guanxi.core.webhooks import webhook_emit

from .models import LoyaltySettings, PointsAccount, PointsEntry, Tier, TierChange

Kind = PointsEntry.Kind


def qualifying(customer_id: int, *, today: date, config: LoyaltySettings | None = None) -> Decimal:
    """Spend (or points earned) over the rolling window ending `today`, net of refunds."""
    config = config or LoyaltySettings.current()
    since = timezone.make_aware(
        datetime.combine(today - timedelta(days=config.tier_window_days - 1), datetime.min.time())
    )
    field = "amount" if config.tier_basis == LoyaltySettings.TierBasis.SPEND else "points"
    rows = PointsEntry.objects.filter(customer_id=customer_id, at__gte=since).aggregate(
        earned=Sum(field, filter=Q(kind=Kind.EARN)),
        reversed=Sum(field, filter=Q(kind=Kind.REVERSE)),
    )
    earned = Decimal(rows["earned"] or 0)
    reversed_ = Decimal(rows["reversed"] or 0)
    # A reversal's points are negative, its amount positive: take back the magnitude.
    return earned - abs(reversed_)


def _payload(customer_id, before: Tier | None, after: Tier, change: TierChange) -> dict:
    return {
        "customer_id": customer_id,
        "from_tier": before.code if before else None,
        "to_tier": after.code,
        "reason": change.reason,
        "valid_from": change.valid_from.isoformat(),
        "valid_until": change.valid_until.isoformat(),
        "source": change.source,
    }


def _set_tier(account: PointsAccount, tier: Tier, *, reason: str, amount, source, today, config):
    before = account.tier
    until = _period_end(today, config)
    change = TierChange.objects.create(
        customer_id=account.customer_id,
        from_tier=before,
        to_tier=tier,
        reason=reason,
        qualifying=amount,
        source=source[:60],
        valid_from=today,
        valid_until=until,
    )
    PointsAccount.objects.filter(pk=account.pk).update(
        tier=tier, tier_since=today, tier_until=until, updated_at=timezone.now()
    )
    if before != tier:
        webhook_emit("tier.changed", _payload(account.customer_id, before, tier, change))
    return change


def _period_end(today: date, config: LoyaltySettings) -> date:
    return add_months(today, config.tier_period_months) - timedelta(days=1)


def tier_evaluate(*, customer_id: int, source: str = "", now: datetime | None = None):
    """At a transaction: upgrade when the qualifying figure reaches a higher tier. Never
    downgrades (that waits for the period end). Returns the TierChange or None."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    config = LoyaltySettings.current()
    tiers = list(Tier.objects.order_by("-rank"))
    if not tiers:
        return None
    with transaction.atomic():
        account = (
            PointsAccount.objects.select_for_update(of=("self",))
            .select_related("tier")
            .filter(customer_id=customer_id)
            .first()
        )
        if account is None:
            return None
        amount = qualifying(customer_id, today=today, config=config)
        # No tier yet is the entry tier (普通): reaching it is no change.
        current_rank = account.tier.rank if account.tier else min(t.rank for t in tiers)
        reached = next((t for t in tiers if amount >= t.threshold), None)
        if reached is None or reached.rank <= current_rank:
            return None
        change = _set_tier(
            account,
            reached,
            reason=TierChange.Reason.UPGRADE,
            amount=amount,
            source=source,
            today=today,
            config=config,
        )
        event_effect(
            "tier.changed",
            {"customer_id": customer_id, "to_tier": reached.code},
            _("Upgraded to %(tier)s.") % {"tier": reached},
        )
    return change


def tiers_review(today: date | None = None) -> dict:
    """Period end (nightly, idempotent): each tier whose validity ended before `today` is
    kept (保级) or drops one level; a new validity period starts either way."""
    today = today or timezone.localdate()
    config = LoyaltySettings.current()
    by_rank = {t.rank: t for t in Tier.objects.all()}
    counts = {"kept": 0, "downgraded": 0}
    due = PointsAccount.objects.filter(tier__isnull=False, tier_until__lt=today).values_list(
        "customer_id", flat=True
    )
    for customer_id in list(due[:50000]):
        with transaction.atomic():
            account = (
                PointsAccount.objects.select_for_update(of=("self",))
                .select_related("tier")
                .filter(customer_id=customer_id, tier_until__lt=today)
                .first()
            )
            if account is None:  # reviewed meanwhile
                continue
            amount = qualifying(customer_id, today=today, config=config)
            tier = account.tier
            assert tier is not None  # filtered on tier__isnull=False
            if amount >= tier.keep_threshold or tier.rank == min(by_rank):
                _set_tier(
                    account,
                    tier,
                    reason=TierChange.Reason.KEPT,
                    amount=amount,
                    source="",
                    today=today,
                    config=config,
                )
                counts["kept"] += 1
                continue
            lower = max((r for r in by_rank if r < tier.rank), default=tier.rank)
            _set_tier(
                account,
                by_rank[lower],
                reason=TierChange.Reason.DOWNGRADE,
                amount=amount,
                source="",
                today=today,
                config=config,
            )
            counts["downgraded"] += 1
    return counts
