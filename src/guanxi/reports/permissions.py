"""Who may read which report. What each reader then sees is limited by visibility."""

from guanxi.core.models import Role, User

SALES_READERS = (Role.MANAGER, Role.SALES, Role.FINANCE)


def can_read_sales_reports(user: User) -> bool:
    """Funnel, staff performance, revenue and forecast: the people who sell or count money."""
    return user.is_admin or user.has_role(*SALES_READERS)


def can_read_staff_performance(user: User) -> bool:
    """Colleagues' figures side by side are for managers (a salesperson sees only a row of
    their own, which the visibility filter gives them anyway)."""
    return user.is_admin or user.has_role(Role.MANAGER, Role.SALES)


def can_use_dataset(user: User, name: str) -> bool:
    if name in ("deals", "revenue"):
        return can_read_sales_reports(user)
    return True
