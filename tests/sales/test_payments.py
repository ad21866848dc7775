"""Money: only finance records payments (403 for everyone else, web and API), with a receipt
number once; amounts are exact decimals; the last payment makes the deal paid, the unit
sold, the customer's running figures and the commission ledger, in one transaction."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.core.errors import Conflict, Forbidden, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.reception.models import CommissionShare, CreditDecision
from guanxi.sales import services
from guanxi.sales.models import CommissionEntry, Deal, Instalment, InventoryUnit, Payment

from .conftest import open_deal, pay, to_contract

D = Decimal


@pytest.fixture
def signed(owner, customer, service_product):
    """A signed deal of 0.30 yuan: 0.10 small deposit, then 0.10 and 0.10 instalments."""
    deal = open_deal(owner, customer, service_product, amount="0.30")
    to_contract(owner, deal, amount="0.10")
    services.schedule_set(
        actor=owner,
        deal_id=deal.pk,
        instalments=[
            {"label": "首付", "due_date": timezone.localdate(), "amount": "0.10"},
            {
                "label": "尾款",
                "due_date": timezone.localdate() + timedelta(days=30),
                "amount": "0.10",
            },
        ],
    )
    return deal


@pytest.fixture
def flat_signed(owner, customer, units):
    """张三's flat (2,000,000.00), signed, deposit 50,000 due, the rest on one instalment."""
    deal = open_deal(owner, customer, units[0].product)
    to_contract(owner, deal, units[0], amount="50000.00")
    services.schedule_set(
        actor=owner,
        deal_id=deal.pk,
        instalments=[{"label": "房款", "due_date": timezone.localdate(), "amount": "1950000.00"}],
    )
    return deal


def test_three_payments_of_ten_fen_make_thirty_exactly(finance, signed, customer):
    for _ in range(3):
        pay(finance, signed, "0.10")
    deal = Deal.objects.get(pk=signed.pk)
    assert deal.stage == "paid"
    assert sum(Payment.objects.filter(deal=deal).values_list("amount", flat=True)) == D("0.30")
    customer.refresh_from_db()
    assert (customer.order_count, customer.revenue) == (1, D("0.30"))
    assert customer.last_purchase_at is not None
    assert customer.stage == "customer"


def test_ten_and_twenty_fen_make_thirty(finance, owner, customer, service_product):
    deal = open_deal(owner, customer, service_product, amount="0.30")
    to_contract(owner, deal, amount="0.10")
    services.schedule_set(
        actor=owner,
        deal_id=deal.pk,
        instalments=[{"label": "尾款", "due_date": timezone.localdate(), "amount": "0.20"}],
    )
    pay(finance, deal, "0.10")
    pay(finance, deal, "0.20")
    assert Deal.objects.get(pk=deal.pk).stage == "paid"
    assert Customer.objects.get(pk=customer.pk).revenue == D("0.30")


def test_running_figures_add_up_exactly_over_deals(finance, owner, customer, service_product):
    for amount in ("0.10", "0.20", "1234567.89"):
        deal = open_deal(owner, customer, service_product, amount=amount)
        to_contract(owner, deal, amount=amount)
        pay(finance, deal, amount)
    customer.refresh_from_db()
    assert (customer.order_count, customer.revenue) == (3, D("1234568.19"))


def test_a_float_amount_is_refused(finance, signed):
    with pytest.raises(ValidationFailed) as caught:
        pay(finance, signed, 0.1)
    assert (caught.value.code, caught.value.field) == ("inexact", "amount")
    for amount, code in [("0", "not_positive"), ("-1", "not_positive"), ("x", "invalid")]:
        with pytest.raises(ValidationFailed) as caught:
            pay(finance, signed, amount)
        assert caught.value.code == code
    assert not Payment.objects.exists()


def test_only_finance_records_money(owner, manager, admin_user, signed):
    for person in (owner, manager, admin_user):
        with pytest.raises(Forbidden) as caught:
            pay(person, signed, "0.10")
        assert caught.value.code == "finance_only"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("who", ["owner", "manager", "admin_user", "receptionist"])
def test_anyone_but_finance_gets_403_on_the_web_and_the_api(client, request, signed, who):
    client.force_login(request.getfixturevalue(who))
    web = client.post(
        f"/sales/deals/{signed.pk}/payment/",
        {"amount": "0.10", "method": "cash", "receipt_number": "W-1"},
    )
    assert web.status_code == 403
    api = client.post(
        "/api/v1/sales/payments",
        json.dumps(
            {"amount": "0.10", "method": "cash", "receipt_number": "A-1", "deal_id": signed.pk}
        ),
        content_type="application/json",
    )
    assert (api.status_code, api.json()["code"]) == (403, "finance_only")
    assert not Payment.objects.exists()


def test_finance_records_through_the_web_and_the_api(client, finance, signed):
    client.force_login(finance)
    page = client.get(f"/sales/deals/{signed.pk}/").content.decode()
    assert 'id="payment-form"' in page
    response = client.post(
        f"/sales/deals/{signed.pk}/payment/",
        {"amount": "0.10", "method": "cash", "receipt_number": "W-1"},
    )
    assert response.status_code == 302
    response = client.post(
        "/api/v1/sales/payments",
        json.dumps(
            {"amount": "0.10", "method": "wechat", "receipt_number": "A-1", "deal_id": signed.pk}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "0.10"
    assert sorted(Payment.objects.values_list("receipt_number", "recorded_by_id")) == [
        ("A-1", finance.pk),
        ("W-1", finance.pk),
    ]


def test_the_payment_form_is_not_shown_to_salespeople(client, owner, signed):
    client.force_login(owner)
    assert 'id="payment-form"' not in client.get(f"/sales/deals/{signed.pk}/").content.decode()


def test_a_receipt_number_is_recorded_once(client, finance, signed):
    pay(finance, signed, "0.05", receipt="RC-0001")
    with pytest.raises(Conflict) as caught:
        pay(finance, signed, "0.05", receipt="RC-0001")
    assert (caught.value.code, caught.value.field) == ("duplicate_receipt", "receipt_number")
    client.force_login(finance)
    response = client.post(
        "/api/v1/sales/payments",
        json.dumps(
            {"amount": "0.05", "method": "cash", "receipt_number": "RC-0001", "deal_id": signed.pk}
        ),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "duplicate_receipt")
    assert Payment.objects.count() == 1


def test_more_than_the_instalment_is_refused(client, finance, signed):
    deposit = Instalment.objects.get(deal=signed, label__contains="小定")
    with pytest.raises(ValidationFailed) as caught:
        pay(finance, signed, "0.11", instalment=deposit)
    assert caught.value.code == "over_instalment"
    client.force_login(finance)
    response = client.post(
        "/api/v1/sales/payments",
        json.dumps(
            {"amount": "0.20", "method": "cash", "receipt_number": "X-1", "deal_id": signed.pk}
        ),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (422, "over_instalment")
    assert not Payment.objects.exists()


def test_a_part_payment_leaves_the_instalment_due(finance, signed):
    first = Instalment.objects.filter(deal=signed).order_by("due_date", "id").first()
    pay(finance, signed, "0.04")
    first.refresh_from_db()
    assert (first.status, first.paid_amount, first.outstanding) == ("due", D("0.04"), D("0.06"))
    pay(finance, signed, "0.06")
    first.refresh_from_db()
    assert (first.status, first.paid_amount) == ("paid", D("0.10"))
    assert Deal.objects.get(pk=signed.pk).stage == "contract"


def test_nothing_more_than_the_deal_amount_when_nothing_is_scheduled(finance, signed):
    for _ in range(3):
        pay(finance, signed, "0.10")
    with pytest.raises(ValidationFailed) as caught:
        pay(finance, signed, "0.01")
    assert caught.value.code == "over_amount"


def test_the_last_payment_sells_the_unit_and_settles_all_to_the_owner(
    finance, owner, flat_signed, customer
):
    pay(finance, flat_signed, "50000.00")
    assert Deal.objects.get(pk=flat_signed.pk).stage == "contract"
    assert not CommissionEntry.objects.exists()
    pay(finance, flat_signed, "1950000.00")
    deal = Deal.objects.get(pk=flat_signed.pk)
    assert (deal.stage, deal.closed_at is not None) == ("paid", True)
    unit = InventoryUnit.objects.get(pk=deal.unit_id)
    assert (unit.status, unit.deal_id) == ("sold", deal.pk)
    assert list(unit.events.values_list("to_status", flat=True)) == [
        "reserved",
        "subscribed",
        "signed",
        "sold",
    ]
    customer.refresh_from_db()
    assert (customer.order_count, customer.revenue) == (1, D("2000000.00"))
    # 1 % of the amount, all to the deal's owner: no credit decision.
    assert list(CommissionEntry.objects.values_list("salesperson_id", "percent", "amount")) == [
        (owner.pk, D("100.00"), D("20000.00"))
    ]


def test_commission_follows_receptions_current_split(
    finance, owner, teammate, manager, flat_signed, customer
):
    old = CreditDecision.objects.create(
        customer=customer, case_number=6, explanation="旧的", credit_user=owner, is_current=False
    )
    CommissionShare.objects.create(decision=old, salesperson=owner, percent=D("100"))
    decision = CreditDecision.objects.create(
        customer=customer, case_number=3, explanation="b 不在场, c 协助", credit_user=owner
    )
    CommissionShare.objects.create(decision=decision, salesperson=owner, percent=D("80"))
    CommissionShare.objects.create(decision=decision, salesperson=teammate, percent=D("20"))
    pay(finance, flat_signed, "50000.00")
    pay(finance, flat_signed, "1950000.00")
    lines = {
        e.salesperson_id: (e.percent, e.amount, e.case_number)
        for e in CommissionEntry.objects.filter(deal=flat_signed)
    }
    assert lines == {
        owner.pk: (D("80.00"), D("16000.00"), 3),
        teammate.pk: (D("20.00"), D("4000.00"), 3),
    }


def test_the_rounding_cent_goes_to_the_last_line(
    finance, owner, teammate, customer, service_product
):
    decision = CreditDecision.objects.create(
        customer=customer, case_number=7, explanation="50/50", credit_user=owner
    )
    CommissionShare.objects.create(decision=decision, salesperson=owner, percent=D("50"))
    CommissionShare.objects.create(decision=decision, salesperson=teammate, percent=D("50"))
    deal = open_deal(owner, customer, service_product, amount="1001.00")  # 1 % = 10.01
    to_contract(owner, deal, amount="1001.00")
    pay(finance, deal, "1001.00")
    amounts = list(
        CommissionEntry.objects.filter(deal=deal).order_by("id").values_list("amount", flat=True)
    )
    assert amounts == [D("5.01"), D("5.00")]
    assert sum(amounts) == D("10.01")


def test_a_department_share_is_a_line_of_its_own(finance, owner, customer, service_product, org):
    decision = CreditDecision.objects.create(
        customer=customer,
        case_number=None,
        explanation="争吵, 归部门",
        credit_department=org["bj_sales"],
    )
    CommissionShare.objects.create(decision=decision, department=org["bj_sales"], percent=D("100"))
    deal = open_deal(owner, customer, service_product, amount="500.00")
    to_contract(owner, deal, amount="500.00")
    pay(finance, deal, "500.00")
    entry = CommissionEntry.objects.get(deal=deal)
    assert (entry.salesperson_id, entry.department_id, entry.amount) == (
        None,
        org["bj_sales"].pk,
        D("5.00"),
    )


def test_paid_in_full_before_signing_completes_at_the_contract(
    finance, owner, customer, service_product
):
    deal = open_deal(owner, customer, service_product, amount="399.00")
    services.deal_take_deposit(actor=owner, deal_id=deal.pk, kind="small_deposit", amount="399.00")
    pay(finance, deal, "399.00")
    services.agreement_issue(actor=owner, deal_id=deal.pk)
    assert Deal.objects.get(pk=deal.pk).stage == "subscription"
    services.deal_move(actor=owner, deal_id=deal.pk, to_stage="contract")
    assert Deal.objects.get(pk=deal.pk).stage == "paid"
    assert Customer.objects.get(pk=customer.pk).order_count == 1
    assert CommissionEntry.objects.filter(deal=deal).count() == 1


def test_a_lost_deal_takes_no_money(finance, owner, deal):
    services.deal_move(actor=owner, deal_id=deal.pk, to_stage="lost", lost_reason="不买了")
    with pytest.raises(Conflict) as caught:
        pay(finance, deal, "1.00")
    assert caught.value.code == "deal_closed"


def test_finance_of_another_branch_does_not_see_the_deal(org, signed):
    from guanxi.core.errors import NotFound
    from guanxi.core.models import Role
    from tests.conftest import make_user

    sh_finance = make_user("sh_finance", org["sh"], Role.FINANCE)
    with pytest.raises(NotFound):
        pay(sh_finance, signed, "0.10")
