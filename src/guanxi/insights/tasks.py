from django_tasks import task

from .engine import recompute_all as _recompute_all
from .recommend import rebuild_pairs
from .services import churn_scan


@task()
def recompute_all() -> dict:
    """Nightly: every customer's RFM, A/B/C, lifecycle and cycle from the source records
    (idempotent: the same table however often it runs), then the churn scan."""
    result = _recompute_all()
    result["pairs"] = rebuild_pairs()
    result["churn"] = churn_scan()
    return result


@task()
def scan_churn() -> dict:
    """Hourly: customers whose warning came due since (an index range), snoozes that end."""
    return churn_scan()
