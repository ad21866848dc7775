"""The pipeline's stage rules (deal_move), through the service, the kanban drop and the API."""

from datetime import date, timedelta

import pytest

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.customers.services import customer_share
from guanxi.sales import services
from guanxi.sales.models import Deal, DealEvent, PipelineStage

from .conftest import deposit, open_deal, pay, to_contract


def move(actor, deal, stage, reason=""):
    return services.deal_move(actor=actor, deal_id=deal.pk, to_stage=stage, lost_reason=reason)


def refused(actor, deal, stage, reason=""):
    with pytest.raises(Conflict) as caught:
        move(actor, deal, stage, reason)
    assert Deal.objects.get(pk=deal.pk).stage != stage
    return caught.value.code


def test_early_stages_move_freely_among_themselves(owner, deal):
    for stage in ["quoted", "needs_confirmed", "lead", "quoted", "lead"]:
        assert move(owner, deal, stage).stage == stage
    events = DealEvent.objects.filter(deal=deal, kind="stage")
    assert [(e.from_stage, e.to_stage) for e in events.order_by("id")][:2] == [
        ("lead", "quoted"),
        ("quoted", "needs_confirmed"),
    ]


@pytest.mark.parametrize("stage", ["small_deposit", "large_deposit"])
def test_deposit_stages_are_reached_only_by_taking_a_deposit(owner, deal, stage):
    assert refused(owner, deal, stage) == "deposit_required"


def test_subscription_is_reached_only_by_issuing_the_agreement(owner, deal, units):
    assert refused(owner, deal, "subscription") == "agreement_required"
    deposit(owner, deal, units[0])
    assert refused(owner, deal, "subscription") == "agreement_required"


def test_contract_only_from_subscription(owner, deal, units):
    assert refused(owner, deal, "contract") == "subscription_required"
    deposit(owner, deal, units[0])
    assert refused(owner, deal, "contract") == "subscription_required"
    services.agreement_issue(actor=owner, deal_id=deal.pk)
    assert move(owner, deal, "contract").stage == "contract"
    units[0].refresh_from_db()
    assert (units[0].status, units[0].deal_id) == ("signed", deal.pk)


def test_paid_only_through_the_last_payment(owner, deal, units):
    assert refused(owner, deal, "paid") == "payment_required"
    to_contract(owner, deal, units[0])
    assert refused(owner, deal, "paid") == "payment_required"


def test_delivered_only_after_paid(owner, finance, customer, service_product):
    deal = open_deal(owner, customer, service_product, amount="1000.00")
    assert refused(owner, deal, "delivered") == "payment_required"
    to_contract(owner, deal, amount="1000.00")
    assert refused(owner, deal, "delivered") == "payment_required"
    pay(finance, deal, "1000.00")
    assert Deal.objects.get(pk=deal.pk).stage == "paid"
    assert move(owner, deal, "delivered").stage == "delivered"


def test_lost_needs_a_reason(owner, deal):
    with pytest.raises(ValidationFailed) as caught:
        move(owner, deal, "lost", "  ")
    assert (caught.value.code, caught.value.field) == ("required", "lost_reason")
    lost = move(owner, deal, "lost", "买了别家")
    assert (lost.stage, lost.lost_reason) == ("lost", "买了别家")
    assert lost.closed_at is not None


@pytest.mark.parametrize("stage", ["small_deposit", "large_deposit", "subscription", "contract"])
def test_a_deal_holding_a_deposit_is_refunded_not_dropped_to_lost(owner, deal, units, stage):
    deposit(
        owner, deal, units[0], kind="large_deposit" if stage == "large_deposit" else "small_deposit"
    )
    if stage in ("subscription", "contract"):
        services.agreement_issue(actor=owner, deal_id=deal.pk)
    if stage == "contract":
        move(owner, deal, "contract")
    assert refused(owner, deal, "lost", "客户不想要了") == "refund_required"
    units[0].refresh_from_db()
    assert units[0].deal_id == deal.pk


@pytest.mark.parametrize("back_to", ["lead", "needs_confirmed", "quoted"])
def test_no_moving_back_past_the_deposit(owner, deal, units, back_to):
    deposit(owner, deal, units[0], kind="large_deposit")
    assert refused(owner, deal, back_to) == "backwards"


def test_a_signed_deal_does_not_move_back_to_subscription(owner, deal, units):
    to_contract(owner, deal, units[0])
    assert refused(owner, deal, "quoted") == "backwards"
    assert refused(owner, deal, "subscription") == "agreement_required"


def test_closed_deals_do_not_move(owner, finance, deal, customer, service_product):
    move(owner, deal, "lost", "预算不够")
    for stage in ["lead", "quoted", "contract", "delivered"]:
        assert refused(owner, deal, stage) == "deal_closed"
    paid = open_deal(owner, customer, service_product, title="延保", amount="399.00")
    to_contract(owner, paid, amount="399.00")
    pay(finance, paid, "399.00")
    for stage in ["contract", "lead", "lost"]:
        assert refused(owner, paid, stage, "原因") == "deal_closed"
    move(owner, paid, "delivered")
    assert refused(owner, paid, "paid") == "deal_closed"


def test_unknown_or_unused_stage_is_refused(owner, deal):
    with pytest.raises(ValidationFailed) as caught:
        move(owner, deal, "won")
    assert caught.value.code == "invalid_choice"
    PipelineStage.objects.filter(code="needs_confirmed").update(active=False)
    with pytest.raises(ValidationFailed) as caught:
        move(owner, deal, "needs_confirmed")
    assert caught.value.code == "inactive"


def test_only_the_owner_or_a_manager_moves_a_deal(owner, teammate, manager, outsider, deal):
    customer_share(actor=owner, customer_id=deal.customer_id, user=teammate)
    with pytest.raises(Forbidden):
        move(teammate, deal, "quoted")
    with pytest.raises(NotFound):
        move(outsider, deal, "quoted")
    assert move(manager, deal, "quoted").stage == "quoted"


def test_moving_to_the_same_stage_changes_nothing(owner, deal):
    move(owner, deal, "lead")
    assert not DealEvent.objects.filter(deal=deal, kind="stage").exists()


def test_kanban_drop_moves_or_shows_the_rule(client, owner, deal):
    client.force_login(owner)
    response = client.post(f"/sales/deals/{deal.pk}/move/", {"stage": "quoted"})
    assert response.status_code == 200
    assert Deal.objects.get(pk=deal.pk).stage == "quoted"
    html = response.content.decode()
    assert 'data-stage-column="quoted"' in html and f'id="deal-{deal.pk}"' in html
    response = client.post(f"/sales/deals/{deal.pk}/move/", {"stage": "contract"})
    assert response.status_code == 200
    assert 'id="move-error"' in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage == "quoted"


def test_kanban_shows_count_and_amount_per_column(client, owner, customer, service_product):
    for amount in ("100.10", "200.20"):
        open_deal(owner, customer, service_product, amount=amount)
    client.force_login(owner)
    columns = {c["stage"]: c for c in client.get("/api/v1/sales/pipeline").json()}
    assert columns["lead"]["count"] == 2
    assert columns["lead"]["total"] == "300.30"  # exact, not a float sum
    html = client.get("/sales/").content.decode()
    assert "300.30" in html


def test_api_move_answers_409_with_the_rule_code(client, owner, deal):
    client.force_login(owner)
    url = f"/api/v1/sales/deals/{deal.pk}/move"
    response = client.post(url, {"stage": "small_deposit"}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "deposit_required"
    response = client.post(url, {"stage": "quoted"}, content_type="application/json")
    assert (response.status_code, response.json()["stage"]) == (200, "quoted")


def test_deposit_after_the_stage_is_refused(owner, deal, units):
    deposit(owner, deal, units[0], kind="large_deposit", due_date=date.today() + timedelta(days=3))
    with pytest.raises(Conflict) as caught:
        deposit(owner, deal, kind="small_deposit")
    assert caught.value.code == "wrong_stage"


@pytest.mark.parametrize("who", ["owner", "teammate", "manager", "admin_user", "outsider"])
def test_the_kanban_reads_the_same_cards_either_way(
    request, monkeypatch, owner, teammate, customer, service_product, who
):
    from guanxi.sales import selectors
    from tests.conftest import new_customer

    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    other = new_customer(teammate, "李四", ("13700003333",))
    for n in range(5):
        open_deal(owner, customer, service_product, title=f"张三 {n}", amount=f"{n}.10")
        open_deal(teammate, other, service_product, title=f"李四 {n}", amount="1.00")
    viewer = request.getfixturevalue(who)

    def board(walk_from, mine=False):
        monkeypatch.setattr(selectors, "WALK_STAGE_FROM", walk_from)
        # a list of customer ids, or the subquery, depending on the size of the book
        monkeypatch.setattr(selectors, "LIST_CUSTOMERS_UP_TO", 500 if walk_from else 0)
        return [
            (c.stage.code, c.count, c.total, [d.pk for d in c.deals])
            for c in selectors.kanban(viewer=viewer, mine=mine)
        ]

    assert board(0) == board(10**6)
    assert board(0, mine=True) == board(10**6, mine=True)
    lead = {c[0]: c for c in board(0)}["lead"]
    expected = {"owner": 5, "teammate": 10, "manager": 10, "admin_user": 10, "outsider": 0}
    assert lead[1] == expected[who]
