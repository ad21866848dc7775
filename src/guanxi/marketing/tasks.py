from django_tasks import task

from . import birthdays, segments, sending, services
from .models import Campaign, Segment


@task()
def send_due_campaigns() -> int:
    """Every minute: run the campaigns that are due (and take over ones whose run died)."""
    count = 0
    for campaign_id in sending.due_campaigns():
        sending.campaign_run(campaign_id=campaign_id)
        count += 1
    return count


@task()
def send_campaign(campaign_id: int) -> dict:
    return sending.campaign_run(campaign_id=campaign_id)


@task()
def rebuild_segments() -> dict:
    """Nightly: every dynamic segment from scratch (running figures change without hooks)."""
    took = {}
    for segment_id in Segment.objects.filter(kind=Segment.Kind.DYNAMIC).values_list(
        "id", flat=True
    ):
        took[segment_id] = segments.segment_rebuild(segment_id=segment_id).rebuild_seconds
    return took


@task()
def attribute_conversions() -> int:
    """Hourly: orders within each campaign's window are attributed to it."""
    total = 0
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.DONE).values_list(
        "id", flat=True
    ):
        total += services.attribute_conversions(campaign_id=campaign_id)
    return total


@task()
def send_birthday_greetings() -> dict:
    """Hourly: today's birthday greetings (once a year each; quiet hours wait for a later run)."""
    return birthdays.birthday_greetings_run()
