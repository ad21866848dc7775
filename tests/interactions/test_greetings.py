"""C7 item 2 for greetings: a greeting sent from "my day" passes the same contact policy as
a campaign (customers.contact → marketing's policy): consent per channel, do-not-contact,
quiet hours, the occasion's greeting once a year whoever sends it; every hold-back logged
with its reason and shown on the customer's timeline."""

import json

import pytest
import time_machine

from guanxi.core.models import AuditEntry
from guanxi.customers.services import customer_update
from guanxi.interactions.services import greeting_send
from tests.conftest import new_customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _ten_in_the_morning_in_beijing():
    with time_machine.travel("2026-12-03 02:00:00+00:00", tick=True):
        yield


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.GUANXI_SMS_FILE = tmp_path / "sms.jsonl"
    settings.GUANXI_WECHAT_FILE = tmp_path / "wechat.jsonl"
    settings.GUANXI_CONTACT_WINDOWS = {"sms": ("08:00", "21:00")}  # 10:00 in Beijing now
    return tmp_path


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_a_birthday_greeting_goes_by_sms_and_shows_on_the_timeline(client, owner, customer, outbox):
    outcome = greeting_send(actor=owner, customer_id=customer.pk, occasion="birthday")
    assert outcome.sent and outcome.channel == "sms"
    [sms] = _lines(outbox / "sms.jsonl")
    assert sms["to"] == "+8613812345678" and "Happy birthday, 张三" in sms["text"]
    assert AuditEntry.objects.filter(verb="greeting.send", target_id=customer.pk).exists()
    client.force_login(owner)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "SMS sent: 生日 2026" in page


def test_a_customer_without_sms_consent_gets_nothing_and_the_reason_is_shown(
    client, owner, customer, outbox
):
    customer_update(actor=owner, customer_id=customer.pk, data={"consent_sms": False})
    client.force_login(owner)
    response = client.post(
        f"/customers/{customer.pk}/greeting/", {"occasion": "birthday"}, follow=True
    )
    assert "Greeting by SMS held back: No consent for this channel" in response.content.decode()
    assert _lines(outbox / "sms.jsonl") == []
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "SMS held back: 生日 2026" in page and "No consent for this channel" in page
    assert AuditEntry.objects.filter(verb="greeting.held_back").count() == 1


def test_do_not_contact_holds_back_a_greeting_on_every_channel(owner, customer, outbox):
    customer_update(actor=owner, customer_id=customer.pk, data={"do_not_contact": True})
    for channel in ("sms", "wechat", "email"):
        outcome = greeting_send(
            actor=owner, customer_id=customer.pk, occasion="mid_autumn", channel=channel
        )
        assert (outcome.sent, outcome.reason) == (False, "do_not_contact"), channel
    assert _lines(outbox / "sms.jsonl") == [] and _lines(outbox / "wechat.jsonl") == []


def test_the_same_occasion_greeted_by_a_second_person_reaches_the_customer_once(
    owner, manager, customer, outbox
):
    assert greeting_send(actor=owner, customer_id=customer.pk, occasion="spring_festival").sent
    second = greeting_send(actor=manager, customer_id=customer.pk, occasion="spring_festival")
    assert (second.sent, second.reason) == (False, "duplicate_material")
    assert second.reason_label == "Already received this material"
    assert len(_lines(outbox / "sms.jsonl")) == 1


def test_commercial_hours_apply_to_greetings_by_sms(owner, customer, outbox):
    with time_machine.travel("2026-12-03 14:30:00+00:00"):  # 22:30 in Beijing
        outcome = greeting_send(actor=owner, customer_id=customer.pk, occasion="birthday")
    assert (outcome.sent, outcome.reason) == (False, "quiet_hours")
    assert _lines(outbox / "sms.jsonl") == []


def test_a_greeting_by_wechat_uses_the_wechat_provider(owner, outbox):
    customer = new_customer(owner, "王五", ("13900001111",), wechat_id="wangwu_88")
    outcome = greeting_send(
        actor=owner, customer_id=customer.pk, occasion="new_year", channel="wechat"
    )
    assert outcome.sent
    assert [x["to"] for x in _lines(outbox / "wechat.jsonl")] == ["wangwu_88"]


def test_only_the_salesperson_or_a_manager_sends_greetings(client, marketer, outsider, customer):
    client.force_login(outsider)
    url = f"/api/v1/customers/{customer.pk}/greetings"
    assert (
        client.post(url, {"occasion": "birthday"}, content_type="application/json").status_code
        == 404
    )
    client.force_login(marketer)  # sees the customer (masked), may not write as the owner
    response = client.post(url, {"occasion": "birthday"}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_the_api_answers_with_the_reason_and_refuses_a_bad_occasion(client, owner, customer):
    client.force_login(owner)
    url = f"/api/v1/customers/{customer.pk}/greetings"
    bad = client.post(url, {"occasion": "party"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "occasion"
    first = client.post(url, {"occasion": "birthday"}, content_type="application/json").json()
    assert first == {"sent": True, "channel": "sms", "reason": "", "reason_label": ""}
    again = client.post(url, {"occasion": "birthday"}, content_type="application/json").json()
    assert again["reason"] == "duplicate_material" and again["reason_label"]


class DownBackend:
    def send(self, to, text, reference):
        raise ConnectionError("provider unreachable")


def test_a_provider_that_is_down_is_a_clear_error_and_nothing_counts_as_sent(
    client, settings, owner, customer
):
    settings.GUANXI_SMS_BACKEND = "tests.interactions.test_greetings.DownBackend"
    client.force_login(owner)
    url = f"/api/v1/customers/{customer.pk}/greetings"
    response = client.post(url, {"occasion": "birthday"}, content_type="application/json")
    assert response.status_code == 502 and response.json()["code"] == "delivery_failed"
    settings.GUANXI_SMS_BACKEND = "guanxi.marketing.channels.FileSmsBackend"
    # Nothing was reserved: the greeting can be sent once the provider is back.
    assert greeting_send(actor=owner, customer_id=customer.pk, occasion="birthday").sent


def test_my_day_offers_to_send_the_birthday_greeting(client, owner):
    from datetime import date

    new_customer(owner, "赵六", ("13900002222",), birthday=date(1990, 12, 5))
    client.force_login(owner)
    page = client.get("/my-day/").content.decode()
    assert "Send greeting" in page and 'name="occasion" value="birthday"' in page
