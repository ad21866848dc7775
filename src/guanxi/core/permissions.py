"""Who may act on which unit: the predicates every app's `permissions.py` builds on.

"Admin, or manager of this unit" is written here once. Each domain app keeps its own rules
(who records a payment, who decides a dispute) in its `permissions.py`, built from these;
services, views, API handlers and templates ask those, never the roles directly. A test
(tests/test_permissions_in_one_place.py) fails on a role check written anywhere else.

403 or 404 (docs/decisions/0008-permissions-403-or-404.md): a record the user may not see is
"not found", exactly as a missing one; a page or action their role never has is "not found"
too on the web and 403 on the API, where the route is public knowledge.
"""

from collections.abc import Sequence

from .models import Role, User


def is_admin(user: User) -> bool:
    return user.is_admin


def has_any_role(user: User, *roles: str) -> bool:
    """Admins count as holding every role."""
    return user.is_admin or user.has_role(*roles)


def is_manager(user: User) -> bool:
    return has_any_role(user, Role.MANAGER)


def manages_unit(user: User, unit_id: int | None) -> bool:
    """Admin, or manager of `unit_id` or a unit above it."""
    return user.is_admin or (unit_id is not None and unit_id in user.managed_unit_ids)


def manages_some_unit(user: User) -> bool:
    return user.is_admin or bool(user.managed_unit_ids)


def managed_units(user: User) -> frozenset[int] | None:
    """The units whose people and records `user` manages; None: all (admins)."""
    return None if user.is_admin else user.managed_unit_ids


def in_branch(user: User, unit_id: int | None) -> bool:
    """`unit_id` lies in the branch `user` works at."""
    return unit_id is not None and unit_id in user.branch_unit_ids


def works_in_branch_as(user: User, unit_id: int | None, *roles: str) -> bool:
    """`user` holds one of `roles` and `unit_id` lies in their branch."""
    return user.has_role(*roles) and in_branch(user, unit_id)


def branch_or_managed_units(user: User) -> frozenset[int]:
    return user.managed_unit_ids | user.branch_unit_ids


def navigation(user: User) -> dict[str, bool]:
    """Which menu entries this user's roles open."""
    return {
        "is_admin": user.is_admin,
        "is_manager": is_manager(user),
        "can_audit": is_manager(user),
        "is_desk": has_any_role(user, Role.MANAGER, Role.RECEPTIONIST, Role.SALES),
        "is_receptionist": user.has_role(Role.RECEPTIONIST),
        "is_finance": has_any_role(user, Role.FINANCE),
        "is_service": has_any_role(user, Role.SERVICE, Role.MANAGER, Role.RECEPTIONIST, Role.SALES),
        "is_marketing": has_any_role(user, Role.MARKETER, Role.MANAGER),
    }


def tour_roles(user: User, roles: Sequence[str]) -> list[str]:
    """The roles of `roles` this user holds (the first-login tour has one per role)."""
    return [role for role in roles if user.has_role(role)]
