"""The rules of customer value (C6), as pure functions of a customer's purchase history.

- RFM: recency, frequency and monetary value scored 1–5 by quintile breakpoints of the
  last full run; each score is "high" from `high_from`; the three highs and lows make the
  eight named segments (重要价值客户 …).
- A/B/C: a weighted score of revenue, profit, cost (negative) and years of relationship,
  each scaled by the full run's median (x / (x + median), so one huge buyer does not
  flatten everyone else); A and B are the top shares of the last full run's scores.
- Churn threshold: the fixed 113 days (configurable) while a customer has fewer than
  three purchases; after that their own cycle: median gap + k × spread, where the spread
  is the median absolute deviation of the gaps, at least half the median gap (a customer
  who buys every 30 days like clockwork is warned at about 60 days, not at 31).
- Lifecycle: 培育 no purchase yet · 确认 one purchase · 信任 repeat purchases within their
  cycle · 弱化 past their threshold (or spending sharply less) · 消失 past `loss_factor`
  times their threshold.
"""

from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from statistics import median

from django.utils.translation import gettext_lazy as _

SEGMENTS = {
    # (R high, F high, M high): code, label
    (True, True, True): ("important_value", _("Important value (重要价值客户)")),
    (True, False, True): ("important_develop", _("Important to develop (重要发展客户)")),
    (False, True, True): ("important_keep", _("Important to keep (重要保持客户)")),
    (False, False, True): ("important_winback", _("Important to win back (重要挽留客户)")),
    (True, True, False): ("general_value", _("General value (一般价值客户)")),
    (True, False, False): ("general_develop", _("General to develop (一般发展客户)")),
    (False, True, False): ("general_keep", _("General to keep (一般保持客户)")),
    (False, False, False): ("general_winback", _("General to win back (一般挽留客户)")),
}
SEGMENT_LABELS = {code: label for code, label in SEGMENTS.values()}

STAGES = {
    "cultivation": _("Cultivation (培育)"),
    "confirmation": _("Confirmation (确认)"),
    "trust": _("Trust (信任)"),
    "weakening": _("Weakening (弱化)"),
    "loss": _("Loss (消失)"),
}
# The work each stage calls for (the seeds' 客户关系生命周期: what to do in each phase).
NEXT_ACTIONS = {
    "cultivation": _(
        "Build the relationship: invite them to visit or to an event, send what "
        "they asked about, and make the first offer."
    ),
    "confirmation": _(
        "Return visit (回访) after the first purchase: ask how it went and offer what goes with it."
    ),
    "trust": _("Reward the loyalty: tier benefits, early offers, ask for a referral."),
    "weakening": _(
        "Find out what displeased them (call or visit) and remove it to win back their trust."
    ),
    "loss": _("Ask why they left and part on good terms; a win-back offer if worth it."),
}


@dataclass(slots=True, frozen=True)
class History:
    """What the rules need of one customer's purchases, oldest first."""

    count: int
    revenue: Decimal
    first_at: float | None  # epoch seconds
    last_at: float | None
    median_gap: float | None  # days
    spread: float | None  # days
    last_amount: Decimal
    usual_amount: Decimal  # median of the earlier purchases


DAY = 86400.0


NO_HISTORY = History(0, Decimal(0), None, None, None, None, Decimal(0), Decimal(0))


def history_of(purchases: list[tuple[float, Decimal]]) -> History:
    """`purchases`: (epoch seconds, amount) oldest first."""
    if not purchases:
        return NO_HISTORY
    times = [t for t, _a in purchases]
    amounts = [a for _t, a in purchases]
    gaps = [(b - a) / DAY for a, b in pairwise(times)]
    mid = median(gaps) if gaps else None
    spread = median(abs(g - mid) for g in gaps) if gaps and mid is not None else None
    return History(
        count=len(purchases),
        revenue=sum(amounts, Decimal(0)),
        first_at=times[0],
        last_at=times[-1],
        median_gap=mid,
        spread=spread,
        last_amount=amounts[-1],
        usual_amount=median(amounts[:-1]) if len(amounts) > 1 else amounts[-1],
    )


@dataclass
class ChurnRule:
    fixed_days: int = 113
    k: float = 2.0
    min_purchases: int = 3  # the adaptive rule from this many purchases
    min_spread_ratio: float = 0.5
    drop_ratio: float = 0.4  # the last purchase below this share of the usual amount
    loss_factor: float = 2.0


def churn_threshold(h: History, rule: ChurnRule) -> tuple[float, str]:
    """Days without a purchase after which this customer is warned, and which rule says so."""
    if h.count < rule.min_purchases or h.median_gap is None:
        return float(rule.fixed_days), "fixed"
    spread = max(h.spread or 0.0, h.median_gap * rule.min_spread_ratio)
    return h.median_gap + rule.k * spread, "adaptive"


def amount_dropped(h: History, rule: ChurnRule) -> bool:
    return (
        h.count >= rule.min_purchases + 1
        and h.usual_amount > 0
        and h.last_amount < h.usual_amount * Decimal(str(rule.drop_ratio))
    )


def lifecycle_stage(h: History, days_since: float | None, rule: ChurnRule) -> str:
    if h.count == 0 or days_since is None:
        return "cultivation"
    threshold, _kind = churn_threshold(h, rule)
    if days_since > threshold * rule.loss_factor:
        return "loss"
    if days_since > threshold or amount_dropped(h, rule):
        return "weakening"
    return "confirmation" if h.count == 1 else "trust"


def quintile_breaks(values: list[float]) -> list[float]:
    """The 20/40/60/80 % points of `values` (sorted here)."""
    if not values:
        return []
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[min(n - 1, int(n * q / 5))] for q in range(1, 5)]


def score_high_better(value: float, breaks: list[float]) -> int:
    return 1 + bisect_left(breaks, value) if breaks else 3


def score_low_better(value: float, breaks: list[float]) -> int:
    return 5 - bisect_left(breaks, value) if breaks else 3


def rfm_segment(r: int, f: int, m: int, high_from: int = 3) -> str:
    return SEGMENTS[(r >= high_from, f >= high_from, m >= high_from)][0]


def scaled(value: float, median_value: float) -> float:
    if value <= 0:
        return 0.0
    return value / (value + median_value) if median_value > 0 else 1.0


def value_score(
    *, revenue: float, profit: float, cost: float, years: float, weights: dict, medians: dict
) -> float:
    return (
        weights["revenue"] * scaled(revenue, medians.get("revenue", 0))
        + weights["profit"] * scaled(profit, medians.get("profit", 0))
        - weights["cost"] * scaled(cost, medians.get("cost", 0))
        + weights["years"] * scaled(years, medians.get("years", 0))
    )


NO_CUT = 2.0  # above any score (scores are below 1): nobody is A or B before a full run


def abc_cuts(scores: list[float], a_share: float, b_share: float) -> tuple[float, float]:
    """The lowest score still A, and still B: the top `a_share` and next `b_share` (0–1)."""
    if not scores:
        return (NO_CUT, NO_CUT)
    ordered = sorted(scores, reverse=True)
    n = len(ordered)
    a = max(1, round(n * a_share))
    b = max(a, round(n * (a_share + b_share)))
    return ordered[a - 1], ordered[min(b, n) - 1]


def abc_class(score: float | None, cuts: tuple[float, float]) -> str:
    if score is None:
        return "C"
    if score >= cuts[0]:
        return "A"
    return "B" if score >= cuts[1] else "C"
