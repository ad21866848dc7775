"""C7/C8: marketers see what marketing needs: a customer's e-mail, WeChat, address and notes
read masked for them on the page, in the API and in exports (SPEC Roles)."""

import csv
import io

import pytest

from guanxi.customers.models import Customer
from tests.conftest import new_customer

SECRET_BITS = ("zhangsan@example.cn", "zs_wechat", "朝阳路1号", "喜欢红酒")


@pytest.fixture
def detailed(owner, org):
    customer = new_customer(
        owner,
        "张三",
        ("13812345678",),
        email="zhangsan@example.cn",
        wechat_id="zs_wechat",
        address="朝阳路1号",
        notes="喜欢红酒",
    )
    # Marketers see the branch's customers: put the record in the Beijing branch unit.
    Customer.objects.filter(pk=customer.pk).update(org_unit=org["bj"])
    return customer


def test_marketer_reads_contact_details_masked_in_the_api(client, marketer, detailed):
    client.force_login(marketer)
    body = client.get(f"/api/v1/customers/{detailed.pk}").json()
    assert (body["email"], body["wechat_id"], body["address"], body["notes"]) == ("****",) * 4
    assert body["name"] == "张三"


def test_marketer_reads_contact_details_masked_on_the_page(client, marketer, detailed):
    client.force_login(marketer)
    page = client.get(detailed.get_absolute_url()).content.decode()
    assert not any(bit in page for bit in SECRET_BITS)


def test_marketer_export_masks_contact_details(client, marketer, detailed):
    client.force_login(marketer)
    response = client.get("/customers/export/?format=csv")
    if response.status_code == 200:
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) >= 2
        assert not any(bit in text for bit in SECRET_BITS)
    else:
        assert response.status_code in (403, 404)


def test_the_owner_still_reads_them(client, owner, detailed):
    client.force_login(owner)
    body = client.get(f"/api/v1/customers/{detailed.pk}").json()
    assert body["email"] == "zhangsan@example.cn" and body["notes"] == "喜欢红酒"
