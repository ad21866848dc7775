"""The churn watch on the home page: a salesperson's own customers slipping away, a
manager's in their units, each with the reason in words."""

from guanxi.core.home import HomePanel, register_home_panel
from guanxi.core.models import User

from .permissions import works_customers
from .services import watch_list


def churn_watch(user: User) -> dict | None:
    if not works_customers(user):
        return None
    warnings = watch_list(viewer=user, limit=6)
    return {"warnings": warnings[:5], "more": len(warnings) > 5}


def register() -> None:
    register_home_panel(HomePanel("insights.churn", "insights/panels/churn.html", churn_watch, 35))
