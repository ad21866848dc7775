"""Core's own home panels: the administrator's system health and the manager's recent
activity in their scope."""

from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .audit_display import describe_entries
from .calendar import unconfirmed_years
from .health import worker_health
from .home import HomePanel, register_home_panel
from .models import User, WebhookDelivery
from .permissions import manages_some_unit
from .selectors import audit_entries_for

# The scheduler enqueues a job at least every minute or so; a queue nobody has taken work
# from for this long means no worker is running.
WORKER_SILENT_AFTER = timedelta(minutes=10)
BACKUP_STALE_AFTER = timedelta(days=1)


def _last_backup() -> float | None:
    folder = Path(settings.VAR_DIR) / "backups"
    stamps = [p.stat().st_mtime for p in folder.glob("guanxi-*")] if folder.is_dir() else []
    return max(stamps, default=None)


def system_health(user: User) -> dict | None:
    if not user.is_admin:
        return None
    now = timezone.now()
    week = now - timedelta(days=7)
    deliveries = WebhookDelivery.objects.filter(created_at__gte=week).aggregate(
        failed=Count("id", filter=Q(status=WebhookDelivery.Status.FAILED)),
        waiting=Count("id", filter=Q(status=WebhookDelivery.Status.PENDING)),
    )
    tasks = DBTaskResult.objects.aggregate(
        last_started=Max("started_at"),
        waiting=Count("id", filter=Q(status="READY", run_after__lte=now)),
    )
    last_started = tasks["last_started"]
    backup_mtime = _last_backup()
    last_backup = (
        datetime.fromtimestamp(backup_mtime, tz=timezone.get_current_timezone())
        if backup_mtime
        else None
    )
    return {
        "failed_webhooks": deliveries["failed"],
        "waiting_webhooks": deliveries["waiting"],
        "worker_last_started": last_started,
        "worker_alive": bool(last_started and now - last_started < WORKER_SILENT_AFTER),
        "tasks_waiting": tasks["waiting"],
        "last_backup": last_backup,
        "backup_stale": last_backup is None or now - last_backup > BACKUP_STALE_AFTER,
        "active_users": User.objects.filter(is_active=True).count(),
    }


def processes(user: User) -> dict | None:
    """The processes `guanxi serve` supervises (None inside: another supervisor runs them)."""
    if not user.is_admin:
        return None
    return {"health": worker_health()}


def recent_activity(user: User) -> dict | None:
    if not manages_some_unit(user):
        return None

    entries = audit_entries_for(user).select_related("actor")[:10]
    return {"entries": describe_entries(entries, viewer=user)}


def business_calendar(user: User) -> dict | None:
    """Administrators: a year of the business calendar that nobody has confirmed yet."""
    if not user.is_admin:
        return None

    warnings = unconfirmed_years()
    return {"warnings": warnings} if warnings else None


def register() -> None:
    register_home_panel(
        HomePanel(
            "core.business_calendar",
            "core/panels/business_calendar.html",
            business_calendar,
            5,
            wide=True,
        )
    )
    register_home_panel(
        HomePanel("core.system_health", "core/panels/system_health.html", system_health, 10)
    )
    register_home_panel(HomePanel("core.processes", "core/_worker_health.html", processes, 11))
    register_home_panel(
        HomePanel("core.recent_activity", "core/panels/recent_activity.html", recent_activity, 800)
    )
