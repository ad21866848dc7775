from django_tasks import task

from .services import points_expire_due
from .tiers import tiers_review


@task()
def expire_points() -> int:
    """Hourly: lots past their date lose what remains, earliest first (idempotent)."""
    return points_expire_due()


@task()
def review_tiers() -> dict:
    """Nightly: tiers whose period ended are kept (保级) or drop one level (idempotent)."""
    return tiers_review()
