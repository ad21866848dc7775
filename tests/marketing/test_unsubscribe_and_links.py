"""C7: unsubscribe links a scanner cannot trigger, SMS 退订, signed tracking links."""

import hashlib
import hmac
import json

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.marketing import policy, sending, services, tokens
from guanxi.marketing.models import ConsentEvidence, Recipient
from tests.conftest import new_customer

from .helpers import campaign_for, email_template, everyone_with_email

pytestmark = pytest.mark.django_db


def _link(customer, channel="email"):
    token = tokens.unsubscribe_token(
        customer_id=customer.pk, channel=channel, purpose="marketing", campaign_id=None
    )
    return f"/m/u/{token}/"


def _may_email(customer):
    return policy.evaluate([customer], channel="email", purpose="marketing")[customer.pk].allowed


def test_get_on_the_unsubscribe_link_changes_nothing(client, customer):
    response = client.get(_link(customer))
    assert response.status_code == 200
    assert "Unsubscribe" in response.content.decode()
    assert _may_email(customer)
    assert not ConsentEvidence.objects.exists()


def test_post_on_the_unsubscribe_link_withdraws_and_keeps_the_evidence(client, customer):
    response = client.post(_link(customer))
    assert response.status_code == 200
    assert "no more" in response.content.decode()
    assert not _may_email(customer)
    # Promotions by SMS still go: only the e-mail channel was asked for.
    assert policy.evaluate([customer], channel="sms", purpose="marketing")[customer.pk].allowed
    evidence = ConsentEvidence.objects.get()
    assert (evidence.channel, evidence.granted, evidence.method) == ("email", False, "link")


def test_rfc8058_one_click_post_unsubscribes(client, customer):
    client.post(_link(customer), {"List-Unsubscribe": "One-Click"})
    assert not _may_email(customer)
    assert "one-click" in ConsentEvidence.objects.get().evidence


@pytest.mark.parametrize("token", ["nonsense", "eyJjIjoxfQ:1abc:forged"])
def test_a_forged_unsubscribe_token_is_refused_and_changes_nothing(client, customer, token):
    for method in (client.get, client.post):
        response = method(f"/m/u/{token}/")
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert not ConsentEvidence.objects.exists()


def test_an_expired_unsubscribe_token_is_refused(client, customer, monkeypatch):
    link = _link(customer)
    monkeypatch.setattr(tokens, "UNSUBSCRIBE_MAX_AGE", -1)
    response = client.post(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert _may_email(customer)


def _inbound(client, settings, sender, text, secret="s3cret", sign=True):
    settings.GUANXI_SMS_INBOUND_SECRET = secret
    body = json.dumps({"from": sender, "text": text}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() if sign else "x"
    return client.post(
        "/m/sms/inbound/", body, content_type="application/json", HTTP_X_GUANXI_SIGNATURE=signature
    )


@pytest.mark.parametrize("reply", ["退订", "T", "td", "R"])
def test_an_sms_reply_to_unsubscribe_stops_promotions_on_every_channel_at_once(
    client, settings, customer, reply
):
    response = _inbound(client, settings, "138 1234 5678", reply)
    assert response.json() == {"result": "unsubscribed"}
    for channel in ("sms", "email", "phone", "post", "wechat"):
        verdict = policy.evaluate([customer], channel=channel, purpose="marketing")[customer.pk]
        assert verdict.reason == "withdrawn", channel
    # Service notices (a repair is ready) still reach the customer.
    assert policy.evaluate([customer], channel="sms", purpose="service")[customer.pk].allowed


def test_an_sms_campaign_after_a_td_reply_sends_that_customer_nothing(
    client, settings, marketer, customer, tmp_path
):
    settings.GUANXI_SMS_FILE = tmp_path / "sms.jsonl"
    other = new_customer(customer.owner, "李四", ("13900002222",))
    _inbound(client, settings, "+8613812345678", "TD")
    template = services.template_save(
        actor=marketer,
        data={"name": "短信", "channel": "sms", "body_zh": "{{ salutation }}，新品到店"},
    )
    segment = services.segment_save(
        actor=marketer,
        name="有手机",
        rules={"all": [{"field": "has_phone", "op": "is", "value": "1"}]},
    )
    sending.campaign_run(campaign_id=campaign_for(marketer, segment, template).pk)
    lines = [json.loads(x) for x in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert [x["to"] for x in lines] == [other.primary_phone]
    assert lines[0]["text"].endswith("回T退订")
    assert Recipient.objects.get(customer=customer).reason == "withdrawn"


def test_an_unsigned_sms_callback_is_refused(client, settings, customer):
    response = _inbound(client, settings, "13812345678", "退订", sign=False)
    assert response.status_code == 403
    assert _may_email(customer)


def _sent_recipient(smtp, marketer, org):
    from .conftest import bulk_customers

    bulk_customers(org["bj_sales"], 1)
    campaign = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    sending.campaign_run(campaign_id=campaign.pk)
    return Recipient.objects.get(campaign=campaign), smtp.messages[0][1]


def test_open_pixel_and_signed_click_are_counted_and_redirect_to_the_signed_address(
    client, smtp, marketer, org
):
    recipient, message = _sent_recipient(smtp, marketer, org)
    html = message.get_body(("html",)).get_content()
    click = html.split('href="https://crm.example.cn')[1].split('"')[0]
    pixel = html.split('src="https://crm.example.cn')[1].split('"')[0]
    assert client.get(pixel)["Content-Type"] == "image/gif"
    response = client.get(click)
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.cn/spring"
    recipient.refresh_from_db()
    assert recipient.opened_at and recipient.clicked_at
    figures = services.campaign_figures(recipient.campaign)
    assert (figures["sent"], figures["opened"], figures["clicked"]) == (1, 1, 1)


def test_a_click_link_to_a_foreign_address_is_refused(client, smtp, marketer, org):
    recipient, _message = _sent_recipient(smtp, marketer, org)
    good = tokens.click_token(recipient_id=recipient.pk, url="https://shop.example.cn/spring")
    payload, _sig = good.split(":", 1)
    forged = tokens.click_token(recipient_id=recipient.pk, url="https://evil.example.com/")
    tampered = forged.split(":", 1)[0] + ":" + _sig
    for token in (tampered, "abc", payload):
        response = client.get(f"/m/c/{token}/")
        assert response.status_code == 400
        assert "Location" not in response
    recipient.refresh_from_db()
    assert recipient.clicked_at is None


@pytest.mark.parametrize(
    "body, problem",
    [
        ("您好 {{ nickname }}", "unknown placeholder “nickname”"),
        ("{{ name.__class__ }}", "is code"),
        ("{{ name() }}", "is code"),
        ("{% for x in name %}{{ x }}{% endfor %}", "is code"),
        ("{{ name | upper }}", "filter “upper”"),
        ("{% include 'x' %}", "is code"),
        ("{{ name ", "syntax error"),
    ],
)
def test_a_template_with_code_or_unknown_placeholders_is_refused_at_save(marketer, body, problem):
    with pytest.raises(ValidationFailed) as caught:
        services.template_save(
            actor=marketer, data={"name": "x", "channel": "sms", "body_zh": body}
        )
    assert caught.value.errors[0].field == "body_zh"
    assert caught.value.code == "unsafe_template"
    assert problem in caught.value.message


def test_a_safe_template_with_if_and_default_is_accepted(marketer):
    template = services.template_save(
        actor=marketer,
        data={
            "name": "ok",
            "channel": "sms",
            "body_zh": '{% if company %}{{ company }}的{% endif %}{{ salutation | default("您") }}',
        },
    )
    assert template.pk


def test_commercial_sms_waits_for_0800_but_a_service_notice_does_not(settings, customer):
    import time_machine

    settings.GUANXI_CONTACT_WINDOWS = {"sms": ("08:00", "21:00")}
    with time_machine.travel("2026-12-03 21:30:00+08:00"):
        promo = policy.evaluate([customer], channel="sms", purpose="marketing")[customer.pk]
        notice = policy.evaluate([customer], channel="sms", purpose="service")[customer.pk]
    assert promo.reason == "quiet_hours"
    assert promo.not_before.isoformat() == "2026-12-04T08:00:00+08:00"
    assert notice.allowed
