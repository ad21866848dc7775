"""Who may import customers, and whom an import may make their owner."""

from guanxi.core.models import User
from guanxi.core.permissions import is_manager, managed_units, manages_unit


def can_import(user: User) -> bool:
    return user.is_active and is_manager(user)


def owner_units(actor: User) -> frozenset[int] | None:
    """The units whose people an import may name as owner; None: anyone (admins)."""
    return managed_units(actor)


def may_update_customer(actor: User, owner_id: int | None, unit_id: int | None) -> bool:
    """An import updates the customers the importer may edit (core.visibility.can_edit),
    read from the row's values rather than a model instance."""
    return owner_id == actor.id or manages_unit(actor, unit_id)


def sees_every_job(user: User) -> bool:
    return user.is_admin
