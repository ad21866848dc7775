"""C7 item 6: bounces. Delivery status notifications (RFC 3464) from real mail servers'
formats mark the recipient bounced; a hard bounce stops every further e-mail to the address."""

import hashlib
import hmac
import mailbox
from pathlib import Path

import pytest
from django.core.management import call_command

from guanxi.core.models import AuditEntry
from guanxi.marketing import bounces, policy, sending
from guanxi.marketing.models import EmailSuppression, Recipient

from .conftest import bulk_customers
from .helpers import campaign_for, email_template, everyone_with_email

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent / "dsn"


def _dsn(name: str, recipient: Recipient) -> bytes:
    text = (SAMPLES / name).read_text()
    text = text.replace("MESSAGE_ID", recipient.message_id).replace("ADDRESS", recipient.address)
    return text.replace("\n", "\r\n").encode()


@pytest.fixture
def sent(smtp, marketer, org):
    """A campaign of three e-mails, delivered to the local SMTP server."""
    bulk_customers(org["bj_sales"], 3)
    campaign = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    sending.campaign_run(campaign_id=campaign.pk)
    return list(Recipient.objects.filter(campaign=campaign).order_by("id"))


def _maildir(tmp_path, *messages: bytes) -> Path:
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    for raw in messages:
        box.add(raw)
    return tmp_path / "bounces"


def _may_email(customer) -> str:
    return policy.evaluate([customer], channel="email", purpose="marketing")[customer.pk].reason


def test_a_hard_bounce_from_the_bounce_mailbox_marks_the_recipient_and_stops_email(
    sent, tmp_path, capsys
):
    first = sent[0]
    call_command("bounces", str(_maildir(tmp_path, _dsn("postfix_hard_5.1.1.eml", first))))
    assert "1 reports: 1 bounced, 1 hard" in capsys.readouterr().out
    first.refresh_from_db()
    assert first.bounced_at is not None and first.bounce_status == "5.1.1"
    assert "User unknown" in first.error
    assert _may_email(first.customer) == "bounced"
    assert _may_email(sent[1].customer) == ""  # the others are untouched
    # Every purpose: the address itself refuses mail.
    verdict = policy.evaluate([first.customer], channel="email", purpose="service")
    assert verdict[first.customer_id].reason == "bounced"
    assert AuditEntry.objects.filter(verb="email.bounce").count() == 1


def test_the_next_campaign_skips_the_bounced_address_with_its_reason(sent, marketer, tmp_path):
    call_command("bounces", str(_maildir(tmp_path, _dsn("postfix_hard_5.1.1.eml", sent[0]))))
    second = campaign_for(
        marketer,
        everyone_with_email(marketer, name="再发"),
        email_template(marketer),
        material="冬季手册",
    )
    sending.campaign_run(campaign_id=second.pk)
    row = Recipient.objects.get(campaign=second, customer_id=sent[0].customer_id)
    assert (row.status, row.reason) == ("skipped", "bounced")
    assert Recipient.objects.filter(campaign=second, status="sent").count() == 2


def test_a_soft_bounce_counts_as_bounced_but_does_not_stop_email(sent, tmp_path):
    call_command("bounces", str(_maildir(tmp_path, _dsn("postfix_expired_4.4.1.eml", sent[1]))))
    row = Recipient.objects.get(pk=sent[1].pk)
    assert row.bounced_at is not None and row.bounce_status == "4.4.1"
    assert not EmailSuppression.objects.exists()
    assert _may_email(row.customer) == ""


def test_a_delay_warning_changes_nothing(sent, tmp_path):
    call_command("bounces", str(_maildir(tmp_path, _dsn("postfix_delayed_4.4.1.eml", sent[2]))))
    row = Recipient.objects.get(pk=sent[2].pk)
    assert row.bounced_at is None and not EmailSuppression.objects.exists()


def test_an_exchange_report_with_the_returned_message_is_understood(sent):
    [report] = bounces.parse_dsn(_dsn("exchange_5.2.1_rfc822.eml", sent[0]))
    assert report.hard and report.status == "5.2.1"
    assert report.address == sent[0].address.lower()
    assert report.recipient_id() == sent[0].pk
    assert "account that you tried to reach is disabled" in report.diagnostic


def test_the_same_report_twice_is_applied_once_and_processed_mail_moves_to_cur(sent, tmp_path):
    raw = _dsn("postfix_hard_5.1.1.eml", sent[0])
    folder = _maildir(tmp_path, raw, raw, (SAMPLES / "out_of_office.eml").read_bytes())
    call_command("bounces", str(folder))
    call_command("bounces", str(folder))  # nothing new in new/
    assert EmailSuppression.objects.count() == 1
    assert AuditEntry.objects.filter(verb="email.bounce").count() == 1
    assert not list((folder / "new").iterdir())
    assert len(list((folder / "cur").iterdir())) == 3


def test_an_out_of_office_reply_is_not_a_bounce():
    with pytest.raises(bounces.NotADsn):
        bounces.parse_dsn((SAMPLES / "out_of_office.eml").read_bytes())


def test_a_report_without_our_message_id_is_matched_by_the_address(sent):
    from guanxi.marketing.services import bounce_process

    raw = _dsn("postfix_hard_5.1.1.eml", sent[1]).replace(
        sent[1].message_id.encode(), b"<someone-else@example.cn>"
    )
    assert bounce_process(raw=raw) == {"result": "processed", "bounced": 1, "hard": 1}
    assert Recipient.objects.get(pk=sent[1].pk).bounce_status == "5.1.1"


def _post(client, settings, body: bytes, sign=True):
    settings.GUANXI_BOUNCE_INBOUND_SECRET = "s3cret"
    signature = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest() if sign else "x"
    return client.post(
        "/m/bounce/inbound/",
        body,
        content_type="message/rfc822",
        HTTP_X_GUANXI_SIGNATURE=signature,
    )


def test_the_inbound_endpoint_applies_a_signed_report_and_refuses_the_rest(client, settings, sent):
    raw = _dsn("postfix_hard_5.1.1.eml", sent[2])
    assert _post(client, settings, raw, sign=False).status_code == 403
    assert not EmailSuppression.objects.exists()
    other = _post(client, settings, (SAMPLES / "out_of_office.eml").read_bytes())
    assert other.status_code == 400 and other.json()["code"] == "not_a_dsn"
    response = _post(client, settings, raw)
    assert response.json() == {"result": "processed", "bounced": 1, "hard": 1}


def test_a_hard_bounce_shows_on_the_customers_timeline(client, owner, sent, tmp_path):
    call_command("bounces", str(_maildir(tmp_path, _dsn("postfix_hard_5.1.1.eml", sent[0]))))
    customer = sent[0].customer
    customer.owner = owner
    customer.save(update_fields=["owner"])
    client.force_login(owner)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "E-mail bounced for good: no more e-mail to this address" in page
    assert "5.1.1" in page


def _unchanged(sent):
    assert not EmailSuppression.objects.exists()
    assert not Recipient.objects.filter(pk__in=[r.pk for r in sent]).exclude(bounce_status="")
    assert not Recipient.objects.filter(bounced_at__isnull=False).exists()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x01\x02\xff\xfe" * 200,
        b"not a mail at all",
        b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n\x00\x1b[31m",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 9.9.9\x00\r\n"
        b"Final-Recipient: rfc822; \x07\x08@\r\nAction: failed\r\n--x--\r\n",
        "Subject: 退信 \u202e\r\n\r\n退信".encode(),
        b"Content-Type: multipart/report; boundary=" + b"y" * 5000 + b"\r\n\r\n",
    ],
)
def test_the_bounce_endpoint_refuses_malformed_reports_with_a_code_and_changes_nothing(
    client, settings, sent, body
):
    response = _post(client, settings, body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "not_a_dsn"
    _unchanged(sent)


def test_the_bounce_endpoint_refuses_an_oversized_report_before_reading_it(client, settings, sent):
    raw = _dsn("postfix_hard_5.1.1.eml", sent[2]) + b"x" * (1024 * 1024 + 1)
    response = _post(client, settings, raw)
    assert response.status_code == 413
    assert response.json() == {"code": "too_large", "message": "report over 1 MB", "field": "body"}
    _unchanged(sent)


@pytest.mark.parametrize("signature", ["", "\x00", "é" * 64, "0" * 10000])
def test_the_bounce_endpoint_refuses_a_forged_signature_of_any_shape(
    client, settings, sent, signature
):
    settings.GUANXI_BOUNCE_INBOUND_SECRET = "s3cret"
    raw = _dsn("postfix_hard_5.1.1.eml", sent[2])
    response = client.post(
        "/m/bounce/inbound/",
        raw,
        content_type="message/rfc822",
        HTTP_X_GUANXI_SIGNATURE=signature,
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    _unchanged(sent)


def test_the_bounce_endpoint_answers_405_to_a_get(client):
    assert client.get("/m/bounce/inbound/").status_code == 405
