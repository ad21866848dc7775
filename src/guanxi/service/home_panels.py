"""The service app's home panel: the agent's open tickets, the late ones in their scope
and their return visits due."""

from django.db.models import Count, Q
from django.utils import timezone

from guanxi.core.home import HomePanel, register_home_panel
from guanxi.core.models import User

from .models import OPEN_STATUSES, ReturnVisit, Ticket
from .permissions import has_service_home, is_agent


def my_service(user: User) -> dict | None:
    if not has_service_home(user):
        return None
    visits = ReturnVisit.objects.filter(assignee=user, done_at__isnull=True).count()
    figures = {"mine": 0, "late": 0}
    if is_agent(user):
        figures = Ticket.objects.filter(assignee=user, status__in=OPEN_STATUSES).aggregate(
            mine=Count("id"),
            late=Count("id", filter=Q(response_breached=True) | Q(resolution_breached=True)),
        )
    elif not visits:
        return None
    return {**figures, "visits": visits, "now": timezone.now()}


def register() -> None:
    register_home_panel(
        HomePanel("service.my_service", "service/panels/my_service.html", my_service, 60)
    )
