"""Who may do what with customers beyond seeing and editing one.

Seeing a customer, editing it, revealing its contacts and reading it unmasked are
`guanxi.core.visibility`'s rules (the one place of visibility and masking); the rules here
build on them and on `guanxi.core.permissions` for the unit checks.
"""

from guanxi.core.models import Role, User
from guanxi.core.permissions import has_any_role, in_branch, manages_some_unit, manages_unit


def can_reassign_in_bulk(actor: User) -> bool:
    return manages_some_unit(actor)


def can_change_in_bulk(actor: User) -> bool:
    """Tag, share or archive a selection: managers, and salespeople on their own customers."""
    return manages_some_unit(actor) or actor.has_role(Role.SALES)


def can_choose_owner(actor: User) -> bool:
    """Whoever registers customers for others picks the owner when creating one."""
    return has_any_role(actor, Role.MANAGER, Role.RECEPTIONIST)


def owns_what_they_create(actor: User) -> bool:
    """A salesperson who creates a customer without naming an owner owns it."""
    return actor.has_role(Role.SALES)


def may_own_customers(user: User) -> bool:
    return user.is_active and user.has_role(Role.SALES, Role.MANAGER)


def may_receive_shares(user: User) -> bool:
    return user.is_active and user.has_role(Role.SALES)


def can_assign_to(actor: User, owner: User) -> bool:
    """Managers assign to the people of their units, the desk to those of its branch."""
    return manages_unit(actor, owner.org_unit_id) or (
        actor.has_role(Role.RECEPTIONIST) and in_branch(actor, owner.org_unit_id)
    )


def owner_units(actor: User) -> frozenset[int] | None:
    """Whose people `actor` may name as a new customer's owner; None: anyone (admins)."""
    if actor.is_admin:
        return None
    return actor.managed_unit_ids | actor.branch_unit_ids


def colleague_units(actor: User) -> frozenset[int] | None:
    """Whom a selection may be assigned to or shared with from the list; None: anyone."""
    if actor.is_admin:
        return None
    units = set(actor.managed_unit_ids)
    if actor.org_unit_id is not None:
        units.add(actor.org_unit_id)
    return frozenset(units)


def filters_by_owner_and_unit(user: User) -> bool:
    """Managers filter the list by owner and unit; a salesperson's list is theirs already."""
    return manages_some_unit(user)
