"""Home panels of the sales office: the receptionist's day at the desk and the manager's
open ownership disputes."""

from django.db.models import Count, Q
from django.utils import timezone

from guanxi.core.home import HomePanel, register_home_panel
from guanxi.core.models import User

from .models import Visit
from .permissions import reads_disputes, works_the_desk
from .selectors import desk_state, open_disputes, visits_on


def desk_today(user: User) -> dict | None:
    if not works_the_desk(user) or user.org_unit is None:
        return None
    branch = user.org_unit.branch()
    today = visits_on(branch, timezone.localdate())
    counts = today.aggregate(
        visits=Count("id", filter=Q(kind=Visit.Kind.VISIT)),
        calls=Count("id", filter=Q(kind=Visit.Kind.CALL)),
        waiting=Count("id", filter=Q(state=Visit.State.WAITING)),
    )
    state = desk_state(branch)
    return {
        "branch": branch,
        **counts,
        "next_up": state.next_up,
        "after": state.after,
        "has_roster": state.roster is not None,
        "waiting_visits": list(today.filter(state=Visit.State.WAITING)[:8]),
    }


def disputes_waiting(user: User) -> dict | None:
    if not reads_disputes(user):
        return None
    disputes = open_disputes(user)
    return {"count": disputes.count(), "disputes": list(disputes.order_by("-id")[:5])}


def register() -> None:
    register_home_panel(HomePanel("reception.desk", "reception/panels/desk.html", desk_today, 15))
    register_home_panel(
        HomePanel("reception.disputes", "reception/panels/disputes.html", disputes_waiting, 50)
    )
