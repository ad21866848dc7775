"""C7 / C2: the automatic birthday greeting — today's birthdays in each branch's time zone,
through the one contact policy, once a year per customer, resumable after a crash."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from guanxi.core.models import BusinessCalendar
from guanxi.customers.models import Customer
from guanxi.marketing import birthdays, services
from guanxi.marketing.models import (
    BirthdayGreeting,
    BirthdayGreetingSettings,
    ContactAttempt,
    ContactProfile,
)
from tests.races import run_together

from .conftest import bulk_customers

pytestmark = pytest.mark.django_db

# 10:00 in Beijing on 15 June 2026; still 14 June (19:00) in Los Angeles.
NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def outbox(settings, tmp_path):
    settings.GUANXI_SMS_FILE = tmp_path / "sms.jsonl"
    BirthdayGreetingSettings.objects.create(enabled=True, channel="sms")

    def sent():
        path = settings.GUANXI_SMS_FILE
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return [json.loads(line) for line in lines]

    return sent


def born(unit, n, birthday, prefix="寿星", start=0, **fields):
    return bulk_customers(unit, n, prefix=prefix, start=start, birthday=birthday, **fields)


def test_a_customer_whose_birthday_is_today_in_their_branchs_time_zone_is_greeted(org, outbox):
    BusinessCalendar.objects.create(
        name="洛杉矶", time_zone="America/Los_Angeles", org_unit=org["sh"]
    )
    [beijing] = born(org["bj_sales"], 1, date(1980, 6, 15), prefix="北京寿星")
    born(org["sh_sales"], 1, date(1985, 6, 15), prefix="上海明天", start=10)
    [la_today] = born(org["sh_sales"], 1, date(1990, 6, 14), prefix="上海今天", start=20)
    born(org["bj_sales"], 1, date(1980, 6, 16), prefix="北京明天", start=30)

    assert birthdays.birthday_greetings_run(now=NOW) == {"sent": 2}
    assert sorted(m["to"] for m in outbox()) == sorted(
        [beijing.primary_phone, la_today.primary_phone]
    )
    [text] = [m["text"] for m in outbox() if m["to"] == beijing.primary_phone]
    assert "北京寿星0000" in text and "生日快乐" in text


def test_29_february_birthdays_are_greeted_on_28_february_in_other_years(org, outbox):
    [leap] = born(org["bj_sales"], 1, date(1988, 2, 29))
    on_28 = datetime(2027, 2, 28, 2, 0, tzinfo=UTC)
    assert birthdays.birthday_greetings_run(now=on_28 - timedelta(days=1)) == {}
    assert birthdays.birthday_greetings_run(now=on_28) == {"sent": 1}
    assert [m["to"] for m in outbox()] == [leap.primary_phone]
    # In a leap year, on the day itself, not the day before.
    on_28_leap = datetime(2028, 2, 28, 2, 0, tzinfo=UTC)
    assert birthdays.birthday_greetings_run(now=on_28_leap) == {}
    assert birthdays.birthday_greetings_run(now=on_28_leap + timedelta(days=1)) == {"sent": 1}


def test_running_twice_greets_each_customer_once_a_year(org, outbox):
    born(org["bj_sales"], 3, date(1980, 6, 15))
    assert birthdays.birthday_greetings_run(now=NOW) == {"sent": 3}
    assert birthdays.birthday_greetings_run(now=NOW + timedelta(hours=1)) == {}
    assert len(outbox()) == 3
    # Next year they are greeted again.
    assert birthdays.birthday_greetings_run(now=NOW.replace(year=2027)) == {"sent": 3}


def test_a_manual_greeting_already_sent_this_year_is_not_repeated(org, outbox):
    [customer] = born(org["bj_sales"], 1, date(1980, 6, 15))
    from guanxi.marketing import policy

    policy.record_sent(
        customer_id=customer.pk,
        channel="wechat",
        purpose="greeting",
        fingerprint=policy.fingerprint_of(birthdays.material_of(2026)),
    )
    assert birthdays.birthday_greetings_run(now=NOW) == {"skipped": 1}
    assert outbox() == []
    assert BirthdayGreeting.objects.get().reason == "duplicate_material"


def test_consent_and_do_not_contact_hold_the_greeting_back_with_the_reason_logged(org, outbox):
    withdrawn, dnc, no_consent, fine = born(org["bj_sales"], 4, date(1980, 6, 15))
    services.consent_record(
        actor=None,
        customer_id=withdrawn.pk,
        channels=["sms"],
        purpose="greeting",
        granted=False,
        method="reply",
    )
    Customer.objects.filter(pk=dnc.pk).update(do_not_contact=True)
    Customer.objects.filter(pk=no_consent.pk).update(consent_sms=False)

    assert birthdays.birthday_greetings_run(now=NOW) == {"skipped": 3, "sent": 1}
    assert [m["to"] for m in outbox()] == [fine.primary_phone]
    reasons = dict(BirthdayGreeting.objects.values_list("customer_id", "reason"))
    assert reasons == {
        withdrawn.pk: "withdrawn",
        dnc.pk: "do_not_contact",
        no_consent.pk: "no_consent",
        fine.pk: "",
    }
    logged = dict(
        ContactAttempt.objects.filter(outcome="skipped", source=birthdays.SOURCE).values_list(
            "customer_id", "reason"
        )
    )
    assert logged == {k: v for k, v in reasons.items() if v}


def test_a_greeting_due_in_quiet_hours_waits_until_the_window_opens(org, outbox, settings):
    settings.GUANXI_CONTACT_WINDOWS = {"sms": ("08:00", "21:00")}
    [customer] = born(org["bj_sales"], 1, date(1980, 6, 15))
    ContactProfile.objects.create(customer=customer, time_zone="Asia/Shanghai")
    early = datetime(2026, 6, 14, 22, 30, tzinfo=UTC)  # 06:30 in Beijing

    def run_at(at):
        with time_machine.travel(at, tick=False):
            return birthdays.birthday_greetings_run()

    assert run_at(early) == {"waiting": 1}
    assert run_at(early + timedelta(hours=1)) == {}  # 07:30
    assert outbox() == []
    row = BirthdayGreeting.objects.get()
    assert row.status == "waiting" and row.reason == "quiet_hours"
    assert run_at(early + timedelta(hours=2)) == {"sent": 1}
    assert len(outbox()) == 1
    # The wait is logged once, not every hour.
    assert ContactAttempt.objects.filter(outcome="skipped", reason="quiet_hours").count() == 1


class Crash(BaseException):
    """A worker killed mid-run."""


def test_a_crash_mid_run_resumes_without_greeting_anyone_twice(org, outbox, monkeypatch):
    customers = born(org["bj_sales"], 6, date(1980, 6, 15))
    from guanxi.marketing.channels import FileSmsBackend

    real_send = FileSmsBackend.send
    calls = {"n": 0}

    def crashing(self, to, text, reference):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        return real_send(self, to, text, reference)

    monkeypatch.setattr(FileSmsBackend, "send", crashing)
    with pytest.raises(Crash):
        birthdays.birthday_greetings_run(now=NOW)
    assert len(outbox()) == 2
    # The next run goes on with the rest; the one caught mid-send is never resent blindly.
    assert birthdays.birthday_greetings_run(now=NOW + timedelta(minutes=5)) == {"sent": 3}
    birthdays.birthday_greetings_run(now=NOW + timedelta(hours=1))
    phones = [m["to"] for m in outbox()]
    assert len(phones) == len(set(phones)) == 5
    statuses = dict(BirthdayGreeting.objects.values_list("customer_id", "status"))
    assert sorted(statuses.values()) == ["sent"] * 5 + ["unconfirmed"]
    assert {c.pk for c in customers} == set(statuses)


def test_switched_off_no_greeting_is_sent(org, outbox):
    BirthdayGreetingSettings.objects.update(enabled=False)
    born(org["bj_sales"], 2, date(1980, 6, 15))
    assert birthdays.birthday_greetings_run(now=NOW) == {}
    assert outbox() == [] and not BirthdayGreeting.objects.exists()


def test_the_chosen_template_and_channel_are_used(org, outbox, admin_user, settings):
    template = services.template_save(
        actor=admin_user,
        data={"name": "生日", "channel": "sms", "body_zh": "{{ salutation }}，生日快乐！"},
    )
    birthdays.birthday_settings_save(
        actor=admin_user, enabled=True, channel="sms", template_id=template.pk
    )
    born(org["bj_sales"], 1, date(1980, 6, 15), gender="m", prefix="王")
    birthdays.birthday_greetings_run(now=NOW)
    assert outbox()[0]["text"] == "王先生，生日快乐！"


def test_only_an_administrator_changes_the_birthday_settings(org, admin_user, marketer):
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(marketer)
    assert client.get("/marketing/birthdays/").status_code == 404
    client.force_login(admin_user)
    page = client.get("/marketing/birthdays/")
    assert page.status_code == 200 and "自动生日祝福" in page.content.decode()
    response = client.post("/marketing/birthdays/", {"enabled": "1", "channel": "wechat"})
    assert response.status_code == 302
    config = birthdays.birthday_settings()
    assert config.enabled and config.channel == "wechat"
    bad = client.post("/marketing/birthdays/", {"enabled": "1", "channel": "fax"})
    assert bad.status_code == 400 and "请选择短信、微信或邮件。" in bad.content.decode()
    assert birthdays.birthday_settings().channel == "wechat"  # nothing half-saved


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_at_once_greet_each_customer_once(org, outbox):
    born(org["bj_sales"], 12, date(1980, 6, 15))
    outcomes = run_together(*[lambda: birthdays.birthday_greetings_run(now=NOW) for _ in range(3)])
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sum(o.get("sent", 0) for o in outcomes) == 12
    phones = [m["to"] for m in outbox()]
    assert len(phones) == len(set(phones)) == 12
