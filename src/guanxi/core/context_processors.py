from .permissions import navigation as nav_flags


def navigation(request):
    """Which menu entries this user's roles open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav": nav_flags(user)}
