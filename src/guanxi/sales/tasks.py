from django_tasks import task

from .services import overdue_scan


@task()
def scan_overdue_instalments() -> dict:
    """Hourly: reminder notices (催款通知) for overdue instalments; default after 2 months."""
    return overdue_scan()
