"""Who reads the churn watch and next actions, and who decides on a warning."""

from guanxi.core.models import Role, User
from guanxi.core.permissions import has_any_role, in_branch
from guanxi.core.visibility import can_edit


def works_customers(user: User) -> bool:
    """Salespeople and managers get the churn watch and the next best actions."""
    return has_any_role(user, Role.SALES, Role.MANAGER)


def can_decide_warning(actor: User, customer) -> bool:
    """Dismiss or snooze: the owner, a manager over the customer, service."""
    return can_edit(actor, customer) or actor.has_role(Role.SERVICE)


def serves_unit(agent: User, unit_id: int) -> bool:
    """A service agent hears of the churn of customers in their branch."""
    return in_branch(agent, unit_id)
