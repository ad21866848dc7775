"""The business calendar: when the business works, and how much working time lies between
two moments.

The whole API other apps need (SLA timers, notifications' working hours, marketing's quiet
hours)::

    from guanxi.core.calendar import add_working_hours, working_time_between, is_working_time

    add_working_hours(start, 24)              # the moment 24 working hours after `start`
    working_time_between(t1, t2)              # a timedelta of working time in [t1, t2)
    is_working_time(at)                       # inside a working window?
    next_working_time(at)                     # `at` itself, or the start of the next window
    calendar_for_unit(unit)                   # a branch's own calendar, or the default

Every function takes an optional `calendar` (a BusinessCalendar, or a Schedule already loaded
with `schedule_for`, which a scan over many rows passes to avoid re-reading the calendar);
None means the default calendar. Datetimes are aware (any zone: a server in UTC computes
Asia/Shanghai deadlines correctly); the calendar's named time zone decides what "Monday
09:00" is.

A day's working time is its weekday's windows (several a day: the gap between two is the
lunch break), unless the day is an exception: a holiday (no work) or an extra working day
(调休, a weekend day worked with Monday's windows). Exceptions are seeded from the
`chinese-calendar` package (which covers the years its authors have published: 2004–2026 in
1.11) and confirmed, or edited, by an administrator year by year.
"""

from __future__ import annotations

import uuid
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .audit import audit_record
from .errors import Forbidden, ValidationFailed
from .models import BusinessCalendar, CalendarDay, CalendarYear, OrgUnit, User, WorkingWindow

# The default week: Monday to Friday, 09:00–12:00 and 13:30–18:00 (a lunch break between).
DEFAULT_WINDOWS = [(time(9, 0), time(12, 0)), (time(13, 30), time(18, 0))]
DEFAULT_WORKDAYS = range(5)
# A make-up working day (调休) works the windows of this weekday (Monday).
MAKE_UP_DAY_WEEKDAY = 0
# How far the arithmetic looks for working time before giving up (a calendar without any).
MAX_DAYS = 3 * 366


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


class NoWorkingTime(ValueError):
    """The calendar has no working window within MAX_DAYS: no deadline can be computed."""


@dataclass(frozen=True)
class Schedule:
    """A calendar loaded into memory: what the arithmetic reads."""

    zone: ZoneInfo
    windows: dict[int, tuple[tuple[time, time], ...]]  # weekday → windows, in order
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    key: tuple = field(default=(), compare=False)

    def windows_on(self, day: date) -> tuple[tuple[time, time], ...]:
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.windows.get(MAKE_UP_DAY_WEEKDAY, ())
        return self.windows.get(day.weekday(), ())

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's windows as aware datetimes in the calendar's zone."""
        return [
            (
                datetime.combine(day, starts, tzinfo=self.zone),
                datetime.combine(day, ends, tzinfo=self.zone),
            )
            for starts, ends in self.windows_on(day)
        ]


_CACHE: dict[int, Schedule] = {}


def schedule_for(calendar: BusinessCalendar | Schedule | None = None) -> Schedule:
    """The loaded schedule of `calendar` (default: the default calendar), cached until the
    calendar's `version` changes (one small query to check it)."""
    if isinstance(calendar, Schedule):
        return calendar
    if calendar is None:
        calendar = default_calendar()
    version = (
        BusinessCalendar.objects.filter(pk=calendar.pk).values_list("version", flat=True).first()
    )
    cached = _CACHE.get(calendar.pk)
    if cached is not None and cached.key == (calendar.pk, version):
        return cached
    windows: dict[int, list[tuple[time, time]]] = {}
    for w in WorkingWindow.objects.filter(calendar_id=calendar.pk).order_by("weekday", "starts"):
        windows.setdefault(w.weekday, []).append((w.starts, w.ends))
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in CalendarDay.objects.filter(calendar_id=calendar.pk).values_list(
        "date", "kind"
    ):
        (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays).add(day)
    schedule = Schedule(
        zone=ZoneInfo(calendar.time_zone),
        windows={k: tuple(v) for k, v in windows.items()},
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        key=(calendar.pk, version),
    )
    _CACHE[calendar.pk] = schedule
    return schedule


def _aware(value: datetime) -> datetime:
    if timezone.is_naive(value):
        raise ValueError("the business calendar needs aware datetimes")
    return value


def add_working_hours(
    start: datetime, hours: float | timedelta, calendar: BusinessCalendar | Schedule | None = None
) -> datetime:
    """The moment when `hours` of working time have passed after `start`.

    Zero hours from outside working time is the start of the next window. The result is in
    the calendar's time zone.
    """
    schedule = schedule_for(calendar)
    remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
    if remaining < timedelta(0):
        raise ValueError("hours must not be negative")
    cursor = _aware(start).astimezone(schedule.zone)
    day = cursor.date()
    for _offset in range(MAX_DAYS):
        for starts, ends in schedule.intervals_on(day):
            if ends <= cursor:
                continue
            begin = max(starts, cursor)
            if begin + remaining <= ends:
                return begin + remaining
            remaining -= ends - begin
            cursor = ends
        day += timedelta(days=1)
    raise NoWorkingTime(_("The business calendar has no working time in the next three years."))


def working_time_between(
    t1: datetime, t2: datetime, calendar: BusinessCalendar | Schedule | None = None
) -> timedelta:
    """Working time in [t1, t2); zero when t2 is not after t1."""
    schedule = schedule_for(calendar)
    t1 = _aware(t1).astimezone(schedule.zone)
    t2 = _aware(t2).astimezone(schedule.zone)
    total = timedelta(0)
    if t2 <= t1:
        return total
    day = t1.date()
    while day <= t2.date():
        for starts, ends in schedule.intervals_on(day):
            overlap = min(ends, t2) - max(starts, t1)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def is_working_time(at: datetime, calendar: BusinessCalendar | Schedule | None = None) -> bool:
    schedule = schedule_for(calendar)
    local = _aware(at).astimezone(schedule.zone)
    return any(starts <= local < ends for starts, ends in schedule.intervals_on(local.date()))


def next_working_time(
    at: datetime, calendar: BusinessCalendar | Schedule | None = None
) -> datetime:
    """`at` when it is working time, else the start of the next working window (so that a
    reminder due at 3 a.m. is sent at 09:00)."""
    if is_working_time(at, calendar):
        return at
    return add_working_hours(at, 0, calendar)


# --- which calendar -------------------------------------------------------------------


def default_calendar() -> BusinessCalendar:
    """The calendar without a unit, created on first use with the default week and the
    exceptions the library knows from last year on."""
    existing = BusinessCalendar.objects.filter(org_unit__isnull=True).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        calendar, created = BusinessCalendar.objects.get_or_create(
            org_unit=None, defaults={"name": _("Default calendar"), "time_zone": _zone_name()}
        )
        if created:
            _create_default_week(calendar)
            this_year = timezone.localdate().year
            for year in library_years():
                if year >= this_year - 1:
                    _seed(calendar, year)
    return calendar


def _zone_name() -> str:
    from django.conf import settings

    return settings.TIME_ZONE or "Asia/Shanghai"


def _create_default_week(calendar: BusinessCalendar) -> None:
    WorkingWindow.objects.bulk_create(
        WorkingWindow(calendar=calendar, weekday=day, starts=starts, ends=ends)
        for day in DEFAULT_WORKDAYS
        for starts, ends in DEFAULT_WINDOWS
    )


def calendar_for_unit(unit: OrgUnit | None) -> BusinessCalendar:
    """The calendar of the nearest unit up the tree that has one, else the default."""
    if unit is not None:
        ids = [int(part) for part in unit.path.strip("/").split("/") if part]
        own = {c.org_unit_id: c for c in BusinessCalendar.objects.filter(org_unit_id__in=ids)}
        for unit_id in reversed(ids):
            if unit_id in own:
                return own[unit_id]
    return default_calendar()


def time_zone_for_unit(unit: OrgUnit | None) -> str:
    """The time zone of the unit's calendar (the nearest up the tree, else the default one),
    read without creating anything: a branch's local days (a protection period's last day)."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part] if unit else []
    zones = dict(
        BusinessCalendar.objects.filter(
            Q(org_unit_id__in=ids) | Q(org_unit__isnull=True)
        ).values_list("org_unit_id", "time_zone")
    )
    for unit_id in [*reversed(ids), None]:
        if unit_id in zones:
            return zones[unit_id]
    return _zone_name()


# --- the library, and the administrator's confirmation ---------------------------------


def library_years() -> range:
    """The years the installed `chinese-calendar` package has official data for."""
    import chinese_calendar

    known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return range(min(known).year, max(known).year + 1)


# The names `chinese-calendar` gives its holidays, so that they are in the catalogues and
# shown in the reader's language (CalendarDay.display_name).
LIBRARY_HOLIDAY_NAMES = (
    gettext_noop("New Year's Day"),
    gettext_noop("Spring Festival"),
    gettext_noop("Tomb-sweeping Day"),
    gettext_noop("Labour Day"),
    gettext_noop("Dragon Boat Festival"),
    gettext_noop("Mid-autumn Festival"),
    gettext_noop("National Day"),
    gettext_noop("Anti-Fascist 70th Day"),
)


def _seed(calendar: BusinessCalendar, year: int) -> int:
    import chinese_calendar

    rows = [
        CalendarDay(
            calendar=calendar, date=day, kind=kind, name=name, source=CalendarDay.Source.LIBRARY
        )
        for source, kind in (
            (chinese_calendar.holidays, CalendarDay.Kind.HOLIDAY),
            (chinese_calendar.workdays, CalendarDay.Kind.WORKDAY),
        )
        for day, name in source.items()
        if day.year == year
    ]
    # An administrator's own entry for a date wins over the library's.
    taken = set(
        CalendarDay.objects.filter(calendar=calendar, date__year=year).values_list(
            "date", flat=True
        )
    )
    CalendarDay.objects.bulk_create([r for r in rows if r.date not in taken])
    CalendarYear.objects.update_or_create(
        calendar=calendar, year=year, defaults={"seeded_at": timezone.now()}
    )
    _bump(calendar)
    return len(rows)


def _bump(calendar: BusinessCalendar) -> None:
    BusinessCalendar.objects.filter(pk=calendar.pk).update(version=uuid.uuid4().hex)


def _check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Only an administrator may change the business calendar."))


def calendar_seed_year(*, actor: User, calendar: BusinessCalendar, year: int) -> int:
    """Load a year's official holidays and 调休 days from the library (entries an
    administrator made for that year stay). Returns how many days the library has."""
    _check_admin(actor)
    if year not in library_years():
        raise ValidationFailed.single(
            "year",
            "year_not_in_library",
            _("The calendar library has no data for %(year)s yet: enter the days by hand.")
            % {"year": year},
        )
    with transaction.atomic():
        count = _seed(calendar, year)
        audit_record(actor=actor, verb="calendar.seed", target=calendar, changes={"year": year})
    return count


def calendar_day_set(
    *, actor: User, calendar: BusinessCalendar, day: date, kind: str | None, name: str = ""
) -> CalendarDay | None:
    """Mark `day` a holiday or an extra working day; `kind=None` removes the exception."""
    _check_admin(actor)
    if kind is not None and kind not in CalendarDay.Kind.values:
        raise ValidationFailed.single("kind", "invalid_choice", _("Unknown kind of day."))
    if len(name) > 100:
        raise ValidationFailed.single("name", "too_long", _("At most 100 characters."))
    with transaction.atomic():
        before = CalendarDay.objects.filter(calendar=calendar, date=day).first()
        result = None
        if kind is None:
            CalendarDay.objects.filter(calendar=calendar, date=day).delete()
        else:
            result, _created = CalendarDay.objects.update_or_create(
                calendar=calendar,
                date=day,
                defaults={"kind": kind, "name": name, "source": CalendarDay.Source.ADMIN},
            )
        # Editing a confirmed year takes its confirmation back: someone must look again.
        CalendarYear.objects.filter(calendar=calendar, year=day.year).update(
            confirmed_at=None, confirmed_by=None
        )
        _bump(calendar)
        audit_record(
            actor=actor,
            verb="calendar.day",
            target=calendar,
            changes={"date": str(day), "kind": [before.kind if before else None, kind]},
            note=name,
        )
    return result


def calendar_confirm_year(*, actor: User, calendar: BusinessCalendar, year: int) -> CalendarYear:
    """An administrator confirms that `year`'s exceptions match the official notice."""
    _check_admin(actor)
    with transaction.atomic():
        row, _created = CalendarYear.objects.update_or_create(
            calendar=calendar,
            year=year,
            defaults={"confirmed_at": timezone.now(), "confirmed_by": actor},
        )
        audit_record(actor=actor, verb="calendar.confirm", target=calendar, changes={"year": year})
    return row


def calendar_window_set(
    *, actor: User, calendar: BusinessCalendar, weekday: int, windows: list[tuple[time, time]]
) -> None:
    """Replace one weekday's working windows (an empty list: a day off every week)."""
    _check_admin(actor)
    errors = []
    if weekday not in range(7):
        raise ValidationFailed.single("weekday", "invalid_choice", _("Unknown weekday."))
    ordered = sorted(windows)
    for i, (starts, ends) in enumerate(ordered):
        if ends <= starts:
            errors.append(_("A window must end after it starts."))
        if i and starts < ordered[i - 1][1]:
            errors.append(_("Working windows must not overlap."))
    if errors:
        raise ValidationFailed.single("windows", "invalid_windows", errors[0])
    with transaction.atomic():
        before = [
            f"{w.starts:%H:%M}-{w.ends:%H:%M}"
            for w in WorkingWindow.objects.filter(calendar=calendar, weekday=weekday)
        ]
        WorkingWindow.objects.filter(calendar=calendar, weekday=weekday).delete()
        WorkingWindow.objects.bulk_create(
            WorkingWindow(calendar=calendar, weekday=weekday, starts=s, ends=e) for s, e in ordered
        )
        _bump(calendar)
        audit_record(
            actor=actor,
            verb="calendar.windows",
            target=calendar,
            changes={
                "weekday": weekday,
                "windows": [before, [f"{s:%H:%M}-{e:%H:%M}" for s, e in ordered]],
            },
        )


def unconfirmed_years(*, today: date | None = None) -> list[tuple[BusinessCalendar, int]]:
    """(calendar, year) pairs an administrator should look at: this year and, from October
    on (China announces next year's days in the autumn), next year, when not confirmed."""
    today = today or timezone.localdate()
    years = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    default_calendar()
    confirmed = set(
        CalendarYear.objects.filter(year__in=years, confirmed_at__isnull=False).values_list(
            "calendar_id", "year"
        )
    )
    return [
        (calendar, year)
        for calendar in BusinessCalendar.objects.order_by("id")
        for year in years
        if (calendar.pk, year) not in confirmed
    ]
