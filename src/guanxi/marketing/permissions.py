"""Who may do what in marketing. Used by services, views and templates alike."""

from django.db.models import Q

from guanxi.core.models import Role, User

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
    units = set(user.branch_unit_ids) | set(user.managed_unit_ids)
    return Q(**{f"{prefix}__in": sorted(units)})


def sees_sensitive_export(user: User) -> bool:
    """Without a grant, exports never carry phones or ID numbers (SPEC Roles, C7)."""
    return user.is_admin
