"""SPEC C3: the protection period (建档有效期) is by default 2 calendar months, to the end of
the last day in the branch's time zone (issue 11 item 6). With no settings saved, a customer
received on Monday 2 March 2026 at 10:00 is protected to 2 May 2026, 23:59:59.999999 at the
office; on 3 May the claim has lapsed. Tested on the day before, the day and the day after."""

import importlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from guanxi.core.models import BusinessCalendar
from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.models import ReceptionSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")  # UTC+6: two hours behind the server's Asia/Shanghai
PHONE = "13911115555"


def test_the_default_protection_period_is_two_calendar_months(org):
    config = services.settings_for(org["bj"])
    assert (config.protection_months, config.protection.months) == (2, 2)


def test_a_new_customer_is_protected_to_the_end_of_the_day_two_calendar_months_later(desk, trio):
    visit = desk.walk_in(PHONE, "冯女士")
    customer = Customer.objects.get(pk=visit.customer_id)
    assert customer.protected_until == datetime(2026, 5, 2, 23, 59, 59, 999999, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "protected"),
    [((2026, 5, 1), True), ((2026, 5, 2), True), ((2026, 5, 3), False)],
    ids=["day-before", "the-last-day", "day-after"],
)
def test_by_default_the_claim_holds_through_the_last_day_and_not_after(
    desk, trio, clock, day, protected
):
    a, b, c = trio
    first = desk.walk_in(PHONE, "冯女士")
    assert first.receiver_id == a.pk
    clock.move_to(datetime(*day, 23, 30, tzinfo=SHANGHAI), tick=False)
    services.roster_set(actor=desk.actor, salesperson_ids=[b.pk, c.pk, a.pk])
    again = desk.walk_in(PHONE)
    owner = Customer.objects.get(pk=first.customer_id).owner_id
    if protected:
        assert (again.case_number, again.receiver_id, owner) == (1, a.pk, a.pk)
    else:
        assert (again.receiver_id, owner) == (b.pk, b.pk)


@pytest.fixture
def urumqi_office(org):
    """The Beijing office keeps its books on Urumqi time (a branch calendar of its own)."""
    return BusinessCalendar.objects.create(
        name="乌鲁木齐", time_zone="Asia/Urumqi", org_unit=org["bj"]
    )


def test_the_last_day_ends_at_midnight_in_the_branchs_time_zone(urumqi_office, desk, trio):
    visit = desk.walk_in(PHONE, "冯女士")
    customer = Customer.objects.get(pk=visit.customer_id)
    assert customer.protected_until == datetime(2026, 5, 2, 23, 59, 59, 999999, tzinfo=URUMQI)


@pytest.mark.parametrize(
    ("at", "protected"),
    [
        # 3 May 01:30 in Shanghai is still 2 May, 23:30 at the office: the last day.
        (datetime(2026, 5, 3, 1, 30, tzinfo=SHANGHAI), True),
        # 3 May 02:30 in Shanghai is 3 May, 00:30 at the office: the day after.
        (datetime(2026, 5, 3, 2, 30, tzinfo=SHANGHAI), False),
    ],
    ids=["last-day-at-the-office", "day-after-at-the-office"],
)
def test_the_boundary_follows_the_branchs_clock(urumqi_office, desk, trio, clock, at, protected):
    a, b, c = trio
    first = desk.walk_in(PHONE, "冯女士")
    clock.move_to(at, tick=False)
    services.roster_set(actor=desk.actor, salesperson_ids=[b.pk, c.pk, a.pk])
    again = desk.walk_in(PHONE)
    assert (again.receiver_id == a.pk) is protected
    assert first.receiver_id == a.pk


def test_the_desk_shows_the_exact_end_in_the_branchs_time_zone(urumqi_office, client, desk, trio):
    desk.walk_in(PHONE, "冯女士")
    client.force_login(desk.actor)
    html = client.get("/reception/lookup/", {"phone": PHONE}).content.decode()
    assert 'id="protected-until">2 May 2026, 23:59<' in html


def test_the_desks_decision_shows_the_exact_end(client, desk, trio):
    client.force_login(desk.actor)
    response = client.post("/reception/", {"phone": PHONE, "name": "冯女士"}, follow=True)
    html = response.content.decode()
    assert 'id="decision-protected-until">2 May 2026, 23:59<' in html


def test_branches_on_the_old_default_move_to_two_months_and_chosen_periods_stay(org):
    chosen = ReceptionSettings.objects.create(branch=org["bj"], protection_days=30)
    old_default = ReceptionSettings.objects.create(branch=org["sh"], protection_days=60)
    ReceptionSettings.objects.filter(pk__in=[chosen.pk, old_default.pk]).update(protection_months=0)
    migration = importlib.import_module(
        "guanxi.reception.migrations.0005_protection_default_two_calendar_months"
    )
    migration.to_two_months(apps, None)
    migration.to_two_months(apps, None)  # re-runnable
    chosen.refresh_from_db()
    old_default.refresh_from_db()
    assert (chosen.protection_days, chosen.protection_months) == (30, 0)
    assert (old_default.protection_days, old_default.protection_months) == (60, 2)
