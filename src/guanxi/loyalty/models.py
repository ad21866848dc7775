"""Loyalty (C6): the points ledger, its lots and balance row, earning rules, rewards, tiers.

The balance can never go negative, whatever the concurrency: it lives on one row per
customer (`PointsAccount`) with a CHECK constraint (`balance >= 0`), and every debit is a
conditional UPDATE (`… SET balance = balance - n WHERE balance >= n`) that the database
applies or refuses atomically. Every change of the balance is one append-only ledger row
(`PointsEntry`) with an idempotency key, and the balance always equals the sum of the
lots' remaining points.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class LoyaltySettings(models.Model):
    """Company-wide loyalty rules; one row."""

    class TierBasis(models.TextChoices):
        SPEND = "spend", _("Spend (CNY)")
        POINTS = "points", _("Points earned")

    expiry_months = models.PositiveSmallIntegerField(_("points expire after (months)"), default=24)
    tier_basis = models.CharField(
        _("tiers qualify by"), max_length=10, choices=TierBasis.choices, default=TierBasis.SPEND
    )
    tier_window_days = models.PositiveSmallIntegerField(_("qualifying window (days)"), default=365)
    tier_period_months = models.PositiveSmallIntegerField(_("tier valid for (months)"), default=12)

    class Meta:
        verbose_name = _("loyalty settings")
        verbose_name_plural = _("loyalty settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "LoyaltySettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()


class EarningRule(models.Model):
    """How points are earned: `points` per `per_amount` yuan spent, or per visit."""

    class Kind(models.TextChoices):
        SPEND = "spend", _("Per amount spent")
        VISIT = "visit", _("Per visit")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60)
    points = models.PositiveIntegerField(_("points"))
    per_amount = models.DecimalField(
        _("per amount (CNY)"), **MONEY, null=True, blank=True, help_text=_("spend rules only")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="visit") | Q(per_amount__gt=0), name="spend_rule_has_amount"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """金卡 / 银卡 / 普通: ranked; reached by qualifying spend or points over the window,
    kept (保级) at the period end by `keep_threshold`."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=30)
    name_en = models.CharField(_("English name"), max_length=30)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)  # 0 = the entry tier
    threshold = models.DecimalField(_("qualifies at"), **MONEY, default=Decimal("0.00"))
    keep_threshold = models.DecimalField(
        _("keeps the tier (保级) at"), **MONEY, default=Decimal("0.00")
    )
    multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=Decimal("1.00")
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


class Reward(models.Model):
    """Something points buy: a gift, or a discount of `discount_amount` yuan."""

    class Kind(models.TextChoices):
        GIFT = "gift", _("Gift")
        DISCOUNT = "discount", _("Discount")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GIFT)
    points = models.PositiveIntegerField(_("points"))
    discount_amount = models.DecimalField(_("discount (CNY)"), **MONEY, default=Decimal("0.00"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="reward_costs_points")
        ]

    def __str__(self) -> str:
        return self.name

    def expired(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.valid_until is not None and self.valid_until < today


class PointsAccount(models.Model):
    """A customer's balance and tier: the one row every debit updates conditionally.

    `related_name="+"`: a customer merge does not move this row by foreign key (the kept
    customer has its own); the merge listener adds the balances instead.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", primary_key=True
    )
    balance = models.IntegerField(_("points"), default=0)
    tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tier_since = models.DateField(null=True, blank=True)
    tier_until = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            # The database refuses a negative balance, even from a direct SQL UPDATE.
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.balance}"


class PointsEntry(models.Model):
    """One line of the append-only ledger: never updated, never deleted.

    `key` is the idempotency key of the source event (`payment:12`, `visit:…`,
    `redeem:<client key>`): replaying the event finds the key and changes nothing.
    `ref` groups the lines of one order or deal (`deal:5`) so a refund finds what it earned
    and what it redeemed.
    """

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Taken back (refund)")
        RESTORE = "restore", _("Given back (refund)")
        MERGE = "merge", _("Merged in")
        ADJUST = "adjust", _("Adjusted")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.IntegerField()  # signed: + earned, − spent
    balance_after = models.IntegerField()
    key = models.CharField(max_length=120, unique=True)
    ref = models.CharField(max_length=60, blank=True, db_index=True)
    amount = models.DecimalField(**MONEY, default=Decimal("0.00"))  # the spend that earned
    reward = models.ForeignKey(
        Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    note = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="points_ledger_by_customer")]

    def __str__(self) -> str:
        return f"{self.key} {self.points:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The points ledger is append-only; write a new entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The points ledger is append-only.")


class PointsLot(models.Model):
    """The points of one earning, spent earliest-expiring first."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, related_name="lot")
    points = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")),
                name="lot_remaining_within_points",
            )
        ]
        indexes = [
            models.Index(
                fields=["customer", "expires_at", "id"],
                condition=Q(remaining__gt=0),
                name="lot_open_by_expiry",
            ),
            models.Index(
                fields=["expires_at"], condition=Q(remaining__gt=0), name="lot_open_expiry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} until {self.expires_at:%Y-%m-%d}"


class LotUse(models.Model):
    """Which lots a debit took its points from (so a refund gives back exactly those)."""

    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="uses")
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="uses")
    points = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.entry_id}←{self.lot_id}: {self.points}"


class TierChange(models.Model):
    """Every tier change with its validity and reason."""

    class Reason(models.TextChoices):
        UPGRADE = "upgrade", _("Upgraded at a qualifying transaction")
        DOWNGRADE = "downgrade", _("Downgraded at period end")
        KEPT = "kept", _("Kept (保级) at period end")
        MANUAL = "manual", _("Set by a manager")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    from_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    qualifying = models.DecimalField(**MONEY, default=Decimal("0.00"))
    source = models.CharField(max_length=60, blank=True)  # e.g. payment:12
    valid_from = models.DateField()
    valid_until = models.DateField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="tier_change_by_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id}→{self.to_tier_id}"
