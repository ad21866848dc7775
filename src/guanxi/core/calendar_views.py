"""The administrator's page for the business calendar: weekly windows, dated exceptions,
loading a year from the library and confirming it."""

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import calendar as cal
from .errors import DomainError
from .models import BusinessCalendar, CalendarDay, CalendarYear, WorkingWindow


def _parse_windows(text: str):
    """'09:00-12:00, 13:30-18:00' → [(time, time), …]; raises ValueError on bad input."""
    windows = []
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        starts, ends = (p.strip() for p in part.replace("–", "-").split("-", 1))
        windows.append(
            (datetime.strptime(starts, "%H:%M").time(), datetime.strptime(ends, "%H:%M").time())
        )
    return windows


@login_required
@require_http_methods(["GET", "POST"])
def calendar_view(request, pk: int | None = None):
    if not request.user.is_admin:
        raise Http404
    calendar = (
        get_object_or_404(BusinessCalendar, pk=pk) if pk is not None else cal.default_calendar()
    )
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2100)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "windows":
                weekday = int(request.POST.get("weekday", "-1"))
                try:
                    windows = _parse_windows(request.POST.get("windows", ""))
                except ValueError:
                    raise DomainError(
                        _("Write windows as 09:00-12:00, 13:30-18:00."), field="windows"
                    ) from None
                cal.calendar_window_set(
                    actor=request.user, calendar=calendar, weekday=weekday, windows=windows
                )
            elif action == "day":
                try:
                    day = date.fromisoformat(request.POST.get("date", ""))
                except ValueError:
                    raise DomainError(_("Enter a date as 2027-01-01."), field="date") from None
                kind = request.POST.get("kind") or None
                cal.calendar_day_set(
                    actor=request.user,
                    calendar=calendar,
                    day=day,
                    kind=kind,
                    name=request.POST.get("name", "").strip(),
                )
                year = day.year
            elif action == "seed":
                cal.calendar_seed_year(actor=request.user, calendar=calendar, year=year)
            elif action == "confirm":
                cal.calendar_confirm_year(actor=request.user, calendar=calendar, year=year)
            messages.success(request, _("Calendar saved."))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect(f"{reverse('business_calendar')}?year={year}")
    windows = {}
    for w in WorkingWindow.objects.filter(calendar=calendar):
        windows.setdefault(w.weekday, []).append(f"{w.starts:%H:%M}-{w.ends:%H:%M}")
    weekdays = [
        (value, label, ", ".join(windows.get(value, [])))
        for value, label in WorkingWindow._meta.get_field("weekday").choices or ()
    ]
    return render(
        request,
        "core/calendar.html",
        {
            "calendar": calendar,
            "year": year,
            "weekdays": weekdays,
            "days": CalendarDay.objects.filter(calendar=calendar, date__year=year),
            "year_row": CalendarYear.objects.filter(calendar=calendar, year=year).first(),
            "in_library": year in cal.library_years(),
            "kinds": CalendarDay.Kind.choices,
            "warnings": cal.unconfirmed_years(),
        },
    )
