"""Who may serve a member's points and who reverses them."""

from guanxi.core.models import Role, User
from guanxi.core.permissions import has_any_role
from guanxi.core.visibility import can_edit


def may_serve_member(actor: User, customer) -> bool:
    """Earn and redeem at the counter: whoever may edit the customer, and the desk, finance
    and service of the branches that see them."""
    return can_edit(actor, customer) or actor.has_role(
        Role.RECEPTIONIST, Role.FINANCE, Role.SERVICE
    )


def can_refund_points(actor: User) -> bool:
    return has_any_role(actor, Role.FINANCE, Role.MANAGER)
