"""The ready-made sales reports: funnel with conversion and cycle times, staff performance,
and the forecast. Every figure counts only the reader's deals (Deal.objects.visible_to):
a salesperson's report covers their customers, a manager's their units."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from guanxi.core.models import User
from guanxi.sales.models import OPEN_STAGES, Deal, DealEvent, Payment, PipelineStage

CENT = Decimal("0.01")
WON_STAGES = ("contract", "paid", "delivered")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


@dataclass
class FunnelStep:
    code: str
    label: str
    reached: int
    conversion: float | None  # share of the previous step's deals that reached this one
    avg_days: float | None  # mean days from opening the deal to reaching this stage


def funnel(*, viewer: User, start: date, end: date) -> list[FunnelStep]:
    """Deals opened in [start, end]: how many reached each stage (a deal that skipped a stage
    counts as having passed it), the step-to-step conversion, and the time it took."""
    stages = [s for s in PipelineStage.objects.filter(active=True).order_by("position")]
    stages = [s for s in stages if s.code != "lost"]
    position = {s.code: i for i, s in enumerate(stages)}
    deals = Deal.objects.visible_to(viewer).filter(
        created_at__gte=_start_of(start), created_at__lt=_start_of(end + timedelta(days=1))
    )
    furthest: dict[int, int] = {}
    opened: dict[int, datetime] = {}
    for pk, stage, created in deals.values_list("pk", "stage", "created_at"):
        furthest[pk] = position.get(stage, 0)
        opened[pk] = created
    first_reached: dict[tuple[int, str], datetime] = {}
    events = DealEvent.objects.filter(deal__in=deals, kind="stage").values_list(
        "deal_id", "to_stage", "at"
    )
    for deal_id, to_stage, at in events:
        if to_stage in position:
            furthest[deal_id] = max(furthest.get(deal_id, 0), position[to_stage])
            key = (deal_id, to_stage)
            if key not in first_reached or at < first_reached[key]:
                first_reached[key] = at
    steps = []
    previous = None
    for index, stage in enumerate(stages):
        reached = sum(1 for far in furthest.values() if far >= index)
        durations = [
            (at - opened[deal_id]).total_seconds() / 86400
            for (deal_id, code), at in first_reached.items()
            if code == stage.code and deal_id in opened
        ]
        steps.append(
            FunnelStep(
                stage.code,
                str(stage),
                reached,
                round(reached / previous, 3) if previous else None,
                round(sum(durations) / len(durations), 1) if durations else None,
            )
        )
        previous = reached
    return steps


@dataclass
class StaffRow:
    user_id: int
    name: str
    opened: int
    won: int
    lost: int
    revenue: Decimal
    avg_cycle_days: float | None

    @property
    def success_rate(self) -> float | None:
        decided = self.won + self.lost
        return round(self.won / decided, 3) if decided else None


def staff_performance(*, viewer: User, start: date, end: date) -> list[StaffRow]:
    """Per salesperson: deals opened, won (contract or beyond) and lost in the period, their
    success rate, mean cycle from opening to closing, and payments received."""
    lo, hi = _start_of(start), _start_of(end + timedelta(days=1))
    deals = Deal.objects.visible_to(viewer)
    rows: dict[int, dict] = defaultdict(
        lambda: {"opened": 0, "won": 0, "lost": 0, "revenue": Decimal("0"), "cycles": []}
    )
    names: dict[int, str] = {}
    for row in (
        deals.filter(created_at__gte=lo, created_at__lt=hi)
        .values("owner_id", "owner__display_name", "owner__username")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows[row["owner_id"]]["opened"] = row["n"]
        names[row["owner_id"]] = row["owner__display_name"] or row["owner__username"]
    closed = deals.filter(closed_at__gte=lo, closed_at__lt=hi).values_list(
        "owner_id", "owner__display_name", "owner__username", "stage", "created_at", "closed_at"
    )
    for owner_id, display, username, stage, created, closed_at in closed:
        names[owner_id] = display or username
        if stage == "lost":
            rows[owner_id]["lost"] += 1
        elif stage in WON_STAGES:
            rows[owner_id]["won"] += 1
            rows[owner_id]["cycles"].append((closed_at - created).total_seconds() / 86400)
    for row in (
        Payment.objects.filter(deal__in=deals, received_at__gte=lo, received_at__lt=hi)
        .values("deal__owner_id", "deal__owner__display_name", "deal__owner__username")
        .annotate(s=Sum("amount"))
        .order_by()
    ):
        owner_id = row["deal__owner_id"]
        rows[owner_id]["revenue"] = _money(row["s"])
        names[owner_id] = row["deal__owner__display_name"] or row["deal__owner__username"]
    result = [
        StaffRow(
            owner_id,
            names.get(owner_id, str(owner_id)),
            data["opened"],
            data["won"],
            data["lost"],
            _money(data["revenue"]),
            round(sum(data["cycles"]) / len(data["cycles"]), 1) if data["cycles"] else None,
        )
        for owner_id, data in rows.items()
    ]
    return sorted(result, key=lambda r: (-r.revenue, r.name))


@dataclass
class ForecastMonth:
    month: date
    weighted: Decimal  # open deals expected to close that month × their stage's probability
    trend: Decimal  # what the recent months' receipts say
    actual: Decimal | None  # receipts so far (past and current months)


def _month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def forecast(*, viewer: User, today: date | None = None, history: int = 6) -> list[ForecastMonth]:
    """The last `history` months' receipts beside the next three months' forecast: the
    weighted pipeline (stage probability, editable in the pipeline settings) and the trend
    (a straight line through the monthly receipts)."""
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    first = _month_add(this_month, -history)
    deals = Deal.objects.visible_to(viewer)
    receipts = {
        timezone.localtime(row["m"]).date().replace(day=1)
        if isinstance(row["m"], datetime)
        else row["m"]: _money(row["s"])
        for row in Payment.objects.filter(deal__in=deals, received_at__gte=_start_of(first))
        .annotate(m=TruncMonth("received_at"))
        .values("m")
        .annotate(s=Sum("amount"))
        .order_by()
    }
    probability = dict(PipelineStage.objects.values_list("code", "probability"))
    weighted: dict[date, Decimal] = defaultdict(lambda: Decimal("0"))
    for stage, expected, amount in deals.filter(
        stage__in=OPEN_STAGES, expected_close__gte=this_month
    ).values_list("stage", "expected_close", "amount"):
        weighted[expected.replace(day=1)] += amount * probability.get(stage, 0) / 100
    past = [receipts.get(_month_add(first, i), Decimal("0")) for i in range(history)]
    slope, intercept = _line(past)
    months = []
    for offset in range(-history, 4):
        month = _month_add(this_month, offset)
        x = history + offset
        months.append(
            ForecastMonth(
                month,
                _money(weighted.get(month)),
                _money(max(Decimal(0), Decimal(str(intercept + slope * x)))),
                receipts.get(month, Decimal("0.00")) if offset <= 0 else None,
            )
        )
    return months


def _line(values: list[Decimal]) -> tuple[float, float]:
    """Least squares through (0, v0), (1, v1), …"""
    n = len(values)
    if n < 2:
        return 0.0, float(values[0]) if values else 0.0
    xs = range(n)
    mean_x = (n - 1) / 2
    mean_y = sum(float(v) for v in values) / n
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (float(v) - mean_y) for x, v in zip(xs, values, strict=True)) / var
    return slope, mean_y - slope * mean_x
