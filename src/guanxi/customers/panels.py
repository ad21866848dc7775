"""The customers app's home panel: the newest customers the reader may see."""

from guanxi.core.home import HomePanel, register_home_panel
from guanxi.core.models import User

from .selectors import CustomerFilter, customer_list


def newest_customers(user: User) -> dict | None:
    return {"customers": customer_list(viewer=user, filters=CustomerFilter(), limit=10).items}


def register() -> None:
    register_home_panel(
        HomePanel("customers.newest", "customers/panels/newest.html", newest_customers, 900)
    )
