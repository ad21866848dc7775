"""Users, roles and API tokens: administered here, audited, never deleted."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_record
from .errors import FieldError, Forbidden, NotFound, ValidationFailed
from .login_throttle import unlock
from .models import ApiToken, OrgUnit, Role, User, UserRole, hash_token


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Only an administrator may manage users."))


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationFailed.single("roles", "invalid_choice", _("Unknown role: %s") % unknown[0])
    return sorted(set(roles))


def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    display_name: str,
    org_unit: OrgUnit | None,
    roles: list[str],
    email: str = "",
) -> User:
    _require_admin(actor)
    roles = _check_roles(roles)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed.single("username", "duplicate", _("This username is taken."))
    user = User(username=username, display_name=display_name, org_unit=org_unit, email=email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            [FieldError("password", "weak_password", m) for m in exc.messages]
        ) from exc
    user.set_password(password)
    with transaction.atomic():
        user.save()
        UserRole.objects.bulk_create(UserRole(user=user, role=r) for r in roles)
        audit_record(
            actor=actor,
            verb="user.create",
            target=user,
            changes={"roles": [None, roles], "org_unit": [None, str(org_unit or "")]},
        )
    return user


def user_update(
    *,
    actor: User,
    user_id: int,
    display_name: str,
    org_unit: OrgUnit | None,
    roles: list[str],
    email: str = "",
) -> User:
    _require_admin(actor)
    roles = _check_roles(roles)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound(_("User not found."))
        before_roles = sorted(user.roles.values_list("role", flat=True))
        before = {
            "display_name": user.display_name,
            "org_unit": str(user.org_unit or ""),
            "roles": before_roles,
            "email": user.email,
        }
        user.display_name, user.org_unit, user.email = display_name, org_unit, email
        user.save()
        user.roles.exclude(role__in=roles).delete()
        UserRole.objects.bulk_create(
            [UserRole(user=user, role=r) for r in roles if r not in before_roles]
        )
        after = {
            "display_name": display_name,
            "org_unit": str(org_unit or ""),
            "roles": roles,
            "email": email,
        }
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            audit_record(actor=actor, verb="user.update", target=user, changes=changes)
    return user


def user_set_active(*, actor: User, user_id: int, active: bool) -> User:
    _require_admin(actor)
    if user_id == actor.id and not active:
        raise ValidationFailed.single("user", "self", _("You cannot deactivate yourself."))
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound(_("User not found."))
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
            audit_record(
                actor=actor, verb="user.activate" if active else "user.deactivate", target=user
            )
    return user


def user_unlock(*, actor: User, user_id: int) -> User:
    """An admin lifts every login lock on this user (django-axes), with an audit entry."""

    _require_admin(actor)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("User not found."))
    with transaction.atomic():
        removed = unlock(user.username)
        audit_record(actor=actor, verb="user.unlock", target=user, note=str(removed))
    return user


def token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """A new token; the raw key is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed.single("name", "required", _("Give the token a name."))
    if len(name) > 100:
        raise ValidationFailed.single("name", "max_length", _("At most 100 characters."))
    raw = ApiToken.generate_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor, name=name, prefix=raw[3:11], key_hash=hash_token(raw)
        )
        audit_record(actor=actor, verb="token.create", target=token)
    return token, raw


def token_revoke(*, actor: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=actor).first()
        if token is None:
            raise NotFound(_("Token not found."))
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, verb="token.revoke", target=token)
    return token


def token_authenticate(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # at most once a minute
    return token.user
