"""This app's customer hook (customers/hooks.py): the cadence (C2) from a record's first day.

Without it a new customer had no next follow-up until someone logged a first contact, and a
change of relationship type (interested, hesitant, not now, never, quoted-but-silent) or of
stage kept the date the old type had set. The rules are the same `schedule_follow_up` a
logged contact uses; only the moment they run differs.
"""

from .services import schedule_follow_up

# The customer fields the cadence rules key on (cadence.next_follow_up). A contact window
# only moves the slot within the due day and is left to the next contact.
RESCHEDULE_ON = frozenset({"relationship", "stage"})
FIELDS = ["next_follow_up_at", "follow_up_rule", "follow_up_step"]


def schedule_on_customer_change(*, customer, created: bool, changed, now) -> list[str]:
    """A new customer gets its first follow-up; a new relationship type or stage reschedules.

    The base is the last contact, or now for a customer never contacted. A date a person set
    by hand ("manual") that is still ahead and earlier than the cadence's new date is kept:
    the most urgent wins, as among the cadence rules themselves. When the cadence says no
    follow-up at all (relationship "never", or nobody owns the customer), there is none.
    """
    if not created and not (changed & RESCHEDULE_ON):
        return []
    manual = None
    if (
        customer.follow_up_rule == "manual"
        and customer.next_follow_up_at
        and customer.next_follow_up_at >= now
    ):
        manual = (customer.next_follow_up_at, customer.follow_up_step)
    schedule_follow_up(customer, now=now)
    if manual and customer.next_follow_up_at and manual[0] < customer.next_follow_up_at:
        customer.next_follow_up_at, customer.follow_up_step = manual
        customer.follow_up_rule = "manual"
    return FIELDS
