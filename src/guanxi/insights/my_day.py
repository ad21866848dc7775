"""Insights' section of the salesperson's "my day" page (interactions' registry): the next
best action for each of the customers that call for work first."""

from guanxi.core.models import User
from guanxi.interactions.my_day_sections import MyDaySection, register_my_day_section

from .permissions import works_customers
from .selectors import next_best_actions

LIMIT = 5


def next_actions_section(user: User) -> dict | None:
    if not works_customers(user):
        return None
    return {"actions": next_best_actions(user=user, limit=LIMIT)}


def register() -> None:
    register_my_day_section(
        MyDaySection(
            "insights.next_actions", "insights/my_day/next_actions.html", next_actions_section, 50
        )
    )
