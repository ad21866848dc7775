from .models import Role


def navigation(request):
    """Which menu entries this user's roles open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "is_admin": user.is_admin,
            "is_manager": user.has_role(Role.MANAGER) or user.is_admin,
            "can_audit": user.is_admin or user.has_role(Role.MANAGER),
            "is_desk": user.is_admin or user.has_role(Role.MANAGER, Role.RECEPTIONIST, Role.SALES),
            "is_receptionist": user.has_role(Role.RECEPTIONIST),
            "is_finance": user.is_admin or user.has_role(Role.FINANCE),
            "is_service": user.is_admin
            or user.has_role(Role.SERVICE, Role.MANAGER, Role.RECEPTIONIST, Role.SALES),
            "is_marketing": user.is_admin or user.has_role(Role.MARKETER, Role.MANAGER),
        }
    }
