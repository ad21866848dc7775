"""Who may log contacts, keep promises and read the team's follow-up."""

from guanxi.core.models import Role, User
from guanxi.core.permissions import has_any_role, is_manager
from guanxi.core.visibility import manages

# Everyone who talks to customers logs it (the marketer works on segments, not calls).
LOGGING_ROLES = (Role.SALES, Role.MANAGER, Role.RECEPTIONIST, Role.SERVICE, Role.FINANCE)


def can_log_contact(actor: User) -> bool:
    return has_any_role(actor, *LOGGING_ROLES)


def can_keep_promise(actor: User, promise, customer) -> bool:
    """Who may mark a promise kept: whoever made it, the customer's owner, a manager of the
    customer's unit, an administrator. Seeing the customer (shared, reception…) is not enough."""
    return actor.is_active and (
        promise.made_by_id == actor.id or customer.owner_id == actor.id or manages(actor, customer)
    )


def has_own_follow_ups(user: User) -> bool:
    """Salespeople have customers of their own to follow up."""
    return user.has_role(Role.SALES)


def can_see_team(user: User) -> bool:
    return is_manager(user)
