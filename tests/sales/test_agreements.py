"""认购书: numbered RG<year>-000001 in sequence, printed in four copies (客户联, 财务联 and
two 销售联) with the Chinese text intact, never altered after issue; changes are amendments."""

import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.sales import services
from guanxi.sales.models import Agreement, Deal
from guanxi.sales.pdf import agreement_pdf
from tests.conftest import new_customer

from .conftest import deposit, open_deal, to_subscription


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_agreements_are_numbered_in_sequence_per_year(owner, customer, flat, units):
    year = timezone.localdate().year
    numbers = []
    for n, unit in enumerate(units[:3]):
        deal = open_deal(owner, customer, flat, title=f"第{n}套")
        numbers.append(to_subscription(owner, deal, unit).number)
    assert numbers == [f"RG{year}-000001", f"RG{year}-000002", f"RG{year}-000003"]


def test_issuing_subscribes_the_unit_and_snapshots_the_terms(owner, deal, units):
    agreement = to_subscription(owner, deal, units[0], amount="50000.00")
    deal.refresh_from_db()
    units[0].refresh_from_db()
    assert deal.stage == "subscription"
    assert (units[0].status, units[0].deal_id) == ("subscribed", deal.pk)
    content = agreement.content
    assert (content["buyer"], content["unit"], content["price"]) == (
        "张三",
        units[0].code,
        "2000000.00",
    )
    assert (content["deposit"], content["balance"]) == ("50000.00", "1950000.00")


def test_the_pdf_has_four_copies_in_chinese(owner, flat, units):
    buyer = new_customer(owner, "欧阳娜娜", ("13700001111",))
    agreement = to_subscription(owner, open_deal(owner, buyer, flat), units[0])
    pages = pdf_pages(agreement_pdf(agreement))
    assert len(pages) == 4
    for text in pages:
        assert "认购书" in text
        assert "欧阳娜娜" in text
        assert agreement.number in text
        assert "2000000.00" in text
    assert "客户联" in pages[0] and "财务联" in pages[1]
    assert "销售联" in pages[2] and "销售联" in pages[3]
    assert "一式四份" in pages[0]


def test_the_pdf_through_the_web_and_the_api(client, owner, outsider, deal, units):
    agreement = to_subscription(owner, deal, units[0])
    client.force_login(owner)
    for url in (
        f"/sales/agreements/{agreement.pk}.pdf",
        f"/api/v1/sales/agreements/{agreement.pk}/pdf",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert "认购书" in pdf_pages(response.content)[0]
    client.force_login(outsider)
    assert client.get(f"/sales/agreements/{agreement.pk}.pdf").status_code == 404
    assert client.get(f"/api/v1/sales/agreements/{agreement.pk}/pdf").status_code == 404


def test_issuing_twice_is_refused(owner, deal, units):
    to_subscription(owner, deal, units[0])
    with pytest.raises(Conflict) as caught:
        services.agreement_issue(actor=owner, deal_id=deal.pk)
    assert caught.value.code == "already_issued"
    # Even at a deposit stage (e.g. back there through a direct edit), one agreement only.
    Deal.objects.filter(pk=deal.pk).update(stage="large_deposit")
    with pytest.raises(Conflict) as caught:
        services.agreement_issue(actor=owner, deal_id=deal.pk)
    assert caught.value.code == "already_issued"
    assert Agreement.objects.filter(deal=deal).count() == 1


def test_no_agreement_before_a_deposit(owner, deal):
    with pytest.raises(Conflict) as caught:
        services.agreement_issue(actor=owner, deal_id=deal.pk)
    assert caught.value.code == "deposit_required"


def test_an_issued_agreement_is_never_altered(owner, deal, units):
    agreement = to_subscription(owner, deal, units[0])
    agreement.content = {**agreement.content, "price": "1.00"}
    with pytest.raises(ValueError, match="never altered"):
        agreement.save()
    stored = Agreement.objects.get(pk=agreement.pk)
    assert stored.content["price"] == "2000000.00"


def test_amendments_are_numbered_and_leave_the_original_alone(owner, deal, units):
    agreement = to_subscription(owner, deal, units[0])
    original = dict(Agreement.objects.get(pk=agreement.pk).content)
    # (Issue 12 item 2: the buyer changes only through an approved 换名, so the first
    # amendment here is the measured area, as the second.)
    first = services.agreement_amend(
        actor=owner, agreement_id=agreement.pk, changes={"area": "118.80"}, reason="初测面积"
    )
    second = services.agreement_amend(
        actor=owner, agreement_id=agreement.pk, changes={"area": "120.00"}, reason="实测面积"
    )
    assert (first.number, second.number) == (f"{agreement.number}-A1", f"{agreement.number}-A2")
    assert (first.kind, first.parent_id, first.content["amends"]) == (
        "amendment",
        agreement.pk,
        agreement.number,
    )
    assert first.content["area"] == "118.80" and second.content["area"] == "120.00"
    assert Agreement.objects.get(pk=agreement.pk).content == original
    pages = pdf_pages(agreement_pdf(first))
    assert len(pages) == 4
    assert "补充协议" in pages[0] and first.number in pages[0] and "初测面积" in pages[0]
    with pytest.raises(ValidationFailed):
        services.agreement_amend(actor=owner, agreement_id=agreement.pk, changes={}, reason=" ")


def test_only_the_deals_people_issue_or_amend(owner, teammate, manager, customer, deal, units):
    from guanxi.core.errors import Forbidden, NotFound
    from guanxi.customers.services import customer_share

    deposit(owner, deal, units[0])
    with pytest.raises(NotFound):
        services.agreement_issue(actor=teammate, deal_id=deal.pk)
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    with pytest.raises(Forbidden):
        services.agreement_issue(actor=teammate, deal_id=deal.pk)
    agreement = services.agreement_issue(actor=manager, deal_id=deal.pk)
    with pytest.raises(Forbidden):
        services.agreement_amend(
            actor=teammate, agreement_id=agreement.pk, changes={"x": "y"}, reason="r"
        )
