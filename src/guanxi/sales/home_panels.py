"""Home panels of sales: the pipeline by stage, the manager's approvals, the finance desk."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from guanxi.core.home import HomePanel, register_home_panel
from guanxi.core.models import User
from guanxi.core.visibility import customer_visibility_q

from .models import Deal, Instalment, Payment, PipelineStage
from .permissions import has_pipeline, manages_sales, reads_finance_desk, sees_team_pipeline
from .selectors import pending_changes, pending_quotes

CENT = Decimal("0.01")


def _money(value) -> Decimal:
    """SQLite sums decimals as floats: back to the cent."""
    return Decimal(value or 0).quantize(CENT)


def pipeline(user: User) -> dict | None:
    """A salesperson's own deals by stage; a manager's (or admin's) visible ones."""
    if not has_pipeline(user):
        return None
    manager = sees_team_pipeline(user)
    deals = Deal.objects.visible_to(user)
    if not manager:
        deals = deals.filter(owner=user)
    totals = {
        row["stage"]: row
        for row in deals.values("stage").annotate(n=Count("id"), s=Sum("amount")).order_by()
    }
    stages = [
        {
            "code": stage.code,
            "label": str(stage),
            "count": totals.get(stage.code, {}).get("n", 0),
            "amount": _money(totals.get(stage.code, {}).get("s")),
        }
        for stage in PipelineStage.objects.filter(active=True).order_by("position")
    ]
    return {
        "mine": not manager,
        "stages": stages,
        "open_amount": sum(
            (s["amount"] for s in stages if s["code"] not in ("lost", "paid", "delivered")),
            Decimal("0.00"),
        ),
        "chart": {
            "labels": [s["label"] for s in stages],
            "counts": [s["count"] for s in stages],
            "links": ["/sales/" for _ in stages],
        },
    }


def approvals(user: User) -> dict | None:
    if not manages_sales(user):
        return None
    return {"quotes": pending_quotes(user).count(), "changes": pending_changes(user).count()}


def finance_desk(user: User) -> dict | None:
    if not reads_finance_desk(user):
        return None
    today = timezone.localdate()
    start = datetime.combine(today, time.min, tzinfo=timezone.get_current_timezone())
    # Visibility on the rows' own customer, not "deal IN (visible deals)": an administrator's
    # filter is then empty and the queries read the date indexes alone.
    visible = Deal.objects.visible_to(user)
    instalments = Instalment.objects.filter(customer_visibility_q(user, "deal__customer__"))
    receipts = (
        Payment.objects.filter(customer_visibility_q(user, "customer__"))
        .filter(received_at__gte=start, received_at__lt=start + timedelta(days=1))
        .aggregate(n=Count("id"), s=Sum("amount"))
    )
    overdue = instalments.filter(status=Instalment.Status.DUE, due_date__lt=today)
    overdue_totals = overdue.aggregate(n=Count("id"), s=Sum("amount"), paid=Sum("paid_amount"))
    return {
        "receipts_count": receipts["n"],
        "receipts_amount": _money(receipts["s"]),
        "overdue_count": overdue_totals["n"],
        "overdue_amount": _money(overdue_totals["s"]) - _money(overdue_totals["paid"]),
        "in_default": visible.filter(in_default=True).count(),
        "oldest": list(overdue.select_related("deal__customer").order_by("due_date", "id")[:5]),
        "due_this_week": instalments.filter(
            status=Instalment.Status.DUE,
            due_date__gte=today,
            due_date__lt=today + timedelta(days=7),
        )
        .filter(~Q(deal__stage="lost"))
        .count(),
    }


def register() -> None:
    register_home_panel(HomePanel("sales.pipeline", "sales/panels/pipeline.html", pipeline, 30))
    register_home_panel(HomePanel("sales.approvals", "sales/panels/approvals.html", approvals, 45))
    register_home_panel(HomePanel("sales.finance", "sales/panels/finance.html", finance_desk, 12))
