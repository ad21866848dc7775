"""Reads of core's own records, each limited to what the reader may see."""

from .models import AuditEntry, User


def audit_entries_for(user: User):
    """Admins read the whole trail; managers the entries made by people in their units."""
    if user.is_admin:
        return AuditEntry.objects.all()
    if user.managed_unit_ids:
        return AuditEntry.objects.filter(actor_unit_id__in=user.managed_unit_ids)
    return AuditEntry.objects.none()
