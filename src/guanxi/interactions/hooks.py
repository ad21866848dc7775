"""This app's customer hook (customers/hooks.py): the cadence (C2) from a record's first day.

Without it a new customer had no next follow-up until someone logged a first contact, a
change of relationship type (interested, hesitant, not now, never, quoted-but-silent) or of
stage kept the date the old type had set, and a customer that passed to a new owner (a
manager's reassignment, a reception at the desk, a claim from the public pool) kept the
previous owner's date, or had none. The rules are the same `schedule_follow_up` a logged
contact uses; only the moment they run differs.
"""

from guanxi.customers.hooks import OWNER

from .services import schedule_follow_up

# The customer fields the cadence rules key on (cadence.next_follow_up). A contact window
# only moves the slot within the due day and is left to the next contact.
RESCHEDULE_ON = frozenset({"relationship", "stage"})
FIELDS = ["next_follow_up_at", "follow_up_rule", "follow_up_step"]


def schedule_on_customer_change(*, customer, created: bool, changed, now) -> list[str]:
    """A new customer gets its first follow-up; a new relationship type or stage reschedules;
    a new owner gets one on the cadence counted from the moment they took the customer.

    The base is the last contact, or now for a customer never contacted (or for a new owner).
    A follow-up still ahead and earlier than the cadence's new date is kept: the most urgent
    wins, as among the cadence rules themselves. On a change of type or stage that is a date
    a person set by hand ("manual"), as the cadence's own date is what changes; for a new
    owner it is any date still ahead, whoever or whatever set it. When the cadence says no
    follow-up at all (relationship "never", or nobody owns the customer), there is none.
    """
    new_owner = not created and OWNER in changed
    if not created and not new_owner and not (changed & RESCHEDULE_ON):
        return []
    kept = None
    if (
        customer.next_follow_up_at
        and customer.next_follow_up_at >= now
        and (new_owner or customer.follow_up_rule == "manual")
    ):
        kept = (customer.next_follow_up_at, customer.follow_up_rule, customer.follow_up_step)
    schedule_follow_up(customer, now=now, since=now if new_owner else None)
    if kept and customer.next_follow_up_at and kept[0] < customer.next_follow_up_at:
        customer.next_follow_up_at, customer.follow_up_rule, customer.follow_up_step = kept
    return FIELDS
