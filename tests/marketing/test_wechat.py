"""C7 item 4: WeChat is a campaign channel through the same provider interface as SMS,
under the same contact policy (consent per channel, withdrawal, caps, dedupe)."""

import json

import pytest

from guanxi.customers.services import customer_update
from guanxi.marketing import sending, services
from guanxi.marketing.channels import WechatRefused
from guanxi.marketing.models import Recipient
from tests.conftest import new_customer

from .helpers import campaign_for

pytestmark = pytest.mark.django_db


def _wechat_campaign(marketer, material="微信春季推文"):
    template = services.template_save(
        actor=marketer,
        data={"name": "微信", "channel": "wechat", "body_zh": "{{ salutation }}，春季新品到店"},
    )
    segment = services.segment_save(
        actor=marketer,
        name="有微信",
        rules={"all": [{"field": "has_wechat", "op": "is", "value": "1"}]},
    )
    return campaign_for(marketer, segment, template, material=material)


def _outbox(path):
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_a_wechat_campaign_reaches_consenting_customers_through_the_file_backend(
    settings, marketer, owner, tmp_path
):
    settings.GUANXI_WECHAT_FILE = tmp_path / "wechat.jsonl"
    yes = new_customer(owner, "王五", ("13900001111",), wechat_id="wangwu_88")
    no = new_customer(owner, "赵六", ("13900002222",), wechat_id="zhaoliu_66")
    customer_update(actor=owner, customer_id=no.pk, data={"consent_wechat": False})
    campaign = _wechat_campaign(marketer)
    sending.campaign_run(campaign_id=campaign.pk)
    lines = _outbox(tmp_path / "wechat.jsonl")
    assert [x["to"] for x in lines] == ["wangwu_88"]
    assert lines[0]["text"].startswith("王五")
    assert "/m/u/" in lines[0]["text"]  # the signed unsubscribe page, as in an e-mail
    assert Recipient.objects.get(campaign=campaign, customer=yes).status == "sent"
    held = Recipient.objects.get(campaign=campaign, customer=no)
    assert (held.status, held.reason) == ("skipped", "no_consent")


def test_a_second_wechat_campaign_with_the_same_material_skips_those_who_got_it(
    settings, marketer, owner, tmp_path
):
    settings.GUANXI_WECHAT_FILE = tmp_path / "wechat.jsonl"
    new_customer(owner, "王五", ("13900001111",), wechat_id="wangwu_88")
    sending.campaign_run(campaign_id=_wechat_campaign(marketer).pk)
    second = _wechat_campaign(marketer)
    sending.campaign_run(campaign_id=second.pk)
    assert len(_outbox(tmp_path / "wechat.jsonl")) == 1
    assert Recipient.objects.get(campaign=second).reason == "duplicate_material"


class RefusingBackend:
    def send(self, to, text, reference):
        raise WechatRefused("unknown OpenID")


def test_an_openid_the_provider_refuses_is_failed_not_retried(settings, marketer, owner):
    settings.GUANXI_WECHAT_BACKEND = "tests.marketing.test_wechat.RefusingBackend"
    new_customer(owner, "王五", ("13900001111",), wechat_id="wangwu_88")
    campaign = _wechat_campaign(marketer)
    sending.campaign_run(campaign_id=campaign.pk)
    row = Recipient.objects.get(campaign=campaign)
    assert row.status == "failed" and "unknown OpenID" in row.error
    campaign.refresh_from_db()
    assert campaign.status == "done"


def test_the_template_form_offers_wechat(client, marketer):
    client.force_login(marketer)
    page = client.get("/marketing/templates/new/").content.decode()
    assert 'value="wechat"' in page
