"""Tiers (C6): 金卡 / 银卡 / 普通, recognised at the moment of the transaction that qualifies
(qualifying spend over a rolling window), reviewed at the period end: kept (保级) when the
window reaches the keep threshold, otherwise one level down; every change logged with its
validity dates and reason, and announced by the webhook `tier.changed`."""

from datetime import date, timedelta

import time_machine
from django.utils import timezone

from guanxi.core.models import WebhookDelivery
from guanxi.core.webhooks import webhook_create
from guanxi.loyalty.models import LoyaltySettings, PointsAccount, Tier, TierChange
from guanxi.loyalty.tiers import tiers_review

from .conftest import buy


def tier_of(customer) -> str | None:
    account = PointsAccount.objects.select_related("tier").get(customer_id=customer.pk)
    return account.tier.code if account.tier else None


def test_upgrade_at_the_transaction_that_qualifies(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "6000.00")
    assert tier_of(customer) is None  # still the entry tier: no change to log
    assert not TierChange.objects.exists()
    _order, payment = buy(owner, finance, customer, tv, "4000.00")  # ¥10,000 in the window
    assert tier_of(customer) == "silver"
    change = TierChange.objects.get()
    assert (change.reason, change.source, change.qualifying) == (
        "upgrade",
        f"payment:{payment.pk}",
        10000,
    )
    today = timezone.localdate()
    assert change.valid_from == today
    assert change.valid_until == date(today.year + 1, today.month, today.day) - timedelta(days=1)


def test_upgrade_skips_straight_to_gold_and_earns_at_the_new_multiplier(
    owner, finance, customer, tv
):
    buy(owner, finance, customer, tv, "50000.00")
    assert tier_of(customer) == "gold"
    buy(owner, finance, customer, tv, "1000.00")
    account = PointsAccount.objects.get(customer_id=customer.pk)
    assert account.balance == 5000 + 150  # gold earns 1.5 ×


def test_only_spend_inside_the_rolling_window_qualifies(owner, finance, customer, tv):
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        buy(owner, finance, customer, tv, "9000.00")
    buy(owner, finance, customer, tv, "2000.00")
    assert tier_of(customer) is None


def test_a_refund_takes_back_its_qualifying_spend(owner, finance, customer, tv):
    from guanxi.loyalty.services import points_refund

    order, _ = buy(owner, finance, customer, tv, "9000.00")
    points_refund(actor=finance, ref=f"order:{order.pk}")
    buy(owner, finance, customer, tv, "2000.00")
    assert tier_of(customer) is None  # ¥2,000 net, not ¥11,000


def _silver_a_year_ago(owner, finance, customer, tv, spend="10000.00"):
    with time_machine.travel(timezone.now() - timedelta(days=366), tick=False):
        buy(owner, finance, customer, tv, spend)
    assert tier_of(customer) == "silver"


def test_downgrade_at_period_end_by_one_level(owner, finance, customer, tv):
    with time_machine.travel(timezone.now() - timedelta(days=366), tick=False):
        buy(owner, finance, customer, tv, "60000.00")
    assert tier_of(customer) == "gold"
    assert tiers_review() == {"kept": 0, "downgraded": 1}
    assert tier_of(customer) == "silver"  # one level, not straight to regular
    change = TierChange.objects.order_by("-id").first()
    assert (change.reason, change.from_tier.code, change.to_tier.code) == (
        "downgrade",
        "gold",
        "silver",
    )
    assert change.valid_from == timezone.localdate()
    assert tiers_review() == {"kept": 0, "downgraded": 0}  # idempotent: reviewed for a year


def test_keep_tier_at_period_end_when_the_window_reaches_the_keep_threshold(
    owner, finance, customer, tv
):
    _silver_a_year_ago(owner, finance, customer, tv)
    buy(owner, finance, customer, tv, "6000.00")  # below 10,000 to qualify, above 6,000 to keep
    assert tiers_review() == {"kept": 1, "downgraded": 0}
    assert tier_of(customer) == "silver"
    change = TierChange.objects.order_by("-id").first()
    assert change.reason == "kept" and change.valid_from == timezone.localdate()
    account = PointsAccount.objects.get(customer_id=customer.pk)
    assert account.tier_until == change.valid_until > timezone.localdate()


def test_a_tier_whose_period_is_running_is_not_reviewed(owner, finance, customer, tv):
    buy(owner, finance, customer, tv, "10000.00")
    assert tiers_review() == {"kept": 0, "downgraded": 0}
    assert tier_of(customer) == "silver"


def test_points_basis_qualifies_by_points_earned(owner, finance, customer, tv):
    config = LoyaltySettings.current()
    config.tier_basis = "points"
    config.save()
    Tier.objects.filter(code="silver").update(threshold=500)
    buy(owner, finance, customer, tv, "5000.00")  # 500 points
    assert tier_of(customer) == "silver"


def test_tier_changed_webhook_on_upgrade_and_downgrade(admin_user, owner, finance, customer, tv):
    webhook_create(
        actor=admin_user, name="会员系统", url="http://127.0.0.1:9/", events=["tier.changed"]
    )
    _silver_a_year_ago(owner, finance, customer, tv)
    tiers_review()
    payloads = list(
        WebhookDelivery.objects.filter(event="tier.changed")
        .order_by("id")
        .values_list("payload", flat=True)
    )
    assert [(p["from_tier"], p["to_tier"], p["reason"]) for p in payloads] == [
        (None, "silver", "upgrade"),
        ("silver", "regular", "downgrade"),
    ]
    assert payloads[0]["customer_id"] == customer.pk and payloads[0]["valid_until"]
