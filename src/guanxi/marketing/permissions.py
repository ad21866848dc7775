"""Who may do what in marketing. Used by services, views and templates alike."""

from django.db.models import Q

from guanxi.core.models import Role, User
from guanxi.core.permissions import branch_or_managed_units, has_any_role, manages_unit

MARKETING_ROLES = (Role.MARKETER, Role.MANAGER)


def can_market(user: User) -> bool:
    """Marketers and managers build segments and run campaigns; admins everything."""
    return user.is_active and (user.is_admin or user.has_role(*MARKETING_ROLES))


def can_grant_export(user: User) -> bool:
    return user.is_active and (user.is_admin or user.has_role(Role.MANAGER))


def unit_scope_q(user: User, prefix: str = "org_unit_id") -> Q:
    """Segments and campaigns of the user's branch or of the units they manage."""
    if user.is_admin:
        return Q()
    return Q(**{f"{prefix}__in": sorted(branch_or_managed_units(user))})


def sees_sensitive_export(user: User) -> bool:
    """Without a grant, exports never carry phones or ID numbers (SPEC Roles, C7)."""
    return user.is_admin


def may_use_unit(user: User, unit_id: int) -> bool:
    """A segment or campaign belongs to the user's branch or to a unit they manage."""
    return manages_unit(user, unit_id) or unit_id in branch_or_managed_units(user)


def takes_leads(user: User) -> bool:
    """A lead form's intake is a receptionist or a manager (they answer web requests)."""
    return has_any_role(user, Role.RECEPTIONIST, Role.MANAGER)


def desk_units(user: User) -> frozenset[int] | None:
    """Whose receptionists may take a form's leads; None: any (admins)."""
    return None if user.is_admin else user.branch_unit_ids
