"""Protection in calendar terms (SPEC C3, issue 11 item 6): "2 months" is two calendar months
in the office's time zone, to the end of the last day, inclusive. Received on Monday
2 March 2026 at 10:00, a customer is protected to 2 May 2026, 23:59:59.999999; on 3 May the
claim has lapsed. Tested on the day before, the day and the day after."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.ownership import protection_end_after
from guanxi.reception.rules import Protection

ZONE = ZoneInfo("Asia/Shanghai")
PHONE = "13911114444"


@pytest.fixture
def in_months(receptionist, manager, org):
    services.settings_update(actor=manager, branch_id=org["bj"].pk, values={"protection_months": 2})


def test_two_calendar_months_end_at_the_end_of_the_last_day(in_months, desk, trio):
    visit = desk.walk_in(PHONE, "冯女士")
    customer = Customer.objects.get(pk=visit.customer_id)
    assert customer.protected_until == datetime(2026, 5, 2, 23, 59, 59, 999999, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("start", "months", "last_day"),
    [
        (datetime(2026, 1, 31, 9, 0, tzinfo=ZONE), 1, (2026, 2, 28)),  # a shorter month
        (datetime(2028, 1, 31, 9, 0, tzinfo=ZONE), 1, (2028, 2, 29)),  # a leap year
        (datetime(2026, 11, 15, 23, 30, tzinfo=ZONE), 2, (2027, 1, 15)),  # over the year's end
        # 23:30 UTC is already the next day at the office.
        (datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("UTC")), 2, (2026, 5, 2)),
    ],
)
def test_calendar_months(start, months, last_day):
    end = protection_end_after(start, Protection(months=months))
    assert end == datetime(*last_day, 23, 59, 59, 999999, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("day", "protected"),
    [((2026, 5, 1), True), ((2026, 5, 2), True), ((2026, 5, 3), False)],
    ids=["day-before", "the-last-day", "day-after"],
)
def test_a_returning_customer_on_the_boundary_days(in_months, desk, trio, clock, day, protected):
    a, b, c = trio
    first = desk.walk_in(PHONE, "冯女士")
    assert first.receiver_id == a.pk
    clock.move_to(datetime(*day, 22, 0, tzinfo=ZONE), tick=False)
    services.roster_set(actor=desk.actor, salesperson_ids=[b.pk, c.pk, a.pk])
    again = desk.walk_in(PHONE)
    owner = Customer.objects.get(pk=first.customer_id).owner_id
    if protected:
        assert (again.case_number, again.receiver_id, owner) == (1, a.pk, a.pk)
    else:
        assert (again.receiver_id, owner) == (b.pk, b.pk)


def test_the_desk_shows_the_exact_end(in_months, client, desk, trio):
    desk.walk_in(PHONE, "冯女士")
    client.force_login(desk.actor)
    html = client.get("/reception/lookup/", {"phone": PHONE}).content.decode()
    assert 'id="protected-until">2 May 2026, 23:59<' in html
