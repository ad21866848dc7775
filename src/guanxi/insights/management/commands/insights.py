"""`guanxi insights recompute | pairs | churn-scan | precision [--days-ago N] [--horizon N]`."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from guanxi.insights import engine, recommend, services


class Command(BaseCommand):
    help = "Recompute customer value, co-purchase pairs, scan churn, or measure its precision."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["recompute", "pairs", "churn-scan", "precision"])
        parser.add_argument("--days-ago", type=int, default=180)
        parser.add_argument("--horizon", type=int, default=120)

    def handle(self, *args, action: str, days_ago: int, horizon: int, **options):
        if action == "recompute":
            result = engine.recompute_all()
        elif action == "pairs":
            result = {"pairs": recommend.rebuild_pairs()}
        elif action == "churn-scan":
            result = services.churn_scan()
        else:
            as_of = timezone.now() - timedelta(days=days_ago)
            result = engine.churn_backtest(as_of=as_of, horizon_days=horizon)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
