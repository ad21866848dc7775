"""The due-reminder scan (SPEC C2): idempotent when it runs twice or twice at once, and one
e-mail per reminder for users who asked for e-mail."""

from datetime import date, timedelta

import pytest
from django.core import mail

from guanxi.core.models import User
from guanxi.customers.models import Customer
from guanxi.interactions.models import Promise
from guanxi.interactions.tasks import scan_due_reminders_now, send_pending_emails_now
from guanxi.notifications.models import Notification
from tests.conftest import new_customer
from tests.races import run_together

from .helpers import NOW, local, set_fields


@pytest.fixture
def due_work(clock, owner, teammate, customer):
    """sales1: one follow-up overdue, one due today, one next week and a promise due today;
    sales2: one due today."""
    set_fields(customer, next_follow_up_at=local(2026, 2, 27, 10, 30))
    set_fields(
        new_customer(owner, "李四", ("13800001111",)), next_follow_up_at=local(2026, 3, 2, 15)
    )
    set_fields(
        new_customer(owner, "赵六", ("13800002222",)), next_follow_up_at=local(2026, 3, 9, 15)
    )
    set_fields(
        new_customer(teammate, "孙七", ("13800003333",)), next_follow_up_at=local(2026, 3, 2, 11)
    )
    Promise.objects.create(
        customer=customer, made_by=owner, text="Send the quote", due_date=date(2026, 3, 2)
    )
    Promise.objects.create(
        customer=customer, made_by=owner, text="Invite to the launch", due_date=date(2026, 3, 20)
    )
    return {"owner": owner, "teammate": teammate}


def _notifications():
    return sorted(
        (n.user.username, n.key, n.text) for n in Notification.objects.select_related("user")
    )


def test_scan_notifies_each_owner_once_a_day_and_each_promise_due(due_work):
    scan_due_reminders_now()
    promise = Promise.objects.get(text="Send the quote")
    assert _notifications() == [
        ("sales1", "followups:20260302", "2 follow-ups due today (1 overdue)"),
        ("sales1", f"promise:{promise.pk}", "Promise due: Send the quote (张三)"),
        ("sales2", "followups:20260302", "1 follow-ups due today (0 overdue)"),
    ]


def test_scan_twice_creates_nothing_new(due_work):
    scan_due_reminders_now()
    first = _notifications()
    scan_due_reminders_now()
    assert _notifications() == first
    assert len(first) == 3


def test_next_days_scan_notifies_again(due_work, clock):
    scan_due_reminders_now()
    clock.move_to(NOW + timedelta(days=1), tick=False)
    scan_due_reminders_now()
    keys = set(Notification.objects.filter(user__username="sales1").values_list("key", flat=True))
    assert {"followups:20260302", "followups:20260303"} <= keys


def test_kept_promises_and_archived_customers_are_not_reminded(due_work, customer):
    Promise.objects.filter(text="Send the quote").update(done_at=NOW)
    scan_due_reminders_now()
    assert not Notification.objects.filter(key__startswith="promise:").exists()
    set_fields(customer, archived_at=NOW)
    Notification.objects.all().delete()
    scan_due_reminders_now()
    assert _notifications()[0][2] == "1 follow-ups due today (0 overdue)"


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_create_no_duplicates(due_work):
    outcomes = run_together(scan_due_reminders_now, scan_due_reminders_now)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert len(_notifications()) == 3
    assert Notification.objects.values("user", "key").distinct().count() == 3


def _wants_email(user, address):
    User.objects.filter(pk=user.pk).update(notify_by_email=True, email=address)


def test_email_sent_exactly_once_even_when_sending_runs_twice(due_work, owner, teammate):
    Promise.objects.all().delete()  # sales1 then has exactly one reminder: the daily one
    _wants_email(owner, "sales1@example.cn")
    scan_due_reminders_now()
    scan_due_reminders_now()
    assert (send_pending_emails_now(), send_pending_emails_now()) == (1, 0)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["sales1@example.cn"], "2 follow-ups due today (1 overdue)")
    ]
    assert Notification.objects.get(user=owner).email_state == "sent"
    assert Notification.objects.get(user=teammate).email_state == "none"


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_email_once(due_work, owner):
    _wants_email(owner, "sales1@example.cn")
    scan_due_reminders_now()
    outcomes = run_together(send_pending_emails_now, send_pending_emails_now)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert sorted(m.subject for m in mail.outbox) == [
        "2 follow-ups due today (1 overdue)",
        "Promise due: Send the quote (张三)",
    ]


def test_a_sender_that_died_mid_send_is_retried_after_a_while(due_work, owner, clock):
    _wants_email(owner, "sales1@example.cn")
    Promise.objects.all().delete()
    scan_due_reminders_now()
    Notification.objects.filter(user=owner).update(email_state="sending")  # crashed worker
    assert send_pending_emails_now() == 0
    clock.move_to(NOW + timedelta(minutes=20), tick=False)
    assert send_pending_emails_now() == 1
    assert len(mail.outbox) == 1


def test_user_without_an_address_gets_no_email(due_work, owner):
    User.objects.filter(pk=owner.pk).update(notify_by_email=True, email="")
    scan_due_reminders_now()
    assert send_pending_emails_now() == 0
    assert mail.outbox == []


def test_the_days_follow_up_count_disappears_when_the_customers_moved_away(due_work):
    scan_due_reminders_now()
    teammate = due_work["teammate"]
    assert Notification.objects.filter(user=teammate, key__startswith="followups:").exists()
    Customer.objects.filter(owner=teammate).update(next_follow_up_at=None)
    scan_due_reminders_now()
    assert not Notification.objects.filter(user=teammate, key__startswith="followups:").exists()
