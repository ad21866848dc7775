"""Pivot tables computed in the database: one GROUP BY over the reader's records, capped.

Rows × columns × one measure over a dataset (datasets.py), optionally limited to a period.
The database returns at most MAX_CELLS groups (a pivot over ten million order lines by
branch × month is a few hundred groups); the rows are then paged.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.core.models import User

from .datasets import Dataset, Dimension, dataset, group_expression
from .permissions import can_use_dataset

MAX_CELLS = 5000
MAX_COLUMNS = 40
ROWS_PER_PAGE = 100
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PivotSpec:
    dataset: str
    rows: str
    columns: str = ""  # empty: one column, the measure's total
    measure: str = "count"
    start: date | None = None
    end: date | None = None  # inclusive


@dataclass
class PivotResult:
    spec: PivotSpec
    row_label: str
    column_label: str
    measure_label: str
    money: bool
    columns: list[tuple[object, str]]  # (key, label)
    rows: list[tuple[object, str, list, object]]  # (key, label, cells, row total)
    column_totals: list = field(default_factory=list)
    total: object = 0
    truncated: bool = False  # more groups than MAX_CELLS (or columns than MAX_COLUMNS)
    page: int = 1
    pages: int = 1


def pivot_validate(spec: PivotSpec) -> Dataset:
    """The dataset of a valid spec; a field error for anything unknown."""
    source = dataset(spec.dataset)
    if source is None:
        raise ValidationFailed.single("dataset", "invalid_choice", _("Choose what to analyse."))
    if spec.rows not in source.dimensions:
        raise ValidationFailed.single("rows", "invalid_choice", _("Choose the rows."))
    if spec.columns and spec.columns not in source.dimensions:
        raise ValidationFailed.single("columns", "invalid_choice", _("Choose the columns."))
    if spec.columns and spec.columns == spec.rows:
        raise ValidationFailed.single("columns", "same_as_rows", _("Rows and columns must differ."))
    if spec.measure not in source.measures:
        raise ValidationFailed.single("measure", "invalid_choice", _("Choose what to measure."))
    if spec.start and spec.end and spec.start > spec.end:
        raise ValidationFailed.single("end", "before_start", _("The end is before the start."))
    return source


def _label(dimension: Dimension, key, display) -> str:
    if key is None or key == "":
        return _("(none)")
    if dimension.month:
        return timezone.localtime(key).strftime("%Y-%m") if isinstance(key, datetime) else str(key)
    if dimension.choices:
        return str(dimension.choices.get(key, key))
    return str(display) if display not in (None, "") else str(key)


def _bounds(spec: PivotSpec) -> dict:
    zone = timezone.get_current_timezone()
    lookups = {}
    if spec.start:
        lookups["gte"] = datetime.combine(spec.start, time.min, tzinfo=zone)
    if spec.end:
        lookups["lt"] = datetime.combine(spec.end + timedelta(days=1), time.min, tzinfo=zone)
    return lookups


def _value(raw, money: bool):
    if raw is None:
        return Decimal("0.00") if money else 0
    return Decimal(raw).quantize(CENT) if money else raw


def pivot_compute(*, viewer: User, spec: PivotSpec, page: int | None = 1) -> PivotResult:
    """The pivot's cells; `page=None` gives every row (exports)."""
    source = pivot_validate(spec)
    if not can_use_dataset(viewer, spec.dataset):
        raise Forbidden(_("This analysis is for sales, managers and finance."))
    rows_dim = source.dimensions[spec.rows]
    cols_dim = source.dimensions[spec.columns] if spec.columns else None
    measure = source.measures[spec.measure]
    qs = source.queryset(viewer)
    for lookup, bound in _bounds(spec).items():
        qs = qs.filter(**{f"{source.date_field}__{lookup}": bound})
    groups = {"r": group_expression(rows_dim)}
    if cols_dim:
        groups["c"] = group_expression(cols_dim)
    names = list(groups)
    for name, dim in (("r", rows_dim), ("c", cols_dim)):
        if dim is not None and dim.display:
            names.append(f"{name}_label")
            groups[f"{name}_label"] = group_expression(Dimension("", dim.display))
    cells = list(
        qs.annotate(**groups)
        .values(*names)
        .annotate(v=measure.aggregate())
        .order_by()[: MAX_CELLS + 1]
    )
    truncated = len(cells) > MAX_CELLS
    del cells[MAX_CELLS:]
    regroup = {
        name: dim.regroup({cell[name] for cell in cells})
        for name, dim in (("r", rows_dim), ("c", cols_dim))
        if dim is not None and dim.regroup
    }
    for name, mapping in regroup.items():
        for cell in cells:
            cell[name], cell[f"{name}_label"] = mapping.get(cell[name], (None, ""))
    row_labels: dict = {}
    column_labels: dict = {}
    table: dict = {}
    for cell in cells:
        rkey = cell["r"]
        ckey = cell.get("c") if cols_dim else "total"
        row_labels.setdefault(rkey, _label(rows_dim, rkey, cell.get("r_label")))
        if cols_dim:
            column_labels.setdefault(ckey, _label(cols_dim, ckey, cell.get("c_label")))
        table[(rkey, ckey)] = table.get((rkey, ckey), 0) + _value(cell["v"], measure.money)
    if not cols_dim:
        column_labels = {"total": str(measure.label)}
    columns = sorted(column_labels.items(), key=lambda kv: _sort_key(cols_dim, kv[0], kv[1]))
    if len(columns) > MAX_COLUMNS:
        columns, truncated = columns[:MAX_COLUMNS], True
    zero = Decimal("0.00") if measure.money else 0
    full_rows = []
    for rkey, rlabel in sorted(
        row_labels.items(), key=lambda kv: _sort_key(rows_dim, kv[0], kv[1])
    ):
        values = [table.get((rkey, ckey), zero) for ckey, _l in columns]
        full_rows.append((rkey, rlabel, values, sum(values, zero)))
    pages = max(1, -(-len(full_rows) // ROWS_PER_PAGE))
    shown = full_rows
    if page is not None:
        page = min(max(page, 1), pages)
        shown = full_rows[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE]
    column_totals = [sum((row[2][i] for row in full_rows), zero) for i in range(len(columns))]
    return PivotResult(
        spec=spec,
        row_label=str(rows_dim.label),
        column_label=str(cols_dim.label) if cols_dim else "",
        measure_label=str(measure.label),
        money=measure.money,
        columns=columns,
        rows=shown,
        column_totals=column_totals,
        total=sum(column_totals, zero),
        truncated=truncated,
        page=page or 1,
        pages=1 if page is None else pages,
    )


def _sort_key(dimension: Dimension | None, key, label: str) -> tuple:
    """Months in order, coded values (stages…) in their declared order, names
    alphabetically, the empty group last."""
    if key is None or key == "":
        return (3, 0, "")
    if isinstance(key, datetime | date):
        return (0, 0, key.isoformat())
    if dimension is not None and key in dimension.choices:
        return (1, list(dimension.choices).index(key), "")
    return (2, 0, label)


def pivot_table_rows(result: PivotResult) -> list[list]:
    """The table as plain rows for CSV/Excel: header, data, totals."""
    header = [result.row_label, *[label for _k, label in result.columns], _("Total")]
    body = [[label, *values, total] for _k, label, values, total in result.rows]
    footer = [_("Total"), *result.column_totals, result.total]
    return [header, *body, footer]
