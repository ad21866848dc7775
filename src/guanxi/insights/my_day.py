"""Insights' section of the salesperson's "my day" page (interactions' registry): the next
best action for each of the customers that call for work first."""

from guanxi.core.models import Role, User
from guanxi.interactions.my_day_sections import MyDaySection, register_my_day_section

from .selectors import next_best_actions

LIMIT = 5


def next_actions_section(user: User) -> dict | None:
    if not (user.is_admin or user.has_role(Role.SALES, Role.MANAGER)):
        return None
    return {"actions": next_best_actions(user=user, limit=LIMIT)}


def register() -> None:
    register_my_day_section(
        MyDaySection(
            "insights.next_actions", "insights/my_day/next_actions.html", next_actions_section, 50
        )
    )
