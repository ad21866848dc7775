"""The iCalendar feed (SPEC C2): a secret URL a phone calendar subscribes to; it parses with
the `icalendar` library and stops working the moment it is revoked or replaced."""

from datetime import date

import pytest
from icalendar import Calendar

from guanxi.core.models import User
from guanxi.customers.models import ImportantDate
from guanxi.interactions import services

from .helpers import local, log, set_fields


@pytest.fixture
def feed_token(clock, owner, customer):
    set_fields(customer, birthday=date(1990, 3, 4))
    ImportantDate.objects.create(customer=customer, label="结婚纪念日", date=date(2015, 4, 18))
    log(owner, customer, promises=[("Bring the colour samples", date(2026, 3, 4))])
    return services.calendar_feed_rotate(actor=owner)


def _events(response) -> dict[str, dict]:
    cal = Calendar.from_ical(response.content)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_feed_parses_and_holds_the_follow_up_the_promise_and_the_birthday(
    client, feed_token, customer
):
    response = client.get(f"/calendar/{feed_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = _events(response)
    follow_up = events[f"followup-{customer.pk}@guanxi"]
    assert str(follow_up["summary"]) == "跟进 Follow up: 张三"
    # On the promise's due day (an open promise brings the follow-up forward from 03-16).
    assert follow_up.decoded("dtstart") == local(2026, 3, 4, 10, 30)
    promise = next(e for uid, e in events.items() if uid.startswith("promise-"))
    assert str(promise["summary"]) == "承诺 Promise: Bring the colour samples (张三)"
    assert promise.decoded("dtstart") == date(2026, 3, 4)
    birthday = next(e for uid, e in events.items() if uid.startswith("occasion-birthday"))
    assert birthday.decoded("dtstart") == date(2026, 3, 4)
    anniversary = next(e for uid, e in events.items() if uid.startswith("occasion-anniv"))
    assert (anniversary.decoded("dtstart"), str(anniversary["summary"])) == (
        date(2026, 4, 18),
        "结婚纪念日 · 张三",
    )


def test_feed_needs_no_login_and_shows_only_the_owners_schedule(
    client, feed_token, teammate, customer
):
    other = services.calendar_feed_rotate(actor=teammate)
    uids = _events(client.get(f"/calendar/{other}.ics")).keys()
    assert not any(str(customer.pk) in uid for uid in uids if uid.startswith("followup"))
    assert not any(uid.startswith("promise-") for uid in uids)


def test_revoked_token_is_404(client, feed_token, owner):
    services.calendar_feed_revoke(actor=owner)
    assert client.get(f"/calendar/{feed_token}.ics").status_code == 404


def test_rotated_token_replaces_the_old_one(client, feed_token, owner):
    new = services.calendar_feed_rotate(actor=owner)
    assert client.get(f"/calendar/{feed_token}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_unknown_token_and_inactive_user_are_404(client, feed_token, owner):
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert client.get(f"/calendar/{feed_token}.ics").status_code == 404


def test_only_the_tokens_hash_is_stored(feed_token, owner):
    assert feed_token not in owner.calendar_feed.token_hash


def test_calendar_page_shows_the_new_link_once_and_revokes_it(clock, client, owner):
    client.force_login(owner)
    html = client.post("/calendar/", {"action": "rotate"}).content.decode()
    url = html.split('id="calendar-url">', 1)[1].split("<", 1)[0]
    path = url.split("testserver", 1)[1]
    assert client.get(path).status_code == 200
    assert 'id="calendar-url"' not in client.get("/calendar/").content.decode()
    client.post("/calendar/", {"action": "revoke"})
    assert client.get(path).status_code == 404
