"""Hostile input at the greetings endpoints (API and the "my day" button): oversized,
malformed, control characters, wrong types — a 4xx with a code and a field, never a 500,
and nothing sent or logged."""

import json

import pytest
import time_machine

from guanxi.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _ten_in_the_morning_in_beijing():
    with time_machine.travel("2026-12-03 02:00:00+00:00", tick=True):
        yield


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.GUANXI_SMS_FILE = tmp_path / "sms.jsonl"
    settings.GUANXI_WECHAT_FILE = tmp_path / "wechat.jsonl"
    return tmp_path


def _nothing_happened(outbox, customer):
    from guanxi.marketing.models import ContactAttempt

    assert not (outbox / "sms.jsonl").exists() and not (outbox / "wechat.jsonl").exists()
    assert not ContactAttempt.objects.filter(customer=customer).exists()
    assert not AuditEntry.objects.filter(verb__startswith="greeting.").exists()


@pytest.mark.parametrize(
    "payload, status, field",
    [
        ({"occasion": "birthday", "text": "祝" * 1001}, 422, "text"),
        ({"occasion": "b" * 5000}, 422, "occasion"),
        ({"occasion": "birthday", "channel": "fax"}, 422, "channel"),
        ({"occasion": "birthday", "text": "生日快乐\x00"}, 422, "text"),
        ({"occasion": "birthday", "text": "生日\x1b[31m快乐"}, 422, "text"),
        ({"occasion": 5}, 422, "occasion"),
        ({"occasion": "birthday", "text": ["生日"]}, 422, "text"),
        ({"occasion": "birthday", "channel": {"x": 1}}, 422, "channel"),
        ({"occasion": None}, 422, "occasion"),
        ({}, 422, "occasion"),
        ({"occasion": "birthday", "sneaky": 1}, 422, "sneaky"),
    ],
)
def test_the_greetings_api_refuses_hostile_input_with_a_code_and_field(
    client, owner, customer, outbox, payload, status, field
):
    client.force_login(owner)
    response = client.post(
        f"/api/v1/customers/{customer.pk}/greetings", payload, content_type="application/json"
    )
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] and body["field"] == field
    _nothing_happened(outbox, customer)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'"birthday"', b"", b"{" * 10000],
)
def test_the_greetings_api_refuses_a_malformed_body(client, owner, customer, outbox, raw):
    client.force_login(owner)
    response = client.post(
        f"/api/v1/customers/{customer.pk}/greetings", raw, content_type="application/json"
    )
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"]
    _nothing_happened(outbox, customer)


def test_the_greetings_api_answers_404_for_a_customer_id_out_of_range(client, owner, outbox):
    client.force_login(owner)
    for customer_id in ("99999999999999999999", "-1", "abc"):
        response = client.post(
            f"/api/v1/customers/{customer_id}/greetings",
            json.dumps({"occasion": "birthday"}),
            content_type="application/json",
        )
        assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "data",
    [
        {"occasion": "x" * 100000},
        {"occasion": "birthday", "channel": "\x00"},
        {"occasion": "birthday\x00"},
        {},
    ],
)
def test_the_greeting_button_never_fails_on_hostile_input(client, owner, customer, outbox, data):
    client.force_login(owner)
    response = client.post(f"/customers/{customer.pk}/greeting/", data)
    assert response.status_code == 302
    _nothing_happened(outbox, customer)
