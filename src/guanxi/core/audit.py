"""The audit trail: one function writes it, inside the caller's transaction."""

from collections.abc import Sequence

from django.db import models

from .models import AuditEntry, User


def audit_record(
    *,
    actor: User | None,
    verb: str,
    target: models.Model,
    changes: dict | None = None,
    note: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor,
        actor_unit_id=getattr(actor, "org_unit_id", None),
        verb=verb,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_label=str(target)[:200],
        changes=changes or {},
        note=note,
    )


def diff_fields(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that changed, JSON-safe."""
    return {
        name: [_jsonable(before.get(name)), _jsonable(value)]
        for name, value in after.items()
        if before.get(name) != value
    }


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return str(value)


def audit_records(
    *,
    actor: User | None,
    verb: str,
    entries: Sequence[tuple[models.Model, dict]],
    note: str = "",
) -> list[AuditEntry]:
    """The bulk twin of audit_record: one entry per (target, changes), written in batches."""
    return AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor,
                actor_unit_id=getattr(actor, "org_unit_id", None),
                verb=verb,
                target_type=target._meta.label_lower,
                target_id=target.pk,
                target_label=str(target)[:200],
                changes=changes or {},
                note=note,
            )
            for target, changes in entries
        ],
        batch_size=1000,
    )
