"""Pivot tables computed in the database: one GROUP BY over the reader's records, capped.

Rows × columns × one measure over a dataset (datasets.py), optionally limited to a period.
The database returns at most MAX_CELLS groups (a pivot over ten million order lines by
branch × month is a few hundred groups); the rows are then paged.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.core.models import User

from .datasets import Dataset, Dimension, Measure, Summary, dataset, group_expression
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


def _value(raw, measure: Measure):
    if raw is None:
        return Decimal("0.00") if measure.money else 0
    if measure.cents:
        return (Decimal(raw) / 100).quantize(CENT)
    return Decimal(raw).quantize(CENT) if measure.money else raw


def _cells(qs: QuerySet, spec: PivotSpec, dims: dict, measure: Measure, date_field: str) -> list:
    """One GROUP BY: {r, c, r_label, c_label, v} per group, at most MAX_CELLS + 1."""
    rows_dim = dims[spec.rows]
    cols_dim = dims[spec.columns] if spec.columns else None
    for lookup, bound in _bounds(spec).items():
        qs = qs.filter(**{f"{date_field}__{lookup}": bound})
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
    for cell in cells:
        cell["v"] = _value(cell["v"], measure)
    return cells


def _scan(source: Dataset, viewer: User, spec: PivotSpec):
    rows_dim = source.dimensions[spec.rows]
    cols_dim = source.dimensions[spec.columns] if spec.columns else None
    measure = source.measures[spec.measure]
    qs = source.queryset(viewer)
    return (
        rows_dim,
        cols_dim,
        measure,
        _cells(qs, spec, source.dimensions, measure, source.date_field),
    )


def _whole_months(spec: PivotSpec) -> bool:
    return (spec.start is None or spec.start.day == 1) and (
        spec.end is None or (spec.end + timedelta(days=1)).day == 1
    )


def _summary_for(source: Dataset, spec: PivotSpec) -> Summary | None:
    """The dataset's summary when it covers the spec: its rows, columns and measure, a period
    of whole months, and it serves now."""
    summary = source.summary
    if summary is None or spec.rows not in summary.dimensions:
        return None
    if spec.columns and spec.columns not in summary.dimensions:
        return None
    if spec.measure not in summary.measures or not _whole_months(spec) or not summary.serves():
        return None
    return summary


def _from_summary(source: Dataset, summary: Summary, viewer: User, spec: PivotSpec):
    """The summary's rows in the reader's keys, plus and minus the few records around them
    (summary_parts): the same cells as the scan."""
    rows, add, subtract = summary.parts(viewer)
    measure = summary.measures[spec.measure]
    scanned = source.measures[spec.measure]
    merged: dict = {}
    parts = (
        (_cells(rows, spec, summary.dimensions, measure, summary.date_field), 1),
        (_cells(add, spec, source.dimensions, scanned, source.date_field), 1),
        (_cells(subtract, spec, source.dimensions, scanned, source.date_field), -1),
    )
    for cells, sign in parts:
        for cell in cells:
            key = (cell["r"], cell.get("c"))
            if key in merged:
                merged[key]["v"] += sign * cell["v"]
            else:
                merged[key] = {**cell, "v": sign * cell["v"]}
    # A group whose lines all went (to another owner, say) is no group: none sums to zero.
    cells = [cell for cell in merged.values() if cell["v"]]
    rows_dim = summary.dimensions[spec.rows]
    cols_dim = summary.dimensions[spec.columns] if spec.columns else None
    return rows_dim, cols_dim, measure, cells


def pivot_compute(
    *, viewer: User, spec: PivotSpec, page: int | None = 1, summary_first: bool = True
) -> PivotResult:
    """The pivot's cells; `page=None` gives every row (exports). From the dataset's summary
    when it covers the spec (`summary_first=False`: always the scan, the reference)."""
    source = pivot_validate(spec)
    if not can_use_dataset(viewer, spec.dataset):
        raise Forbidden(_("This analysis is for sales, managers and finance."))
    summary = _summary_for(source, spec) if summary_first else None
    if summary is None:
        rows_dim, cols_dim, measure, cells = _scan(source, viewer, spec)
    else:
        rows_dim, cols_dim, measure, cells = _from_summary(source, summary, viewer, spec)
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
        table[(rkey, ckey)] = table.get((rkey, ckey), 0) + cell["v"]
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
