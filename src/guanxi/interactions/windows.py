"""Contact windows (SPEC C2): when to call a customer, in Asia/Shanghai time.

A customer's own window wins; else, once enough calls with an outcome are logged, the hours
at which this customer actually answered; else the defaults 10:30–11:30 and 15:00–18:00.
08:30–10:00 and 11:30–15:00 are poor hours.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from .models import Interaction

DEFAULT_GOOD = [(time(10, 30), time(11, 30)), (time(15, 0), time(18, 0))]
DEFAULT_POOR = [(time(8, 30), time(10, 0)), (time(11, 30), time(15, 0))]
MIN_CALLS_TO_LEARN = 5
LEARN_FROM_LAST = 50
ANSWER_RATE = 0.6
SLOT_MINUTES = 30


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass
class Windows:
    good: list[tuple[time, time]]
    poor: list[tuple[time, time]]
    source: str  # "customer", "learned" or "default"


def learned_hours(customer) -> list[int] | None:
    """Local hours at which this customer answers, or None while there is too little history."""
    calls = list(
        Interaction.objects.filter(customer=customer, kind__in=Interaction.CALLS)
        .exclude(outcome="")
        .order_by("-occurred_at")
        .values_list("occurred_at", "outcome")[:LEARN_FROM_LAST]
    )
    if len(calls) < MIN_CALLS_TO_LEARN:
        return None
    zone = local_zone()
    tried, answered = Counter(), Counter()
    for at, outcome in calls:
        hour = at.astimezone(zone).hour
        tried[hour] += 1
        answered[hour] += outcome == Interaction.Outcome.ANSWERED
    hours = sorted(h for h in tried if answered[h] >= 2 and answered[h] / tried[h] >= ANSWER_RATE)
    return hours or None


def windows_for(customer) -> Windows:
    if customer.contact_window_start and customer.contact_window_end:
        return Windows(
            [(customer.contact_window_start, customer.contact_window_end)], DEFAULT_POOR, "customer"
        )
    hours = learned_hours(customer)
    if hours:
        good = [(time(h, 0), time(h, 59, 59)) for h in hours]
        return Windows(good, DEFAULT_POOR, "learned")
    return Windows(DEFAULT_GOOD, DEFAULT_POOR, "default")


def _inside(moment: time, spans) -> bool:
    return any(start <= moment < end for start, end in spans)


def slot_quality(customer, at: datetime, windows: Windows | None = None) -> str:
    """'good', 'poor' or 'neutral' for a planned contact at `at`."""
    windows = windows or windows_for(customer)
    local = at.astimezone(local_zone()).time()
    if _inside(local, windows.good):
        return "good"
    if _inside(local, windows.poor):
        return "poor"
    return "neutral"


def suggest_slots(
    customer, after: datetime | None = None, count: int = 3, windows: Windows | None = None
) -> list[datetime]:
    """The next `count` good slots (aware datetimes) starting after `after`."""
    windows = windows or windows_for(customer)
    zone = local_zone()
    after = (after or timezone.now()).astimezone(zone)
    slots: list[datetime] = []
    day = after.date()
    for _ in range(14):
        for start, end in sorted(windows.good):
            moment = datetime.combine(day, start, tzinfo=zone)
            close = datetime.combine(day, end, tzinfo=zone)
            while moment < close and len(slots) < count:
                if moment >= after:
                    slots.append(moment)
                moment += timedelta(minutes=SLOT_MINUTES)
        if len(slots) >= count:
            break
        day += timedelta(days=1)
    return slots


def first_good_slot_on_or_after(customer, at: datetime, windows: Windows | None = None) -> datetime:
    """Move a due time to the first good slot that day or later (never earlier)."""
    slots = suggest_slots(customer, after=at, count=1, windows=windows)
    return slots[0] if slots else at
