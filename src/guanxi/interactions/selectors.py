"""Reads for the salesperson's day, the manager's team view and the calendar feed."""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import CharField, Count, Func, Q
from django.utils import timezone

from guanxi.core.models import Role, User, hash_token
from guanxi.customers.models import Customer, ImportantDate
from guanxi.customers.selectors import mark_masking
from guanxi.notifications.selectors import notifications_unread

from .models import CalendarFeed, Plan, Promise
from .occasions import upcoming_occasions
from .windows import local_zone

LIST_LIMIT = 20  # per list in "my day": the most urgent first, the totals beside them
# What a follow-up row shows (and masking needs): not the 60 columns of a customer.
FOLLOW_UP_FIELDS = (
    "id",
    "name",
    "primary_phone",
    "next_follow_up_at",
    "follow_up_step",
    "owner",
    "org_unit",
)
USER_NAME_FIELDS = ("id", "username", "display_name", "first_name", "last_name")


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = local_zone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, start + timedelta(days=1)


@dataclass
class MyDay:
    day: date
    overdue: list = field(default_factory=list)
    due_today: list = field(default_factory=list)
    promises: list = field(default_factory=list)
    occasions: list = field(default_factory=list)
    notifications: list = field(default_factory=list)
    plans: dict = field(default_factory=dict)
    is_saturday: bool = False
    # Totals: the lists above stop at LIST_LIMIT.
    overdue_count: int = 0
    due_today_count: int = 0
    more_promises: bool = False


def my_day(*, user: User, now: datetime | None = None) -> MyDay:
    """Everything a salesperson should act on today, each list bounded, with its total."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, end = local_day_bounds(today)
    mine = Customer.objects.filter(owner=user, archived_at__isnull=True)
    result = MyDay(day=today, is_saturday=today.weekday() == 5)
    rows = mine.only(*FOLLOW_UP_FIELDS).order_by("next_follow_up_at")
    result.overdue = list(rows.filter(next_follow_up_at__lt=start)[:LIST_LIMIT])
    result.due_today = list(
        rows.filter(next_follow_up_at__gte=start, next_follow_up_at__lt=end)[:LIST_LIMIT]
    )
    result.overdue_count, result.due_today_count = _counts(
        result, mine.filter(next_follow_up_at__lt=end), start
    )
    mark_masking(user, result.overdue + result.due_today)
    promises = Promise.objects.open().filter(
        customer__owner=user, customer__archived_at__isnull=True, due_date__lte=today
    )
    # One row past the limit tells whether there are more, without counting them all.
    result.promises = list(
        promises.select_related("customer", "made_by")
        .only(
            "id",
            "text",
            "due_date",
            "done_at",
            "customer__id",
            "customer__name",
            *(f"made_by__{name}" for name in USER_NAME_FIELDS),
        )
        .order_by("due_date", "id")[: LIST_LIMIT + 1]
    )
    result.more_promises = len(result.promises) > LIST_LIMIT
    del result.promises[LIST_LIMIT:]
    birthdays = birthdays_within(user=user, start=today, days=7)
    dates = important_dates_within(user=user, start=today, days=7)
    result.occasions = upcoming_occasions(
        user=user, customers=birthdays, important_dates=dates, start=today, days=7
    )[:LIST_LIMIT]
    result.notifications = notifications_unread(user=user, limit=10)
    result.plans = {
        p.kind: p
        for p in Plan.objects.filter(user=user).filter(
            Q(date=today, kind__in=[Plan.Kind.MORNING, Plan.Kind.EVENING])
            | Q(kind=Plan.Kind.WEEKLY, date=weekly_plan_date(today))
        )
    }
    return result


def _counts(result: MyDay, due_by_end, start: datetime) -> tuple[int, int]:
    """Totals of overdue and due today; no query while both lists are shorter than the limit."""
    if len(result.overdue) < LIST_LIMIT and len(result.due_today) < LIST_LIMIT:
        return len(result.overdue), len(result.due_today)
    totals = due_by_end.aggregate(
        overdue=Count("id", filter=Q(next_follow_up_at__lt=start)),
        due=Count("id", filter=Q(next_follow_up_at__gte=start)),
    )
    return totals["overdue"], totals["due"]


def weekly_plan_date(day: date) -> date:
    """The Monday of the week a plan written on `day` is for: on Saturday and Sunday the
    coming week (the plan is written on Saturday), otherwise the current one."""
    if day.weekday() >= 5:
        return day + timedelta(days=7 - day.weekday())
    return day - timedelta(days=day.weekday())


class MonthDay(Func):
    """'MM-DD' of a date column, computed by the database's own string functions.

    Django's __month / __day lookups call a Python function per row on SQLite (where a date
    is 'YYYY-MM-DD' text): for a salesperson with 5,000 customers that alone took ~90 ms.
    """

    arity = 1
    output_field = CharField()
    template = "to_char(%(expressions)s, 'MM-DD')"  # PostgreSQL

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="substr(%(expressions)s, 6, 5)", **extra_context
        )


def month_days_within(start: date, days: int) -> list[str]:
    """'MM-DD' keys of the `days` days from `start`, for yearly dates.

    29 February is celebrated on 28 February in common years (occasions.anniversary_in).
    """
    keys = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        keys.append(f"{day:%m-%d}")
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            keys.append("02-29")
    return keys


def birthdays_within(*, user: User, start: date, days: int):
    """(id, name, birthday) of the owner's active customers whose birthday is in the window."""
    return (
        Customer.objects.filter(owner=user, archived_at__isnull=True)
        .alias(birthday_md=MonthDay("birthday"))
        .filter(birthday_md__in=month_days_within(start, days))
        .values_list("id", "name", "birthday")
    )


def important_dates_within(*, user: User, start: date, days: int, limit: int = LIST_LIMIT * 10):
    """(customer id, customer name, label, date, yearly) of the owner's important dates
    that fall in the window: yearly ones by month and day, one-off ones by date."""
    end = start + timedelta(days=days)
    return (
        ImportantDate.objects.filter(customer__owner=user, customer__archived_at__isnull=True)
        .alias(date_md=MonthDay("date"))
        .filter(
            Q(yearly=True, date_md__in=month_days_within(start, days))
            | Q(yearly=False, date__gte=start, date__lt=end)
        )
        .order_by("date", "id")
        .values_list("customer_id", "customer__name", "label", "date", "yearly")[:limit]
    )


@dataclass
class TeamRow:
    user: User
    overdue: int
    due_today: int
    morning: Plan | None
    evening: Plan | None
    weekly: Plan | None


def team_overview(*, manager: User, now: datetime | None = None) -> list[TeamRow]:
    """Per salesperson in the manager's units: overdue and due counts, today's plans."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start, end = local_day_bounds(today)
    if manager.is_admin:
        people = User.objects.filter(roles__role=Role.SALES, is_active=True)
    else:
        people = User.objects.filter(
            roles__role=Role.SALES, is_active=True, org_unit_id__in=manager.managed_unit_ids
        )
    people = list(people.distinct().order_by("display_name", "username"))
    counts = {
        row["owner_id"]: row
        for row in Customer.objects.filter(
            owner__in=people, archived_at__isnull=True, next_follow_up_at__lt=end
        )
        .values("owner_id")
        .annotate(
            overdue=Count("id", filter=Q(next_follow_up_at__lt=start)),
            due=Count("id", filter=Q(next_follow_up_at__gte=start)),
        )
    }
    plans: dict[tuple[int, str], Plan] = {
        (p.user_id, p.kind): p
        for p in Plan.objects.filter(user__in=people).filter(
            Q(date=today) | Q(kind=Plan.Kind.WEEKLY, date=weekly_plan_date(today))
        )
    }
    return [
        TeamRow(
            user=person,
            overdue=counts.get(person.id, {}).get("overdue", 0),
            due_today=counts.get(person.id, {}).get("due", 0),
            morning=plans.get((person.id, Plan.Kind.MORNING)),
            evening=plans.get((person.id, Plan.Kind.EVENING)),
            weekly=plans.get((person.id, Plan.Kind.WEEKLY)),
        )
        for person in people
    ]


def calendar_user(raw_token: str) -> User | None:
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=hash_token(raw_token), user__is_active=True)
        .first()
    )
    return feed.user if feed else None
