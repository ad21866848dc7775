"""Issue 14 item 5: issuing a 认购书 and deciding a discount first show what will happen and
take an optional comment that is audited; a cancelled confirmation changes nothing."""

import pytest

from guanxi.core.models import AuditEntry
from guanxi.sales import services
from guanxi.sales.models import Agreement, Quote
from tests.sales.conftest import deposit


@pytest.fixture
def pending_quote(owner, customer, flat):
    # ¥1,000,000 for a ¥2,000,000 flat: far above the discount threshold.
    return services.quote_issue(
        actor=owner, customer_id=customer.pk, product_id=flat.pk, price="1000000"
    )


def test_issuing_an_agreement_first_shows_its_terms_and_issues_nothing(client, owner, deal, units):
    deposit(owner, deal, units[0])
    client.force_login(owner)
    page = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert f'href="/sales/deals/{deal.pk}/agreement/"' in page  # a link to the confirmation
    confirm = client.get(f"/sales/deals/{deal.pk}/agreement/").content.decode()
    assert "cannot be altered" in confirm
    assert "¥50,000.00" in confirm  # the deposit, as it will be printed
    assert 'id="agreement-cancel"' in confirm
    # Cancelled (the link back to the deal): nothing issued.
    assert client.get(f"/sales/deals/{deal.pk}/").status_code == 200
    assert not Agreement.objects.filter(deal=deal).exists()


def test_the_confirmed_agreement_carries_the_comment_into_the_audit_log(client, owner, deal, units):
    deposit(owner, deal, units[0])
    client.force_login(owner)
    client.post(f"/sales/deals/{deal.pk}/agreement/", {"comment": "客户已核对房号"})
    assert Agreement.objects.filter(deal=deal).count() == 1
    entry = AuditEntry.objects.filter(verb="deal.stage", target_id=deal.pk).latest("id")
    assert entry.note == "客户已核对房号"


def test_an_agreement_that_cannot_be_issued_says_why_before_confirming(client, owner, deal):
    client.force_login(owner)
    response = client.get(f"/sales/deals/{deal.pk}/agreement/", follow=True)
    assert "Take a deposit before issuing the subscription agreement." in (
        response.content.decode()
    )


def test_approving_a_discount_shows_the_price_and_the_discount_first(
    client, manager, pending_quote
):
    client.force_login(manager)
    listing = client.get("/sales/approvals/").content.decode()
    assert f"?confirm=quote&amp;pk={pending_quote.pk}&amp;decision=approve" in listing
    confirm = client.get(
        "/sales/approvals/", {"confirm": "quote", "pk": pending_quote.pk, "decision": "approve"}
    ).content.decode()
    assert "¥1,000,000.00" in confirm and "50.00% below the list price of ¥2,000,000.00" in confirm
    # Cancelled: the quote still waits.
    client.get("/sales/approvals/")
    assert Quote.objects.get(pk=pending_quote.pk).status == Quote.Status.PENDING


def test_a_confirmed_discount_decision_audits_the_comment(client, manager, pending_quote):
    client.force_login(manager)
    client.post(
        "/sales/approvals/",
        {"target": "quote", "pk": pending_quote.pk, "decision": "approve", "comment": "老客户"},
    )
    assert Quote.objects.get(pk=pending_quote.pk).status == Quote.Status.ACTIVE
    assert AuditEntry.objects.get(verb="quote.approve").note == "老客户"


def test_a_request_already_decided_is_not_offered_for_confirmation(client, manager, pending_quote):
    services.quote_decide(actor=manager, quote_id=pending_quote.pk, approve=False)
    client.force_login(manager)
    html = client.get(
        "/sales/approvals/", {"confirm": "quote", "pk": pending_quote.pk, "decision": "approve"}
    ).content.decode()
    assert "no longer waiting" in html
    assert 'id="approval-confirm"' not in html


def test_recording_a_payment_from_the_deal_page_asks_first_and_cancel_records_nothing(
    client, finance, owner, deal, units
):
    from guanxi.sales.models import Payment

    deposit(owner, deal, units[0])
    client.force_login(finance)
    form = {"amount": "50000.00", "method": "bank", "receipt_number": "R-77", "preview": "1"}
    html = client.post(f"/sales/deals/{deal.pk}/payment/", form).content.decode()
    assert "¥50,000.00 received by" in html and "receipt R-77" in html
    assert 'id="payment-cancel"' in html
    assert not Payment.objects.exists()  # asked, not recorded; cancelling leaves it so
    form.pop("preview")
    client.post(f"/sales/deals/{deal.pk}/payment/", {**form, "comment": "工行转账"})
    assert Payment.objects.get().receipt_number == "R-77"
    assert AuditEntry.objects.get(verb="payment.record").note == "工行转账"
