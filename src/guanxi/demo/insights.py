"""Demo: two years of orders for some demo customers (sales' generator), then the full
value run, the co-purchase pairs and the churn scan, so every view shows something."""

from guanxi.core.models import Role, User
from guanxi.customers.models import Customer
from guanxi.insights.engine import recompute_all
from guanxi.insights.recommend import rebuild_pairs
from guanxi.insights.services import churn_scan
from guanxi.sales.models import Payment

from .history import demo_order_history


def demo_insights(*, customers: int = 600) -> dict:
    if Payment.objects.filter(receipt_number__startswith="R-DEMO").exists():
        return {}
    finance = User.objects.filter(roles__role=Role.FINANCE).first() or User.objects.first()
    if finance is None:
        return {}
    chosen = list(Customer.objects.filter(archived_at__isnull=True).order_by("id")[:customers])
    demo_order_history(customers=chosen, actor=finance)
    result = recompute_all()
    result["pairs"] = rebuild_pairs()
    result["churn"] = churn_scan()
    return result
