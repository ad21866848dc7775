"""Background work of the platform: webhook deliveries and the recovery of lost task rows
(django-tasks)."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks import task

from .webhook_delivery import deliver_due_webhooks_now

# How long a task may run before its row is taken for lost (its worker killed or the machine
# restarted mid-run). Imports run long and keep their own heartbeat on the ImportJob row
# (guanxi.transfer), so their task row gets a generous limit only as a backstop.
TASK_LIMITS = {"guanxi.transfer.tasks.run_import": timedelta(hours=12)}
LOST = "guanxi.core.tasks.WorkerLost"


class WorkerLost(Exception):
    """The worker running a task stopped before finishing it."""


@task()
def deliver_webhooks() -> dict:
    """Send due webhook deliveries; enqueued after each event and every ~30 s (idempotent)."""
    return deliver_due_webhooks_now()


def recover_stale_tasks_now(now=None) -> int:
    """Mark task rows that have been RUNNING past their limit as FAILED; returns how many.

    A worker killed mid-task never writes the outcome, so without this the row would show
    RUNNING forever. Periodic jobs are idempotent and run again at their next period.
    """
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    default = timedelta(seconds=settings.GUANXI_TASK_TIMEOUT_SECONDS)
    running = DBTaskResult.objects.filter(status="RUNNING")
    failed = 0
    for path in set(running.values_list("task_path", flat=True)):
        limit = TASK_LIMITS.get(path, default)
        failed += running.filter(task_path=path, started_at__lt=now - limit).update(
            status="FAILED",
            finished_at=now,
            exception_class_path=LOST,
            traceback=f"{LOST}: still running after {limit}; its worker is taken for lost.\n",
        )
    return failed


@task()
def recover_stale_tasks() -> dict:
    """Every minute (`guanxi scheduler`): no task row stays RUNNING forever."""
    return {"failed": recover_stale_tasks_now()}


def refresh_planner_statistics_now() -> bool:
    """Table statistics for SQLite's query planner; True when they were gathered.

    SQLite keeps none by itself, and without them it may drive a join from the biggest
    table: a manager's pipeline at a million customers walked every customer of the branch
    to find a hundred deals (0.4 s against 11 ms with statistics), and the team's follow-up
    counts took the wrong index (2 – 10 s against 0.1 s). Only a full ANALYZE gives counts
    exact enough for the second choice (a sampled one did not); it reads each index once,
    about 4 s at a million customers, so it runs daily and when the scheduler starts.
    PostgreSQL's autovacuum keeps its own statistics.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True


@task()
def refresh_planner_statistics() -> dict:
    """Daily (`guanxi scheduler`, and once at its start)."""
    return {"analysed": refresh_planner_statistics_now()}
