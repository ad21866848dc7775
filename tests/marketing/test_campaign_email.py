"""C7: a campaign of 1,000 e-mails through a real SMTP server, every policy rule honoured."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from guanxi.marketing import policy, sending, services
from guanxi.marketing.models import Campaign, ContactAttempt, ContactProfile, Recipient

from .conftest import bulk_customers
from .helpers import campaign_for, email_template, everyone_with_email, zone_where_it_is_night

pytestmark = pytest.mark.django_db


@pytest.fixture
def audience(org):
    return bulk_customers(org["bj_sales"], 1012, city="北京", gender="m")


@time_machine.travel("2026-12-03 02:00:00+00:00", tick=True)  # 10:00 in Beijing
def test_campaign_of_1000_emails_arrives_personalised_with_headers_and_every_skip_has_its_reason(
    smtp, settings, marketer, org, audience
):
    settings.GUANXI_CONTACT_WINDOWS = {"email": ("08:00", "21:00")}
    opted_out, dnc, capped, deduped, quiet = (
        audience[0:3],
        audience[3:5],
        audience[5:7],
        audience[7:9],
        audience[9:12],
    )
    for c in opted_out:
        services.consent_record(
            actor=None,
            customer_id=c.pk,
            channels=["email"],
            purpose="marketing",
            granted=False,
            method="link",
        )
    for c in dnc:
        type(c).objects.filter(pk=c.pk).update(do_not_contact=True)
    for c in capped:
        for i in range(4):
            policy.record_sent(
                customer_id=c.pk,
                channel="email",
                purpose="marketing",
                at=timezone.now() - timedelta(days=i + 1),
            )
    for c in deduped:
        assert policy.record_sent(
            customer_id=c.pk,
            channel="post",
            purpose="marketing",
            org_unit_id=org["sh_sales"].pk,
            fingerprint=policy.fingerprint_of("2026 春季手册"),
        )
    night = zone_where_it_is_night()
    for c in quiet:
        ContactProfile.objects.create(customer=c, time_zone=night)

    segment = everyone_with_email(marketer)
    assert segment.member_count == 1012
    campaign = campaign_for(marketer, segment, email_template(marketer))
    sending.campaign_run(campaign_id=campaign.pk)

    assert len(smtp.messages) == 1000
    assert len(set(smtp.recipients)) == 1000
    held = {c.email for c in (*opted_out, *dnc, *capped, *deduped, *quiet)}
    assert not held & set(smtp.recipients)
    sample = audience[500]
    [message] = smtp.to(sample.email)
    assert message["Message-ID"].startswith("<gx.")
    assert message["List-Unsubscribe"].strip().startswith("<https://crm.example.cn/m/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == f"{sample.name[0]}先生，春季新品到店"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "客先生您好" in text and "北京" in text
    assert 'style="' in html and "https://crm.example.cn/m/c/" in html and "/m/o/" in html

    reasons = dict(
        Recipient.objects.filter(campaign=campaign)
        .exclude(reason="")
        .values_list("customer_id", "reason")
    )
    assert {reasons[c.pk] for c in opted_out} == {"withdrawn"}
    assert {reasons[c.pk] for c in dnc} == {"do_not_contact"}
    assert {reasons[c.pk] for c in capped} == {"channel_cap"}
    assert {reasons[c.pk] for c in deduped} == {"duplicate_material"}
    assert {reasons[c.pk] for c in quiet} == {"quiet_hours"}
    # Quiet hours defer: those three wait for their morning; the campaign is due again then.
    assert Recipient.objects.filter(campaign=campaign, status="pending").count() == 3
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED and campaign.scheduled_at > timezone.now()
    # Each skip is logged for the timeline too.
    assert ContactAttempt.objects.filter(campaign=campaign, outcome="skipped").count() == 12


def test_a_second_department_sending_the_same_material_skips_those_who_got_it(
    smtp, marketer, sh_manager, org
):
    bj = bulk_customers(org["bj_sales"], 5, prefix="北京客户")
    first = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    sending.campaign_run(campaign_id=first.pk)
    assert len(smtp.messages) == 5
    # Head office's marketing (sees every branch) sends the same brochure, differently spaced.
    hq = everyone_with_email(sh_manager, name="全部", org_unit_id=org["sh"].pk)
    from guanxi.core.models import Role, UserRole

    UserRole.objects.create(user=sh_manager, role=Role.ADMIN)
    sh_manager.__dict__.pop("role_set", None)
    hq = everyone_with_email(sh_manager, name="全国", org_unit_id=org["hq"].pk)
    sh = bulk_customers(org["sh_sales"], 2, prefix="上海客户", start=100)
    hq = services.segment_save(actor=sh_manager, name=hq.name, rules=hq.rules, segment_id=hq.pk)
    second = campaign_for(
        sh_manager, hq, email_template(sh_manager, name="总部版"), material="2026  春季手册 "
    )
    sending.campaign_run(campaign_id=second.pk)
    assert len(smtp.messages) == 7
    assert sorted(smtp.recipients[5:]) == sorted(c.email for c in sh)
    assert {r.reason for r in Recipient.objects.filter(campaign=second, customer__in=bj)} == {
        "duplicate_material"
    }


class Crash(BaseException):
    """A worker killed mid-send: no except clause of ours catches it."""


@pytest.mark.parametrize("sessions", [1, 4])
def test_a_crash_half_way_resumes_without_sending_anyone_twice(
    smtp, settings, marketer, org, monkeypatch, sessions
):
    settings.GUANXI_MARKETING_CONNECTIONS = sessions
    settings.GUANXI_MARKETING_BATCH = 20
    audience = bulk_customers(org["bj_sales"], 300)
    campaign = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    import smtplib

    real_send = smtplib.SMTP.sendmail
    calls = {"n": 0}

    def crashing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 157:
            raise Crash
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", crashing)
    with pytest.raises(Crash):
        sending.campaign_run(campaign_id=campaign.pk)
    if sessions == 1:
        assert len(smtp.messages) == 156
    else:  # the batch's other sessions finish their share: still never more than one batch
        assert 156 <= len(smtp.messages) < 156 + 20
    # Within the dead run's lease nobody takes over; after it, the next run resumes.
    assert sending.campaign_run(campaign_id=campaign.pk)["sent"] == 0
    Campaign.objects.filter(pk=campaign.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=11)
    )
    sending.campaign_run(campaign_id=campaign.pk)

    assert len(smtp.recipients) == len(set(smtp.recipients))  # nobody twice
    unconfirmed = Recipient.objects.filter(campaign=campaign, status="unconfirmed")
    assert 0 < unconfirmed.count() <= 20
    sent = Recipient.objects.filter(campaign=campaign, status="sent").count()
    assert sent + unconfirmed.count() == 300
    # Everyone not caught mid-flight received exactly one message.
    never = {r.customer.email for r in unconfirmed.select_related("customer")}
    assert set(smtp.recipients) | never == {c.email for c in audience}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE


def test_send_rate_is_throttled(smtp, settings, marketer, org):
    bulk_customers(org["bj_sales"], 30)
    settings.GUANXI_MARKETING_RATE = 100
    import time

    campaign = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    started = time.monotonic()
    sending.campaign_run(campaign_id=campaign.pk, batch_size=10)
    assert time.monotonic() - started >= 0.29
    assert len(smtp.messages) == 30


def test_the_quick_header_shortcut_writes_the_same_bytes_as_djangos_policy(marketer, org):
    from email.policy import compat32

    bulk_customers(org["bj_sales"], 1, city="北京", gender="f")
    campaign = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    sending._acquire(campaign.pk, "t", timezone.now())
    campaign = Campaign.objects.select_related("template").get(pk=campaign.pk)
    [row] = sending._claim(campaign, "t", 10, timezone.now())
    message = sending.Renderer(campaign).email(row, "zh-hans").message()
    assert message.policy is sending.QUICK_FOLD
    quick = message.as_bytes(linesep="\r\n")
    message.policy = compat32
    assert quick == message.as_bytes(linesep="\r\n")
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in quick


@pytest.mark.parametrize(
    "value",
    [
        "<https://crm.example.cn/m/u/" + "eyJjIjoxLCJjaCI6ImVtYWlsIn0" * 4 + ":1vQ7:abc/>",
        "x" * 77,
        "x" * 300,
        "a,b" * 40,
        "one two  three",
        "List-Unsubscribe=One-Click",
        "<gx.1.2@guanxi.local>",
        'multipart/alternative; boundary="===============8394567262478129384=="',
        "春季新品",
    ],
)
def test_the_quick_header_shortcut_folds_every_kind_of_header_as_djangos_policy(value):
    from email.policy import compat32

    for name in ("X", "List-Unsubscribe", "Content-Type"):
        expected = compat32.clone(linesep="\r\n").fold_binary(name, value)
        assert sending.QUICK_FOLD.clone(linesep="\r\n").fold_binary(name, value) == expected


def _claimed_row(marketer, org, **fields):
    bulk_customers(org["bj_sales"], 1, city="北京", gender="f", **fields)
    campaign = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    sending._acquire(campaign.pk, "t", timezone.now())
    campaign = Campaign.objects.select_related("template").get(pk=campaign.pk)
    [row] = sending._claim(campaign, "t", 10, timezone.now())
    return campaign, row


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_direct_message_has_the_bytes_djangos_mail_api_writes(marketer, org, lang):
    import re

    campaign, row = _claimed_row(marketer, org)
    renderer = sending.Renderer(campaign)
    direct = renderer.raw_email(row, lang)
    standard = renderer.email(row, lang).message().as_bytes(linesep="\r\n")
    # Only the boundary and the Date differ from one message to the next.
    boundary = re.search(rb'boundary="([^"]+)"', direct).group(1)
    theirs = re.search(rb'boundary="([^"]+)"', standard).group(1)
    standard = standard.replace(theirs, boundary)
    date = re.compile(rb"\r\nDate: [^\r]+\r\n")
    assert date.search(direct) and date.search(standard)
    assert date.sub(b"\r\nDate\r\n", direct) == date.sub(b"\r\nDate\r\n", standard)
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in direct


def test_a_message_the_direct_path_cannot_write_goes_through_djangos_api(marketer, org):
    campaign, row = _claimed_row(marketer, org)
    renderer = sending.Renderer(campaign)
    row.address = "张三 <zhang@example.cn>"
    assert renderer.raw_email(row, "zh-hans") is None
    row.address = "zhang@example.cn"
    assert renderer.raw_email(row, "zh-hans") is not None
    # A body line over 998 bytes: Django encodes that part quoted-printable.
    campaign.template.body_zh = "长" * 400
    assert renderer.raw_email(row, "zh-hans") is None
    assert b"quoted-printable" in renderer.email(row, "zh-hans").message().as_bytes()
