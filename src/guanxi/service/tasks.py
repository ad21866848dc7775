"""Background work of the service app (django-tasks, enqueued by `guanxi scheduler`)."""

from django_tasks import task

from .services import sla_scan


@task()
def scan_sla():
    """Warnings before and escalations after SLA deadlines; idempotent (services.sla_scan)."""
    return sla_scan()
