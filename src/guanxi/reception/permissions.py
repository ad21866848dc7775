"""Who may work the front desk, the rotation, disputes, the pool and a branch's rules."""

from guanxi.core.models import OrgUnit, Role, User
from guanxi.core.permissions import (
    has_any_role,
    in_branch,
    is_manager,
    manages_unit,
    works_in_branch_as,
)

DESK_ROLES = (Role.RECEPTIONIST, Role.MANAGER, Role.SALES)


def uses_desk(actor: User) -> bool:
    """The front desk, salespeople and managers use the rotation."""
    return has_any_role(actor, *DESK_ROLES)


def may_open_branch_desk(actor: User, branch_id: int) -> bool:
    """A desk of the actor's own branch, or one they manage."""
    return manages_unit(actor, branch_id) or in_branch(actor, branch_id)


def can_manage_desk(actor: User, branch: OrgUnit) -> bool:
    """Run the day's roster and assign visitors: the branch's managers and receptionists."""
    return manages_unit(actor, branch.pk) or works_in_branch_as(actor, branch.pk, Role.RECEPTIONIST)


def can_handle_visit(actor: User, visit) -> bool:
    """The desk, and the branch's salespeople (the one called to the visitor takes them)."""
    return can_manage_desk(actor, visit.branch) or works_in_branch_as(
        actor, visit.branch_id, Role.SALES
    )


def can_switch_event_mode(actor: User, roster) -> bool:
    return manages_unit(actor, roster.branch_id)


def can_open_dispute(actor: User, customer, branch: OrgUnit | None = None) -> bool:
    """Who may log a dispute by hand about a customer they see: the desk of the customer's
    branch (a receptionist, a manager, an administrator) and the branch's salespeople (a
    colleague says the customer is theirs); the manager decides it."""
    if customer.org_unit_id is None:
        return False
    branch = branch or customer.org_unit.branch()
    return can_manage_desk(actor, branch) or works_in_branch_as(actor, branch.pk, Role.SALES)


def reads_disputes(actor: User) -> bool:
    return is_manager(actor)


def can_decide_dispute(actor: User, branch_id: int | None) -> bool:
    return manages_unit(actor, branch_id)


def can_redistribute(actor: User) -> bool:
    return is_manager(actor)


def can_redistribute_from(actor: User, person: User) -> bool:
    """Customers move between the people of the units the actor manages."""
    return manages_unit(actor, person.org_unit_id)


def can_claim_from_pool(actor: User) -> bool:
    return actor.has_role(Role.SALES)


def pool_is_within_reach(actor: User, customer) -> bool:
    """A salesperson claims from their own branch's pool only."""
    return in_branch(actor, customer.org_unit_id)


def reads_statistics(actor: User) -> bool:
    return has_any_role(actor, Role.MANAGER, Role.RECEPTIONIST)


def can_change_settings(actor: User, branch_id: int) -> bool:
    return manages_unit(actor, branch_id)


def works_the_desk(user: User) -> bool:
    """The receptionist's home shows today's desk."""
    return user.has_role(Role.RECEPTIONIST)
