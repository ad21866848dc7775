"""The money path (issue 11 item 8) and changes to the 认购书 (issue 12 item 2).

An approved quote's price becomes the deal's amount, the price on the 认购书 and the basis of
the payment schedule; the printed PDF shows it. After issue, the buyer, the unit and the
price change only through a change request a manager approves, which amends the agreement and
keeps deal, schedule and PDF consistent.
"""

from decimal import Decimal as D

import pytest

from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.sales import services
from guanxi.sales.models import Agreement, Deal, Quote
from guanxi.sales.pdf import agreement_pdf

from .conftest import FLAT_PRICE, deposit, open_deal, to_subscription
from .test_agreements import pdf_pages

APPROVED = D("1880000.00")  # 6 % off the list price: above the 5 % a salesperson may give


def approved_quote(owner, manager, deal, flat):
    quote = services.quote_issue(
        actor=owner,
        customer_id=deal.customer_id,
        product_id=flat.pk,
        price=APPROVED,
        deal_id=deal.pk,
    )
    assert quote.status == Quote.Status.PENDING
    return services.quote_decide(actor=manager, quote_id=quote.pk, approve=True)


def test_the_approved_price_is_the_deals_amount_and_the_agreements(
    owner, manager, deal, flat, units
):
    approved_quote(owner, manager, deal, flat)
    assert Deal.objects.get(pk=deal.pk).amount == APPROVED
    agreement = to_subscription(owner, deal, units[0], amount="50000.00")
    assert (agreement.content["price"], agreement.content["balance"]) == (
        "1880000.00",
        "1830000.00",
    )
    for text in pdf_pages(agreement_pdf(agreement)):
        assert "¥1880000.00" in text and f"¥{FLAT_PRICE}" not in text


def test_a_quote_approved_after_the_deposit_still_sets_the_price(owner, manager, deal, flat, units):
    deposit(owner, deal, units[0])
    assert Deal.objects.get(pk=deal.pk).amount == FLAT_PRICE
    approved_quote(owner, manager, deal, flat)
    agreement = services.agreement_issue(actor=owner, deal_id=deal.pk)
    assert agreement.content["price"] == "1880000.00"


def test_a_standing_quote_prices_a_deal_opened_without_one(owner, manager, customer, flat, units):
    deal = open_deal(owner, customer, flat)
    approved_quote(owner, manager, deal, flat)
    other = open_deal(owner, customer, flat, title="第二套")
    deposit(owner, other, units[1])
    assert Deal.objects.get(pk=other.pk).amount == APPROVED


@pytest.mark.parametrize(
    "changes", [{"buyer": "李梅"}, {"price": "1.00"}, {"unit": "X-1"}, {"balance": "0"}]
)
def test_the_agreements_terms_are_not_amended_directly(owner, manager, deal, units, changes):
    agreement = to_subscription(owner, deal, units[0])
    for actor in (owner, manager):
        with pytest.raises(Conflict) as caught:
            services.agreement_amend(
                actor=actor, agreement_id=agreement.pk, changes=changes, reason="改"
            )
        assert (caught.value.code, caught.value.field) == ("change_request_required", "changes")
    assert not Agreement.objects.filter(kind="amendment").exists()


def test_a_price_change_needs_approval_and_amends_the_agreement(owner, manager, deal, units):
    agreement = to_subscription(owner, deal, units[0], amount="50000.00")
    change = services.change_request(
        actor=owner,
        deal_id=deal.pk,
        kind="price_change",
        reason="团购优惠",
        data={"price": "1900000"},
    )
    assert Deal.objects.get(pk=deal.pk).amount == FLAT_PRICE  # nothing until approved
    assert not Agreement.objects.filter(kind="amendment").exists()
    services.change_decide(actor=manager, change_id=change.pk, approve=True)
    assert Deal.objects.get(pk=deal.pk).amount == D("1900000.00")
    amendment = Agreement.objects.get(kind="amendment")
    assert (amendment.parent_id, amendment.content["price"], amendment.content["balance"]) == (
        agreement.pk,
        "1900000.00",
        "1850000.00",
    )
    assert "¥1900000.00" in pdf_pages(agreement_pdf(amendment))[0]


def test_a_price_below_the_schedule_is_refused(owner, deal, units):
    to_subscription(owner, deal, units[0], amount="50000.00")
    with pytest.raises(ValidationFailed) as caught:
        services.change_request(
            actor=owner, deal_id=deal.pk, kind="price_change", reason="x", data={"price": "10000"}
        )
    assert (caught.value.code, caught.value.field) == ("below_schedule", "price")
