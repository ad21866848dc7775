"""Changes the reports app makes: saved pivots (each user's own) and forecast snapshots."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.core.models import User

from .models import ForecastSnapshot, SavedPivot
from .pivot import PivotSpec, pivot_validate
from .selectors import ForecastMonth


def pivot_save(*, actor: User, name: str, spec: PivotSpec, shared: bool = False) -> SavedPivot:
    name = " ".join(name.split())[:80]
    if not name:
        raise ValidationFailed.single("name", "required", _("Give the pivot a name."))
    pivot_validate(spec)  # refuses an unknown dataset, dimension or measure
    try:
        with transaction.atomic():
            saved = SavedPivot.objects.create(
                owner=actor,
                name=name,
                dataset=spec.dataset,
                rows=spec.rows,
                columns=spec.columns,
                measure=spec.measure,
                shared=shared,
            )
            audit_record(actor=actor, verb="pivot.save", target=saved)
    except IntegrityError:
        raise Conflict(
            _("You already have a pivot with this name."), code="duplicate_name", field="name"
        ) from None
    return saved


def pivot_delete(*, actor: User, pivot_id: int) -> None:
    with transaction.atomic():
        deleted, _n = SavedPivot.objects.filter(pk=pivot_id, owner=actor).delete()
    if not deleted:
        raise NotFound(_("Pivot not found."))


def forecast_snapshot_take(*, viewer: User, months: list[ForecastMonth]) -> int:
    """Keep this month's forecast of the coming months, once per month and reader."""
    taken_in = timezone.localdate().replace(day=1)
    rows = [
        ForecastSnapshot(
            viewer=viewer, taken_in=taken_in, month=m.month, weighted=m.weighted, trend=m.trend
        )
        for m in months
        if m.month > taken_in
    ]
    created = ForecastSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def forecasts_made_for(*, viewer: User, months: list[date]) -> dict[date, ForecastSnapshot]:
    """For each month, the earliest forecast made for it (what was expected beforehand)."""
    found: dict[date, ForecastSnapshot] = {}
    for snap in ForecastSnapshot.objects.filter(viewer=viewer, month__in=months).order_by(
        "taken_in"
    ):
        found.setdefault(snap.month, snap)
    return found
