"""Contact windows (SPEC C2) in Asia/Shanghai time on a server whose clock runs in UTC.

Defaults: 10:30–11:30 and 15:00–18:00 are good, 08:30–10:00 and 11:30–15:00 poor. A
customer's own window overrides; after enough calls with an outcome, the hours at which
this customer actually answers are learned and suggested.
"""

import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest

from guanxi.interactions.windows import slot_quality, suggest_slots, windows_for

from .helpers import NOW, local, log, set_fields


def test_the_process_runs_in_utc_and_the_business_in_shanghai(clock, settings):
    assert (time.strftime("%z"), settings.TIME_ZONE) == ("+0000", "Asia/Shanghai")
    assert datetime.now().hour == 2  # naive local time would say 02:00, not 10:00


def test_default_suggestions_are_shanghai_hours(clock, customer):
    assert suggest_slots(customer) == [
        local(2026, 3, 2, 10, 30),
        local(2026, 3, 2, 11, 0),
        local(2026, 3, 2, 15, 0),
    ]
    # The same instants in UTC: 02:30, 03:00 and 07:00.
    assert [s.astimezone(UTC).strftime("%H:%M") for s in suggest_slots(customer)] == [
        "02:30",
        "03:00",
        "07:00",
    ]


def test_default_suggestions_later_in_the_day_roll_over_to_tomorrow(clock, customer):
    clock.move_to(local(2026, 3, 2, 17, 10), tick=False)
    assert suggest_slots(customer) == [
        local(2026, 3, 2, 17, 30),
        local(2026, 3, 3, 10, 30),
        local(2026, 3, 3, 11, 0),
    ]


def test_contact_slots_api_answers_in_shanghai_time(clock, client, owner, customer):
    client.force_login(owner)
    body = client.get(f"/api/v1/customers/{customer.pk}/contact-slots").json()
    slots = [datetime.fromisoformat(s) for s in body["slots"]]
    assert (body["source"], slots) == (
        "default",
        [local(2026, 3, 2, 10, 30), local(2026, 3, 2, 11, 0), local(2026, 3, 2, 15, 0)],
    )


def test_customers_own_window_overrides(clock, customer):
    set_fields(
        customer, contact_window_start=clock_time(19, 0), contact_window_end=clock_time(20, 0)
    )
    assert windows_for(customer).source == "customer"
    assert suggest_slots(customer) == [
        local(2026, 3, 2, 19, 0),
        local(2026, 3, 2, 19, 30),
        local(2026, 3, 3, 19, 0),
    ]
    assert slot_quality(customer, local(2026, 3, 3, 19, 15)) == "good"
    assert slot_quality(customer, local(2026, 3, 3, 10, 30)) != "good"


def test_follow_up_uses_the_customers_own_window(clock, owner, customer):
    set_fields(
        customer, contact_window_start=clock_time(19, 0), contact_window_end=clock_time(21, 0)
    )
    log(owner, customer)
    customer.refresh_from_db()
    assert customer.next_follow_up_at == local(2026, 3, 16, 19, 0)


def _evening_answerer(owner, customer, days=3):
    """Calls on the last `days` days: answered at 20:00, never at 10:30 (Shanghai)."""
    for y, m, d in [(2026, 2, 27), (2026, 2, 28), (2026, 3, 1)][-days:]:
        log(owner, customer, occurred_at=local(y, m, d, 10, 30), outcome="no_answer")
        log(owner, customer, occurred_at=local(y, m, d, 20, 0), outcome="answered")


def test_learned_hours_are_suggested_after_enough_calls(clock, owner, customer):
    _evening_answerer(owner, customer)  # 6 calls with an outcome
    assert windows_for(customer).source == "learned"
    assert suggest_slots(customer) == [
        local(2026, 3, 2, 20, 0),
        local(2026, 3, 2, 20, 30),
        local(2026, 3, 3, 20, 0),
    ]
    assert slot_quality(customer, local(2026, 3, 3, 20, 0)) == "good"
    assert slot_quality(customer, local(2026, 3, 3, 10, 30)) != "good"


def test_learned_hours_drive_the_next_follow_up(clock, owner, customer):
    _evening_answerer(owner, customer)
    log(owner, customer, outcome="answered")
    customer.refresh_from_db()
    assert customer.next_follow_up_at == local(2026, 3, 16, 20, 0)


def test_learned_hours_show_in_the_api_and_the_log_form(clock, client, owner, customer):
    _evening_answerer(owner, customer)
    client.force_login(owner)
    body = client.get(f"/api/v1/customers/{customer.pk}/contact-slots").json()
    assert body["source"] == "learned"
    assert datetime.fromisoformat(body["slots"][0]) == local(2026, 3, 2, 20, 0)
    form = client.get(f"/customers/{customer.pk}/log/").content.decode()
    assert "learned from answered calls" in form
    assert "2 Mar, 20:00" in form


def test_too_few_calls_keep_the_defaults(clock, owner, customer):
    _evening_answerer(owner, customer, days=2)  # 4 calls: not enough
    assert windows_for(customer).source == "default"
    assert suggest_slots(customer)[0] == local(2026, 3, 2, 10, 30)


def test_calls_without_an_outcome_teach_nothing(clock, owner, customer):
    for back in range(1, 7):
        log(owner, customer, occurred_at=NOW - timedelta(days=back, hours=-10))
    assert windows_for(customer).source == "default"


@pytest.mark.parametrize(
    ("hour", "minute", "quality"),
    [
        (8, 45, "poor"),
        (9, 59, "poor"),
        (10, 30, "good"),
        (11, 29, "good"),
        (12, 0, "poor"),
        (14, 30, "poor"),
        (15, 0, "good"),
        (17, 59, "good"),
        (19, 0, "neutral"),
    ],
)
def test_slot_quality_in_local_time(clock, customer, hour, minute, quality):
    assert slot_quality(customer, local(2026, 3, 3, hour, minute)) == quality


def test_slot_check_endpoint_warns_about_a_poor_hour(clock, client, owner, customer):
    """The browser sends local wall-clock time without an offset: read as Shanghai time."""
    client.force_login(owner)
    url = f"/customers/{customer.pk}/slot-check/"
    poor = client.get(url, {"next_follow_up_at": "2026-03-03T12:00"}).content.decode()
    good = client.get(url, {"next_follow_up_at": "2026-03-03T10:30"}).content.decode()
    assert 'id="poor-slot"' in poor
    assert "A poor time to reach this customer" in poor
    assert ('id="poor-slot"' in good, "A good time for this customer" in good) == (False, True)


def test_slot_check_is_404_for_a_hidden_customer(clock, client, outsider, customer):
    client.force_login(outsider)
    response = client.get(
        f"/customers/{customer.pk}/slot-check/", {"next_follow_up_at": "2026-03-03T12:00"}
    )
    assert response.status_code == 404
