from django_tasks import task

from .services import pool_sweep


@task()
def sweep_public_pool() -> int:
    """Hourly: lapsed and orphaned customers return to their branch's pool (idempotent)."""
    return pool_sweep()
