"""The business calendar (C5): working windows with a lunch break, weekends, national
holidays and 调休 make-up Saturdays, in Asia/Shanghai whatever the server's zone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from guanxi.core import calendar as cal
from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.core.models import AuditEntry, BusinessCalendar, CalendarDay, CalendarYear

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture
def calendar(db):
    return cal.default_calendar()


def test_default_week_has_a_lunch_break(calendar):
    # Thursday 3 December 2026, 11:00: one hour before lunch, then 13:30 onwards.
    assert cal.add_working_hours(at(2026, 12, 3, 11), 2, calendar) == at(2026, 12, 3, 14, 30)


def test_deadline_across_a_weekend(calendar):
    # Friday 4 December 2026, 17:00: an hour on Friday, then three and four on Monday.
    assert cal.add_working_hours(at(2026, 12, 4, 17), 8, calendar) == at(2026, 12, 7, 17, 30)


def test_a_day_has_seven_and_a_half_working_hours(calendar):
    assert cal.working_time_between(at(2026, 12, 7), at(2026, 12, 8), calendar) == timedelta(
        hours=7, minutes=30
    )


def test_deadline_skips_the_national_day_holiday(calendar):
    # Wednesday 30 September 2026, 17:00. 1–7 October is the National Day holiday, Thursday
    # 8 October the next working day (Saturday 10 October a make-up day).
    assert cal.add_working_hours(at(2026, 9, 30, 17), 2, calendar) == at(2026, 10, 8, 10)


def test_make_up_saturday_is_a_working_day(calendar):
    # Friday 9 October 2026, 17:00; Saturday 10 October is 调休 (worked for National Day).
    assert cal.add_working_hours(at(2026, 10, 9, 17), 2, calendar) == at(2026, 10, 10, 10)
    assert cal.working_time_between(at(2026, 10, 10), at(2026, 10, 11), calendar) == timedelta(
        hours=7, minutes=30
    )


def test_a_normal_saturday_has_no_working_time(calendar):
    assert cal.working_time_between(at(2026, 12, 5), at(2026, 12, 6), calendar) == timedelta(0)
    assert not cal.is_working_time(at(2026, 12, 5, 10), calendar)


def test_spring_festival_week_counts_nothing(calendar):
    # 15–23 February 2026 is the Spring Festival holiday; Saturday 28 February is worked.
    assert cal.working_time_between(at(2026, 2, 15), at(2026, 2, 24), calendar) == timedelta(0)
    assert cal.is_working_time(at(2026, 2, 28, 10), calendar)


def test_server_in_utc_computes_shanghai_deadlines(calendar, settings):
    settings.TIME_ZONE = "UTC"
    # 08:00 UTC = 16:00 in Shanghai, Thursday: two hours left today, the rest on Friday.
    start = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    deadline = cal.add_working_hours(start, 4, calendar)
    assert deadline == at(2026, 12, 4, 11)
    assert deadline.astimezone(UTC) == datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    assert cal.working_time_between(start, deadline, calendar) == timedelta(hours=4)


def test_zero_hours_outside_working_time_is_the_next_window(calendar):
    # A reminder due at 3 a.m. goes out at 09:00.
    assert cal.next_working_time(at(2026, 12, 3, 3), calendar) == at(2026, 12, 3, 9)
    assert cal.next_working_time(at(2026, 12, 3, 12, 30), calendar) == at(2026, 12, 3, 13, 30)
    assert cal.next_working_time(at(2026, 12, 3, 10), calendar) == at(2026, 12, 3, 10)


def test_add_and_between_are_inverse(calendar):
    start = at(2026, 9, 29, 10, 17)
    for hours in (0.5, 3, 7.5, 24, 40):
        end = cal.add_working_hours(start, hours, calendar)
        assert cal.working_time_between(start, end, calendar) == timedelta(hours=hours)


def test_naive_datetimes_are_refused(calendar):
    with pytest.raises(ValueError):
        cal.add_working_hours(datetime(2026, 12, 3, 10), 1, calendar)


def test_a_calendar_without_windows_says_so(calendar, admin_user):
    for day in range(7):
        cal.calendar_window_set(actor=admin_user, calendar=calendar, weekday=day, windows=[])
    with pytest.raises(cal.NoWorkingTime):
        cal.add_working_hours(at(2026, 12, 3, 10), 1, calendar)


def test_admin_edits_windows_and_the_schedule_follows(calendar, admin_user):
    cal.calendar_window_set(
        actor=admin_user, calendar=calendar, weekday=5, windows=[(time(10), time(16))]
    )
    assert cal.is_working_time(at(2026, 12, 5, 11), calendar)
    assert AuditEntry.objects.filter(verb="calendar.windows").exists()


def test_overlapping_windows_are_refused(calendar, admin_user):
    with pytest.raises(ValidationFailed) as exc:
        cal.calendar_window_set(
            actor=admin_user,
            calendar=calendar,
            weekday=0,
            windows=[(time(9), time(12)), (time(11), time(13))],
        )
    assert exc.value.code == "invalid_windows"


def test_admin_adds_a_company_holiday(calendar, admin_user):
    cal.calendar_day_set(
        actor=admin_user, calendar=calendar, day=date(2026, 12, 7), kind="holiday", name="店庆"
    )
    assert cal.working_time_between(at(2026, 12, 7), at(2026, 12, 8), calendar) == timedelta(0)
    cal.calendar_day_set(actor=admin_user, calendar=calendar, day=date(2026, 12, 7), kind=None)
    assert cal.is_working_time(at(2026, 12, 7, 10), calendar)


def test_only_admins_change_the_calendar(calendar, owner):
    with pytest.raises(Forbidden):
        cal.calendar_confirm_year(actor=owner, calendar=calendar, year=2027)


def test_next_year_unconfirmed_is_reported_until_an_admin_confirms(calendar, admin_user):
    today = date(2026, 12, 3)
    assert (calendar, 2027) in cal.unconfirmed_years(today=today)
    cal.calendar_confirm_year(actor=admin_user, calendar=calendar, year=2027)
    cal.calendar_confirm_year(actor=admin_user, calendar=calendar, year=2026)
    assert cal.unconfirmed_years(today=today) == []
    # Editing a confirmed year withdraws its confirmation.
    cal.calendar_day_set(actor=admin_user, calendar=calendar, day=date(2027, 1, 1), kind="holiday")
    assert (calendar, 2027) in cal.unconfirmed_years(today=today)


def test_seeding_a_year_beyond_the_library_is_a_clear_error(calendar, admin_user):
    future = max(cal.library_years()) + 1
    with pytest.raises(ValidationFailed) as exc:
        cal.calendar_seed_year(actor=admin_user, calendar=calendar, year=future)
    assert exc.value.code == "year_not_in_library"


def test_seeding_keeps_the_admins_own_days(calendar, admin_user):
    cal.calendar_day_set(
        actor=admin_user, calendar=calendar, day=date(2026, 10, 1), kind="workday", name="值班"
    )
    cal.calendar_seed_year(actor=admin_user, calendar=calendar, year=2026)
    day = CalendarDay.objects.get(calendar=calendar, date=date(2026, 10, 1))
    assert (day.kind, day.source) == ("workday", "admin")
    assert CalendarYear.objects.get(calendar=calendar, year=2026).seeded_at is not None


def test_a_branch_calendar_applies_to_its_departments(org, calendar):
    own = BusinessCalendar.objects.create(
        name="北京", org_unit=org["bj"], time_zone="Asia/Shanghai"
    )
    assert cal.calendar_for_unit(org["bj_sales"]) == own
    assert cal.calendar_for_unit(org["sh_sales"]) == calendar
    assert cal.calendar_for_unit(None) == calendar


def test_admin_page_shows_the_unconfirmed_year_and_confirms_it(client, admin_user, calendar):
    client.force_login(admin_user)
    page = client.get("/business-calendar/?year=2027")
    assert "no confirmed holidays for 2027" in page.content.decode()
    assert "no data for this year yet" in page.content.decode()
    client.post("/business-calendar/", {"action": "confirm", "year": "2027"})
    assert CalendarYear.objects.get(year=2027).confirmed_by == admin_user


def test_admin_page_rejects_badly_written_windows(client, admin_user, calendar):
    client.force_login(admin_user)
    response = client.post(
        "/business-calendar/",
        {"action": "windows", "weekday": "0", "windows": "9 to 5"},
        follow=True,
    )
    assert "Write windows as 09:00-12:00" in response.content.decode()
    assert cal.is_working_time(at(2026, 12, 7, 9, 30), calendar)


def test_calendar_page_is_for_admins_only(client, owner):
    client.force_login(owner)
    assert client.get("/business-calendar/").status_code == 404


def test_admin_home_warns_about_next_year(client, admin_user, calendar, time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 10, tzinfo=SH))
    client.force_login(admin_user)
    assert "no confirmed holidays for 2027" in client.get("/").content.decode()
