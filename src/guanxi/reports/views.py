"""Report pages: each chart has its table and a CSV/Excel download of that table."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import DomainError
from guanxi.core.web import attach_errors

from . import permissions, selectors, services
from .datasets import datasets
from .export import table_response
from .forms import PeriodForm, PivotForm, SavePivotForm
from .models import SavedPivot
from .pivot import PivotSpec, pivot_compute, pivot_table_rows


def _sales_reader(request) -> None:
    if not permissions.can_read_sales_reports(request.user):
        raise Http404


@login_required
def index(request):
    return render(
        request,
        "reports/index.html",
        {"sales": permissions.can_read_sales_reports(request.user)},
    )


@login_required
def funnel_view(request):
    _sales_reader(request)
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    steps = selectors.funnel(viewer=request.user, start=start, end=end)
    rows = [
        [
            _("Stage"),
            _("Deals that reached it"),
            _("Conversion from the previous stage"),
            _("Mean days from opening"),
        ],
        *[[s.label, s.reached, s.conversion, s.avg_days] for s in steps],
    ]
    download = table_response(request, rows, "funnel")
    if download:
        return download
    chart = {"labels": [s.label for s in steps], "counts": [s.reached for s in steps]}
    return render(
        request,
        "reports/funnel.html",
        {"form": form, "steps": steps, "chart": chart, "start": start, "end": end},
    )


@login_required
def staff_view(request):
    if not permissions.can_read_staff_performance(request.user):
        raise Http404
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    people = selectors.staff_performance(viewer=request.user, start=start, end=end)
    rows = [
        [
            _("Salesperson"),
            _("Deals opened"),
            _("Won"),
            _("Lost"),
            _("Success rate"),
            _("Mean cycle (days)"),
            _("Receipts"),
        ],
        *[
            [p.name, p.opened, p.won, p.lost, p.success_rate, p.avg_cycle_days, p.revenue]
            for p in people
        ],
    ]
    download = table_response(request, rows, "staff-performance")
    if download:
        return download
    chart = {
        "names": [p.name for p in people],
        "won": [p.won for p in people],
        "lost": [p.lost for p in people],
    }
    return render(request, "reports/staff.html", {"form": form, "people": people, "chart": chart})


REVENUE_BY = ("month", "product", "unit", "owner", "province", "customer")


@login_required
def revenue_view(request):
    _sales_reader(request)
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    by = request.GET.get("by", "month")
    by = by if by in REVENUE_BY else "month"
    spec = PivotSpec(
        "revenue",
        rows=by,
        columns="" if by == "month" else "month",
        measure="amount",
        start=start,
        end=end,
    )
    result = pivot_compute(viewer=request.user, spec=spec, page=None)
    download = table_response(request, pivot_table_rows(result), f"revenue-by-{by}")
    if download:
        return download
    chart = {
        "labels": [label for _k, label, _v, _t in result.rows[:30]],
        "counts": [float(total) for _k, _l, _v, total in result.rows[:30]],
    }
    dims = datasets()["revenue"].dimensions
    return render(
        request,
        "reports/revenue.html",
        {
            "form": form,
            "result": result,
            "by": by,
            "by_extra": {"by": by},
            "choices": [(key, dims[key].label) for key in REVENUE_BY],
            "chart": chart,
        },
    )


@login_required
def forecast_view(request):
    _sales_reader(request)
    months = selectors.forecast(viewer=request.user)
    services.forecast_snapshot_take(viewer=request.user, months=months)
    made = services.forecasts_made_for(viewer=request.user, months=[m.month for m in months])
    rows = [
        [_("Month"), _("Weighted pipeline"), _("Trend"), _("Receipts"), _("Forecast made then")],
        *[
            [
                m.month.strftime("%Y-%m"),
                m.weighted,
                m.trend,
                m.actual,
                made[m.month].weighted if m.month in made else None,
            ]
            for m in months
        ],
    ]
    download = table_response(request, rows, "forecast")
    if download:
        return download
    chart = {
        "labels": [m.month.strftime("%Y-%m") for m in months],
        "series": [
            {
                "name": _("Receipts"),
                "data": [float(m.actual) if m.actual is not None else None for m in months],
            },
            {"name": _("Weighted pipeline"), "data": [float(m.weighted) for m in months]},
            {"name": _("Trend"), "data": [float(m.trend) for m in months]},
        ],
    }
    return render(
        request,
        "reports/forecast.html",
        {"months": [(m, made.get(m.month)) for m in months], "chart": chart},
    )


def _allowed_datasets(user) -> list[str]:
    return [name for name in datasets() if permissions.can_use_dataset(user, name)]


@login_required
def pivot_view(request):
    allowed = _allowed_datasets(request.user)
    form = PivotForm(request.GET or None, allowed=allowed)
    result = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        spec = PivotSpec(
            data["dataset"],
            data["rows"],
            data["columns"] or "",
            data["measure"],
            data.get("start"),
            data.get("end"),
        )
        try:
            page = request.GET.get("page", "1")
            result = pivot_compute(
                viewer=request.user,
                spec=spec,
                page=None if request.GET.get("export") else int(page) if page.isdigit() else 1,
            )
        except DomainError as exc:
            attach_errors(form, exc)
        else:
            download = table_response(request, pivot_table_rows(result), "pivot")
            if download:
                return download
    saved = SavedPivot.objects.filter(owner=request.user) | SavedPivot.objects.filter(shared=True)
    return render(
        request,
        "reports/pivot.html",
        {
            "form": form,
            "result": result,
            "saved": saved.select_related("owner").distinct()[:50],
            "save_form": SavePivotForm(),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_POST
def pivot_save_view(request):
    allowed = _allowed_datasets(request.user)
    form = PivotForm(request.POST, allowed=allowed)
    save = SavePivotForm(request.POST)
    if form.is_valid() and save.is_valid():
        data = form.cleaned_data
        try:
            services.pivot_save(
                actor=request.user,
                name=save.cleaned_data["name"],
                spec=PivotSpec(
                    data["dataset"], data["rows"], data["columns"] or "", data["measure"]
                ),
                shared=save.cleaned_data["shared"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Pivot saved."))
    else:
        messages.error(request, _("Give the pivot a name and choose its rows and measure."))
    return redirect("reports:pivot")


@login_required
@require_POST
def pivot_delete_view(request, pk: int):
    try:
        services.pivot_delete(actor=request.user, pivot_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Pivot deleted."))
    return redirect("reports:pivot")
