"""Home panels of follow-up: a salesperson's work due today, a manager's overdue
follow-ups per person."""

from django.utils import timezone

from guanxi.core.home import HomePanel, register_home_panel
from guanxi.core.models import User

from .models import Promise
from .permissions import can_see_team, has_own_follow_ups
from .selectors import local_day_bounds, team_overview


def my_follow_ups(user: User) -> dict | None:
    if not has_own_follow_ups(user):
        return None
    now = timezone.now()
    start, end = local_day_bounds(timezone.localdate(now))
    mine = user.owned_customers.filter(archived_at__isnull=True, next_follow_up_at__lt=end)
    overdue = mine.filter(next_follow_up_at__lt=start).count()
    due_today = mine.filter(next_follow_up_at__gte=start).count()
    promises = (
        Promise.objects.open()
        .filter(customer__owner=user, customer__archived_at__isnull=True)
        .filter(due_date__lte=timezone.localdate(now))
        .count()
    )
    return {
        "overdue": overdue,
        "due_today": due_today,
        "promises_due": promises,
        "next": list(
            mine.order_by("next_follow_up_at").only("id", "name", "next_follow_up_at")[:8]
        ),
        "start": start,
    }


def team_follow_ups(user: User) -> dict | None:
    if not can_see_team(user):
        return None
    rows = sorted(team_overview(manager=user), key=lambda r: (-r.overdue, -r.due_today))
    return {
        "rows": rows[:10],
        "overdue": sum(r.overdue for r in rows),
        "chart": {
            "names": [str(r.user) for r in rows[:10]],
            "overdue": [r.overdue for r in rows[:10]],
            "due": [r.due_today for r in rows[:10]],
        },
    }


def register() -> None:
    register_home_panel(
        HomePanel("interactions.mine", "interactions/panels/mine.html", my_follow_ups, 20)
    )
    register_home_panel(
        HomePanel("interactions.team", "interactions/panels/team.html", team_follow_ups, 40)
    )
