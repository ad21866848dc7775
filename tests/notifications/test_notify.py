"""The notification centre (ARCHITECTURE): one service every app sends through; idempotent
per cause, shown in the reader's language, withdrawn when its cause is gone."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from guanxi.notifications.models import Notification
from guanxi.notifications.selectors import notifications_unread, notifications_unread_count
from guanxi.notifications.services import (
    Notice,
    notification_mark_read,
    notify,
    notify_many,
    notify_withdraw,
)
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

DUE = gettext_lazy("%(total)d follow-ups due today (%(overdue)d overdue)")


@pytest.mark.django_db
def test_the_same_cause_notifies_once(owner):
    assert notify(recipient=owner, key="promise:1", title="Call back") is True
    assert notify(recipient=owner, key="promise:1", title="Call back") is False
    assert Notification.objects.filter(user=owner).count() == 1


@pytest.mark.django_db
def test_a_notice_is_read_in_the_readers_language(owner):
    notify(recipient=owner, key="followups:1", title=DUE, params={"total": 3, "overdue": 1})
    notice = Notification.objects.get(user=owner)
    assert notice.title == "%(total)d follow-ups due today (%(overdue)d overdue)"
    with translation.override("en"):
        assert notice.text == "3 follow-ups due today (1 overdue)"
    with translation.override("zh-hans"):
        assert "3" in notice.text and "逾期" in notice.text


@pytest.mark.django_db
def test_replace_refreshes_an_unread_notice_but_not_a_read_one(owner):
    notice = Notice(recipient_id=owner.pk, key="k", title=DUE, params={"total": 2, "overdue": 0})
    notify_many([notice])
    again = Notice(recipient_id=owner.pk, key="k", title=DUE, params={"total": 5, "overdue": 1})
    assert notify_many([again], replace=True) == 1
    assert Notification.objects.get(user=owner).params == {"total": 5, "overdue": 1}
    notification_mark_read(actor=owner)
    later = Notice(recipient_id=owner.pk, key="k", title=DUE, params={"total": 9, "overdue": 9})
    assert notify_many([later], replace=True) == 0
    assert Notification.objects.get(user=owner).params == {"total": 5, "overdue": 1}


@pytest.mark.django_db
def test_a_notice_whose_cause_is_gone_is_withdrawn(owner, teammate):
    notify(recipient=owner, key="overdue:7:202610", title="Pay")
    notify(recipient=teammate, key="overdue:7:202610", title="Pay")
    notify(recipient=owner, key="promise:3", title="Call")
    assert notify_withdraw(key="overdue:7:", prefix=True) == 2
    assert list(Notification.objects.values_list("key", flat=True)) == ["promise:3"]


@pytest.mark.django_db
def test_nobody_marks_another_users_notice_read(owner, teammate):
    notify(recipient=teammate, key="x", title="Theirs")
    theirs = Notification.objects.get(user=teammate)
    assert notification_mark_read(actor=owner, notification_id=theirs.pk) == 0
    assert notifications_unread_count(user=teammate) == 1
    assert [n.pk for n in notifications_unread(user=teammate)] == [theirs.pk]


@pytest.mark.django_db
def test_users_who_asked_for_email_get_it_queued(owner, teammate):
    owner.notify_by_email, owner.email = True, "owner@example.cn"
    owner.save()
    notify_many([Notice(recipient_id=u.pk, key="k", title="Hello") for u in (owner, teammate)])
    states = dict(Notification.objects.values_list("user_id", "email_state"))
    assert states == {owner.pk: "pending", teammate.pk: "none"}


@pytest.mark.django_db
def test_a_bad_id_marks_nothing_read(client, owner):
    notify(recipient=owner, key="a", title="A")
    client.force_login(owner)
    client.post("/notifications/read/", {"id": "9" * 40})
    client.post("/notifications/read/", {"id": "abc"})
    assert notifications_unread_count(user=owner) == 1
    client.post("/notifications/read/")
    assert notifications_unread_count(user=owner) == 0
