"""Insights (C6): each customer's value figures in this app's own table, the settings and
breakpoints of the last full run, and the churn watch list."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .rules import SEGMENT_LABELS, STAGES, ChurnRule

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
RATIO: dict[str, Any] = {"max_digits": 5, "decimal_places": 2}


class InsightsSettings(models.Model):
    """Weights, cut-offs and churn rules (one row), and the last full run's breakpoints."""

    weight_revenue = models.DecimalField(_("weight of revenue"), **RATIO, default=Decimal("0.45"))
    weight_profit = models.DecimalField(_("weight of profit"), **RATIO, default=Decimal("0.25"))
    weight_cost = models.DecimalField(
        _("weight of marketing and service cost"), **RATIO, default=Decimal("0.15")
    )
    weight_years = models.DecimalField(
        _("weight of years of relationship"), **RATIO, default=Decimal("0.15")
    )
    a_share_pct = models.PositiveSmallIntegerField(_("A: top percent of buyers"), default=20)
    b_share_pct = models.PositiveSmallIntegerField(_("B: next percent of buyers"), default=30)
    margin_pct = models.DecimalField(
        _("margin where products carry no cost (%)"), **RATIO, default=Decimal("20.00")
    )
    acquisition_cost = models.DecimalField(
        _("acquisition cost per customer (CNY)"), **MONEY, default=Decimal("200.00")
    )
    cost_per_interaction = models.DecimalField(
        _("cost per interaction (CNY)"), **MONEY, default=Decimal("20.00")
    )
    referral_share_pct = models.DecimalField(
        _("share of a referred customer's revenue credited to the referrer (%)"),
        **RATIO,
        default=Decimal("10.00"),
    )
    rfm_high_from = models.PositiveSmallIntegerField(_("an RFM score is high from"), default=3)
    churn_days = models.PositiveSmallIntegerField(
        _("churn warning after days without a purchase (fewer than 3 purchases)"), default=113
    )
    churn_k = models.DecimalField(
        _("adaptive churn: median gap + k × spread, k ="), **RATIO, default=Decimal("2.00")
    )
    churn_drop_pct = models.PositiveSmallIntegerField(
        _("warn when the last order is below this percent of the usual amount"), default=40
    )
    # The last full run's breakpoints, used by the incremental update between runs.
    breakpoints = models.JSONField(default=dict, blank=True, editable=False)
    computed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("insights settings")
        verbose_name_plural = _("insights settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "InsightsSettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()

    def churn_rule(self) -> ChurnRule:
        return ChurnRule(
            fixed_days=self.churn_days,
            k=float(self.churn_k),
            drop_ratio=self.churn_drop_pct / 100,
        )

    def weights(self) -> dict:
        return {
            "revenue": float(self.weight_revenue),
            "profit": float(self.weight_profit),
            "cost": float(self.weight_cost),
            "years": float(self.weight_years),
        }


class CustomerValue(models.Model):
    """A customer's value figures: RFM, A/B/C, lifecycle, profitability, purchase cycle.

    Recomputed for the one customer at each payment (the event sales emits) and for all by
    the nightly run. `related_name="+"`: a merge does not move it (recomputed instead).
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    purchases = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(**MONEY, default=Decimal("0.00"))
    first_purchase_at = models.DateTimeField(null=True, blank=True)
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    median_gap_days = models.FloatField(null=True, blank=True)
    spread_days = models.FloatField(null=True, blank=True)
    last_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    usual_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    r = models.PositiveSmallIntegerField(null=True, blank=True)
    f = models.PositiveSmallIntegerField(null=True, blank=True)
    m = models.PositiveSmallIntegerField(null=True, blank=True)
    segment = models.CharField(_("RFM segment"), max_length=20, blank=True)
    score = models.FloatField(null=True, blank=True)
    abc = models.CharField(_("value class"), max_length=1, default="C")
    stage = models.CharField(_("lifecycle stage"), max_length=12, default="cultivation")
    interactions = models.PositiveIntegerField(default=0)
    referrals = models.PositiveIntegerField(default=0)
    referral_revenue = models.DecimalField(**MONEY, default=Decimal("0.00"))
    value = models.DecimalField(_("value brought"), **MONEY, default=Decimal("0.00"))
    cost = models.DecimalField(_("cost"), **MONEY, default=Decimal("0.00"))
    churn_rule = models.CharField(max_length=10, blank=True)  # fixed / adaptive / drop
    churn_threshold_days = models.FloatField(null=True, blank=True)
    # When the churn warning is due (last purchase + threshold): the watch scan is a range.
    churn_due_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer value")
        verbose_name_plural = _("customer values")
        indexes = [
            models.Index(fields=["abc", "customer"], name="value_by_abc"),
            models.Index(fields=["segment", "customer"], name="value_by_segment"),
            models.Index(fields=["stage", "customer"], name="value_by_stage"),
            models.Index(fields=["churn_due_at"], name="value_churn_due"),
            models.Index(fields=["-revenue"], name="value_by_revenue"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.abc} {self.segment} {self.stage}"

    @property
    def profit(self) -> Decimal:
        return self.value - self.cost

    def get_segment_display(self) -> str:
        return str(SEGMENT_LABELS.get(self.segment, "—"))

    def get_stage_display(self) -> str:
        return str(STAGES.get(self.stage, self.stage))


class ChurnWarning(models.Model):
    """A customer on the churn watch list, with the rule and figures that put them there.

    One live (open or snoozed) warning per customer at a time (partial unique index); a new
    purchase resolves it; a person may dismiss it or snooze it, with a reason.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SNOOZED = "snoozed", _("Snoozed")
        DISMISSED = "dismissed", _("Dismissed")
        RESOLVED = "resolved", _("Bought again")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=10)  # fixed / adaptive / drop
    days_since = models.PositiveIntegerField()
    usual_gap_days = models.FloatField(null=True, blank=True)
    threshold_days = models.FloatField()
    last_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    usual_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    last_purchase_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("reason"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("churn warning")
        verbose_name_plural = _("churn warnings")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["open", "snoozed"]),
                name="one_live_churn_warning_per_customer",
            )
        ]
        indexes = [models.Index(fields=["status", "-created_at"], name="churn_watch_list")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.rule} {self.days_since}"

    def reason(self) -> str:
        """The reason in words, in the reader's language."""
        from django.utils.translation import gettext as _

        if self.rule == "adaptive":
            return _("Usually buys every %(gap)s days; %(days)s days since the last order.") % {
                "gap": round(self.usual_gap_days or 0),
                "days": self.days_since,
            }
        if self.rule == "drop":
            return _("Usually spends ¥%(usual)s per order; the last order was ¥%(last)s.") % {
                "usual": f"{self.usual_amount:,.2f}",
                "last": f"{self.last_amount:,.2f}",
            }
        return _("%(days)s days without a purchase (warning after %(limit)s).") % {
            "days": self.days_since,
            "limit": round(self.threshold_days),
        }


class ProductPair(models.Model):
    """Co-purchase: of the `buyers_a` customers who bought product A, `together` also bought
    product B. Rebuilt by the nightly run; read by the recommendations."""

    product_a = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")
    product_b = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")
    together = models.PositiveIntegerField()
    buyers_a = models.PositiveIntegerField()
    confidence = models.FloatField()  # together / buyers_a

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product_a", "product_b"], name="one_pair_per_products")
        ]
        indexes = [models.Index(fields=["product_a", "-confidence"], name="pair_best_first")]

    def __str__(self) -> str:
        return f"{self.product_a_id}→{self.product_b_id}: {self.together}/{self.buyers_a}"
