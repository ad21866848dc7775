"""The iCalendar feed of one user's follow-ups, promises and occasions (for phone calendars)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from guanxi.customers.models import Customer

from .models import Promise
from .occasions import upcoming_occasions
from .selectors import birthdays_within, important_dates_within

FEED_DAYS = 60


def build_feed(*, user, base_url: str, now: datetime | None = None) -> bytes:
    now = now or timezone.now()
    today = timezone.localdate(now)
    cal = Calendar()
    cal.add("prodid", "-//Guanxi CRM//guanxi//")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Guanxi · {user}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    follow_ups = (
        Customer.objects.filter(
            owner=user,
            archived_at__isnull=True,
            next_follow_up_at__gte=now - timedelta(days=7),
            next_follow_up_at__lt=now + timedelta(days=FEED_DAYS),
        )
        .order_by("next_follow_up_at")
        .values_list("id", "name", "next_follow_up_at", "follow_up_step")
    )
    for customer_id, name, at, step in follow_ups[:2000]:
        event = Event()
        event.add("uid", f"followup-{customer_id}@guanxi")
        event.add("summary", f"跟进 Follow up: {name}")
        event.add("dtstart", at)
        event.add("dtend", at + timedelta(minutes=30))
        event.add("dtstamp", now)
        event.add("url", f"{base_url}/customers/{customer_id}/")
        if step:
            event.add("description", step)
        cal.add_component(event)
    promises = (
        Promise.objects.open()
        .filter(
            customer__owner=user,
            customer__archived_at__isnull=True,
            due_date__lt=today + timedelta(days=FEED_DAYS),
        )
        .select_related("customer")[:2000]
    )
    for promise in promises:
        event = Event()
        event.add("uid", f"promise-{promise.pk}@guanxi")
        event.add("summary", f"承诺 Promise: {promise.text} ({promise.customer.name})")
        event.add("dtstart", promise.due_date)
        event.add("dtstamp", now)
        cal.add_component(event)
    birthdays = birthdays_within(user=user, start=today, days=FEED_DAYS)
    dates = important_dates_within(user=user, start=today, days=FEED_DAYS, limit=2000)
    for occasion in upcoming_occasions(
        user=user, customers=birthdays, important_dates=dates, start=today, days=FEED_DAYS
    ):
        event = Event()
        event.add(
            "uid", f"occasion-{occasion.occasion}-{occasion.customer or 0}-{occasion.date}@guanxi"
        )
        event.add("summary", str(occasion.label))
        event.add("dtstart", occasion.date)
        event.add("dtstamp", now)
        event.add("description", occasion.greeting)
        cal.add_component(event)
    return cal.to_ical()
