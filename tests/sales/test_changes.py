"""换房, 换名, 退房 (篇五): a unit change goes to an equal or larger amount; a name change is
for signed contracts, with a transfer fee and an amendment; a refund before the contract
needs a manager, after the contract there is none. Only managers decide."""

from decimal import Decimal

import pytest

from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.sales import services
from guanxi.sales.models import (
    Agreement,
    ChangeRequest,
    Deal,
    Instalment,
    InventoryUnit,
    SalesSettings,
    UnitEvent,
)

from .conftest import deposit, make_units, to_contract, to_subscription

D = Decimal


def request_change(actor, deal, kind, reason="客户要求", **data):
    return services.change_request(
        actor=actor, deal_id=deal.pk, kind=kind, reason=reason, data=data
    )


def decide(actor, change, approve=True):
    return services.change_decide(actor=actor, change_id=change.pk, approve=approve)


@pytest.fixture
def bigger(flat):
    return make_units(flat, 1, price=D("2300000.00"), building="2")[0]


@pytest.fixture
def smaller(flat):
    return make_units(flat, 1, price=D("1800000.00"), building="3")[0]


def test_unit_change_to_a_larger_amount(owner, manager, deal, units, bigger):
    deposit(owner, deal, units[0])
    change = request_change(owner, deal, "unit_change", unit_id=bigger.pk)
    assert change.status == "pending"
    assert InventoryUnit.objects.get(pk=bigger.pk).status == "available"
    decide(manager, change)
    deal.refresh_from_db()
    old, new = InventoryUnit.objects.get(pk=units[0].pk), InventoryUnit.objects.get(pk=bigger.pk)
    assert (old.status, old.deal_id) == ("available", None)
    assert (new.status, new.deal_id) == ("reserved", deal.pk)
    assert (deal.unit_id, deal.amount) == (bigger.pk, D("2300000.00"))
    change.refresh_from_db()
    assert (change.status, change.decided_by_id) == ("done", manager.pk)
    assert change.data["difference"] == "300000.00"
    assert not Agreement.objects.filter(deal=deal).exists()  # nothing issued, nothing amended


def test_unit_change_to_an_equal_amount_after_the_agreement_is_amended(owner, manager, deal, units):
    agreement = to_subscription(owner, deal, units[0])
    decide(manager, request_change(owner, deal, "unit_change", unit_id=units[1].pk))
    new = InventoryUnit.objects.get(pk=units[1].pk)
    assert (new.status, new.deal_id) == ("subscribed", deal.pk)  # takes the old unit's status
    assert InventoryUnit.objects.get(pk=units[0].pk).status == "available"
    amendment = Agreement.objects.get(deal=deal, kind="amendment")
    assert amendment.number == f"{agreement.number}-A1"
    assert amendment.content["unit"] == units[1].code
    assert Agreement.objects.get(pk=agreement.pk).content["unit"] == units[0].code
    events = UnitEvent.objects.filter(note="unit change")
    assert {(e.unit_id, e.to_status) for e in events} == {
        (units[1].pk, "subscribed"),
        (units[0].pk, "available"),
    }


def test_unit_change_to_a_smaller_amount_is_refused(owner, manager, deal, units, smaller):
    deposit(owner, deal, units[0])
    with pytest.raises(ValidationFailed) as caught:
        request_change(owner, deal, "unit_change", unit_id=smaller.pk)
    assert (caught.value.code, caught.value.field) == ("smaller_amount", "unit_id")
    assert not ChangeRequest.objects.exists()


def test_unit_change_to_a_unit_taken_meanwhile_is_refused(
    owner, manager, customer, deal, units, bigger
):
    from .conftest import open_deal

    deposit(owner, deal, units[0])
    change = request_change(owner, deal, "unit_change", unit_id=bigger.pk)
    other = open_deal(owner, customer, deal.product, title="别的")
    deposit(owner, other, bigger)
    with pytest.raises(Conflict) as caught:
        decide(manager, change)
    assert caught.value.code == "unit_not_available"
    assert ChangeRequest.objects.get(pk=change.pk).status == "pending"
    assert InventoryUnit.objects.get(pk=units[0].pk).deal_id == deal.pk


def test_unit_change_needs_a_unit_to_change(owner, deal, bigger):
    with pytest.raises(Conflict) as caught:
        request_change(owner, deal, "unit_change", unit_id=bigger.pk)
    assert caught.value.code == "no_unit"


def test_name_change_only_after_the_contract(owner, deal, units):
    to_subscription(owner, deal, units[0])
    with pytest.raises(Conflict) as caught:
        request_change(owner, deal, "name_change", new_name="李四", fee="5000")
    assert caught.value.code == "not_signed"


def test_name_change_after_the_contract_with_fee_and_amendment(owner, manager, deal, units):
    to_contract(owner, deal, units[0])
    with pytest.raises(ValidationFailed) as caught:
        request_change(owner, deal, "name_change", new_name=" ")
    assert caught.value.code == "required"
    change = request_change(owner, deal, "name_change", new_name="李四", fee="5000.00")
    assert change.fee == D("5000.00")
    decide(manager, change)
    deal.refresh_from_db()
    assert deal.buyer_name == "李四"
    fee = Instalment.objects.get(deal=deal, amount=D("5000.00"))
    assert (fee.status, "换名" in fee.label) == ("due", True)
    amendment = Agreement.objects.get(deal=deal, kind="amendment")
    assert (amendment.content["buyer"], amendment.content["transfer_fee"]) == ("李四", "5000.00")
    assert Agreement.objects.get(deal=deal, kind="agreement").content["buyer"] == "张三"


def test_name_change_without_a_fee_charges_the_default(owner, manager, deal, units):
    settings = SalesSettings.current()
    settings.name_change_fee = D("2000.00")
    settings.save()
    to_contract(owner, deal, units[0])
    change = request_change(owner, deal, "name_change", new_name="李四", fee=None)
    assert change.fee == D("2000.00")


def test_refund_before_the_contract_with_a_managers_approval(owner, manager, deal, units):
    to_subscription(owner, deal, units[0])
    change = request_change(owner, deal, "refund", reason="资金周转不开")
    assert Deal.objects.get(pk=deal.pk).stage == "subscription"  # nothing happens yet
    decide(manager, change)
    deal.refresh_from_db()
    assert deal.stage == "lost" and "资金周转不开" in deal.lost_reason
    unit = InventoryUnit.objects.get(pk=units[0].pk)
    assert (unit.status, unit.deal_id) == ("available", None)
    assert set(Instalment.objects.filter(deal=deal).values_list("status", flat=True)) == {
        "cancelled"
    }
    # The flat is for sale again, and the lost deal asks for nothing more.
    with pytest.raises(Conflict) as caught:
        request_change(owner, deal, "unit_change", unit_id=units[1].pk)
    assert caught.value.code == "deal_closed"


def test_a_rejected_refund_changes_nothing(owner, manager, deal, units):
    deposit(owner, deal, units[0])
    change = decide(manager, request_change(owner, deal, "refund"), approve=False)
    assert change.status == "rejected"
    assert Deal.objects.get(pk=deal.pk).stage == "small_deposit"
    assert InventoryUnit.objects.get(pk=units[0].pk).status == "reserved"


def test_no_refund_after_the_contract(owner, deal, units):
    to_contract(owner, deal, units[0])
    with pytest.raises(Conflict) as caught:
        request_change(owner, deal, "refund")
    assert caught.value.code == "refund_after_contract"


def test_no_refund_without_a_deposit(owner, deal):
    with pytest.raises(Conflict) as caught:
        request_change(owner, deal, "refund")
    assert caught.value.code == "wrong_stage"


def test_only_managers_decide(owner, teammate, sh_manager, manager, deal, units):
    deposit(owner, deal, units[0])
    change = request_change(owner, deal, "refund")
    for person in (owner, teammate, sh_manager):
        with pytest.raises(NotFound):
            decide(person, change)
    assert ChangeRequest.objects.get(pk=change.pk).status == "pending"
    decide(manager, change)
    with pytest.raises(NotFound):  # decided once
        decide(manager, change, approve=False)


def test_a_change_needs_a_reason_and_a_known_kind(owner, deal, units):
    deposit(owner, deal, units[0])
    with pytest.raises(ValidationFailed):
        request_change(owner, deal, "refund", reason=" ")
    with pytest.raises(ValidationFailed):
        request_change(owner, deal, "discount")


def test_changes_through_the_web_and_the_api(client, owner, manager, deal, units, bigger):
    deposit(owner, deal, units[0])
    client.force_login(owner)
    response = client.post(
        f"/sales/deals/{deal.pk}/change/",
        {"kind": "unit_change", "unit": str(bigger.pk), "reason": "换大的"},
    )
    assert response.status_code == 302
    change = ChangeRequest.objects.get()
    response = client.post(f"/api/v1/sales/changes/{change.pk}/decide?approve=true")
    assert response.status_code == 404
    client.force_login(manager)
    page = client.get("/sales/approvals/").content.decode()
    assert "换大的" in page
    response = client.post(
        "/sales/approvals/", {"target": "change", "pk": change.pk, "decision": "approve"}
    )
    assert response.status_code == 302
    assert Deal.objects.get(pk=deal.pk).unit_id == bigger.pk
    client.force_login(owner)
    response = client.post(
        f"/api/v1/sales/deals/{deal.pk}/changes",
        {"kind": "unit_change", "reason": "再换", "unit_id": units[2].pk},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (422, "smaller_amount")
