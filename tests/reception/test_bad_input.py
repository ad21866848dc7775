"""Bad input at the desk and in disputes: a clear error with a stable code, nothing half-written."""

from decimal import Decimal

import pytest

from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.models import (
    CommissionShare,
    CreditDecision,
    Dispute,
    DutySlot,
    Visit,
)

from .helpers import new_phone


def counts() -> dict:
    return {
        "visits": Visit.objects.count(),
        "customers": Customer.objects.count(),
        "decisions": CreditDecision.objects.count(),
        "shares": CommissionShare.objects.count(),
        "disputes": Dispute.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def walk_in(desk, **fields):
    registration = services.Registration(phone=fields.pop("phone", new_phone()), **fields)
    return services.visit_register_and_receive(actor=desk.actor, registration=registration)


@pytest.fixture
def bs_customer(desk, trio):
    desk.walk_in()
    return desk.walk_in("13911110000", "钱先生")  # received by B


def test_asking_for_a_salesperson_who_is_out_is_refused_and_nothing_written(desk, trio):
    _a, _b, c = trio
    desk.set_state(c, DutySlot.State.OUT)
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        walk_in(desk, name="新客", prefers=c.pk)
    assert (exc.value.code, exc.value.field) == ("not_on_duty", "prefers")
    assert "not on duty" in exc.value.message
    assert counts() == before
    assert sum(s.turns_taken for s in desk.slots().values()) == 0


def test_asking_for_someone_not_on_todays_roster(desk, trio, fourth, bs_customer):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        walk_in(desk, phone="13911110000", prefers=fourth.pk, refuses=trio[1].pk)
    assert exc.value.code == "not_on_duty"
    assert "roster" in exc.value.message
    assert counts() == before


def test_launch_event_assignee_not_on_duty(desk, trio, fourth, manager):
    services.roster_event_mode(actor=manager, roster_id=desk.roster().pk, on=True)
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        walk_in(desk, name="开盘客", event_assignee=fourth.pk)
    assert (exc.value.code, exc.value.field) == ("not_on_duty", "event_assignee")
    assert counts() == before


def test_registered_visitor_refused_at_receiving_stays_waiting_and_can_be_received(desk, trio):
    _a, _b, c = trio
    desk.set_state(c, DutySlot.State.BUSY)
    visit = desk.register(name="等候的客人")
    with pytest.raises(ValidationFailed):
        desk.receive(visit, prefers=c.pk)
    visit.refresh_from_db()
    assert (visit.state, visit.receiver_id) == ("waiting", None)
    assert not CreditDecision.objects.filter(visit=visit).exists()
    assert desk.receive(visit).receiver_id == trio[0].pk


def test_second_receive_of_the_same_visit_is_a_conflict(desk, trio):
    visit = desk.walk_in()
    before = counts()
    with pytest.raises(Conflict) as exc:
        desk.receive(visit)
    assert exc.value.code == "already_received"
    assert counts() == before
    assert sum(s.turns_taken for s in desk.slots().values()) == 1


def test_no_roster_today_is_a_conflict_and_nothing_written(receptionist, trio):
    with pytest.raises(Conflict) as exc:
        services.visit_register_and_receive(
            actor=receptionist, registration=services.Registration(phone=new_phone(), name="x")
        )
    assert exc.value.code == "no_roster"
    assert not Visit.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"phone": "12345", "name": "x"}, "invalid_phone", "phone"),
        ({"name": ""}, "required", "name"),
        ({"name": "x", "intention": "D"}, "invalid_choice", "intention"),
        ({"name": "x", "kind": "email"}, "invalid_choice", "kind"),
        ({"name": "x", "party_size": 0}, "out_of_range", "party_size"),
        ({"name": "x", "source": "nowhere"}, "invalid_choice", "source"),
        ({"name": "x", "referred_by_phone": "abc"}, "invalid_phone", "referred_by_phone"),
    ],
)
def test_registration_errors(desk, fields, code, field):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        walk_in(desk, **fields)
    assert (exc.value.code, exc.value.field) == (code, field)
    assert counts() == before


def test_archived_customer_must_be_restored_first(desk, trio):
    from django.utils import timezone

    visit = desk.walk_in("13911110000", "旧客户")
    Customer.objects.filter(pk=visit.customer_id).update(archived_at=timezone.now())
    with pytest.raises(Conflict) as exc:
        walk_in(desk, phone="13911110000")
    assert exc.value.code == "archived"


def test_a_marketer_is_not_at_the_desk(marketer, roster):
    from guanxi.core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.visit_register(
            actor=marketer, registration=services.Registration(phone=new_phone(), name="x")
        )


# ---- disputes ------------------------------------------------------------------------------


@pytest.fixture
def dispute(desk, trio, bs_customer):
    visit = desk.walk_in("13911110000", named=(trio[1].pk,), refuses=trio[1].pk, complaint=True)
    return Dispute.objects.get(visit=visit)


def test_split_not_adding_up_to_100_is_refused_and_the_dispute_stays_open(dispute, trio, manager):
    a, b, _c = trio
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.dispute_decide(
            actor=manager,
            dispute_id=dispute.pk,
            credit=a.pk,
            split={str(a.pk): 70, str(b.pk): 20},
            reason="七三开",
        )
    assert (exc.value.code, exc.value.field) == ("split_sum", "split")
    dispute.refresh_from_db()
    assert dispute.state == "open" and dispute.decision_id is None
    assert counts() == before


def test_decision_needs_a_reason(dispute, trio, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.dispute_decide(
            actor=manager,
            dispute_id=dispute.pk,
            credit=trio[0].pk,
            split={str(trio[0].pk): 100},
            reason="   ",
        )
    assert (exc.value.code, exc.value.field) == ("required", "reason")
    assert Dispute.objects.get(pk=dispute.pk).state == "open"


@pytest.mark.parametrize(
    ("credit", "split", "field"),
    [
        ("somebody", {"1": 100}, "credit"),
        (None, {"x": 100}, "split"),
        (None, {"999999": 100}, "split"),
        ("outsider", {"outsider": 100}, "credit"),
    ],
)
def test_credit_and_split_go_to_salespeople_of_the_branch(
    dispute, trio, manager, outsider, credit, split, field
):
    a = trio[0]
    ids = {"outsider": str(outsider.pk), None: a.pk}
    credit = ids.get(credit, credit)
    split = {ids.get(k, k): v for k, v in split.items()}
    with pytest.raises(ValidationFailed) as exc:
        services.dispute_decide(
            actor=manager, dispute_id=dispute.pk, credit=credit, split=split, reason="理由"
        )
    assert (exc.value.code, exc.value.field) == ("invalid_user", field)
    assert Dispute.objects.get(pk=dispute.pk).state == "open"


def test_negative_or_over_100_percent_is_refused(dispute, trio, manager):
    a, b, _c = trio
    with pytest.raises(ValidationFailed) as exc:
        services.dispute_decide(
            actor=manager,
            dispute_id=dispute.pk,
            credit=a.pk,
            split={str(a.pk): 120, str(b.pk): -20},
            reason="x",
        )
    assert exc.value.code == "out_of_range"


def test_manager_decides_records_decision_reason_owner_and_visit(dispute, trio, manager):
    a, b, _c = trio
    services.dispute_decide(
        actor=manager,
        dispute_id=dispute.pk,
        credit=a.pk,
        split={str(a.pk): "60", str(b.pk): "40"},
        reason="投诉部分属实",
    )
    dispute.refresh_from_db()
    assert (dispute.state, dispute.decided_by_id, dispute.reason) == (
        "decided",
        manager.pk,
        "投诉部分属实",
    )
    decision = dispute.decision
    assert (decision.credit_user_id, decision.decided_by_id, decision.is_current) == (
        a.pk,
        manager.pk,
        True,
    )
    assert {s.salesperson_id: s.percent for s in decision.shares.all()} == {
        a.pk: Decimal(60),
        b.pk: Decimal(40),
    }
    assert decision.explanation == "投诉部分属实"
    assert Customer.objects.get(pk=dispute.customer_id).owner_id == a.pk
    assert Visit.objects.get(pk=dispute.visit_id).state == "received"
    entry = AuditEntry.objects.get(verb="dispute.decide")
    assert entry.actor_id == manager.pk and entry.note == "投诉部分属实"
    with pytest.raises(Conflict) as exc:
        services.dispute_decide(
            actor=manager,
            dispute_id=dispute.pk,
            credit=a.pk,
            split={str(a.pk): 100},
            reason="again",
        )
    assert exc.value.code == "already_decided"


@pytest.mark.parametrize("who", ["teammate", "receptionist", "sh_manager"])
def test_only_the_branch_manager_decides(dispute, trio, who, request):
    actor = request.getfixturevalue(who)
    with pytest.raises(NotFound):
        services.dispute_decide(
            actor=actor,
            dispute_id=dispute.pk,
            credit=trio[0].pk,
            split={str(trio[0].pk): 100},
            reason="我说了算",
        )
    assert Dispute.objects.get(pk=dispute.pk).state == "open"


def test_open_dispute_by_hand_needs_a_description(desk, trio, manager, bs_customer):
    with pytest.raises(ValidationFailed):
        services.dispute_open(actor=manager, customer_id=bs_customer.customer_id, description="")
    dispute = services.dispute_open(
        actor=manager,
        customer_id=bs_customer.customer_id,
        description="两人都说是自己的客户",
        party_ids=[trio[0].pk, trio[1].pk],
    )
    assert dispute.state == "open" and dispute.parties.count() == 2


# ---- settings ------------------------------------------------------------------------------


def test_settings_pairs_not_adding_up_are_refused_and_nothing_saved(manager, org):
    config = services.settings_for(org["bj"])
    with pytest.raises(ValidationFailed) as exc:
        services.settings_update(
            actor=manager,
            branch_id=org["bj"].pk,
            values={
                "case2_receiver_pct": "70",
                "case2_previous_pct": "20",
                "protection_days": "30",
            },
        )
    assert (exc.value.code, exc.value.field) == ("split_sum", "case2_receiver_pct")
    config.refresh_from_db()
    assert (config.case2_receiver_pct, config.case2_previous_pct, config.protection_days) == (
        Decimal(80),
        Decimal(20),
        60,
    )
    assert not AuditEntry.objects.filter(verb="reception.settings").exists()


def test_settings_out_of_range_or_not_a_number(manager, org):
    with pytest.raises(ValidationFailed) as exc:
        services.settings_update(
            actor=manager,
            branch_id=org["bj"].pk,
            values={"case3_owner_pct": "110", "case3_assistant_pct": "-10"},
        )
    assert exc.value.field in ("case3_owner_pct", "case3_assistant_pct")
    with pytest.raises(ValidationFailed) as exc:
        services.settings_update(
            actor=manager, branch_id=org["bj"].pk, values={"protection_days": "two months"}
        )
    assert exc.value.code == "invalid"
    assert services.settings_for(org["bj"]).protection_days == 60


def test_configured_split_is_used_at_the_desk(desk, trio, manager, org, bs_customer):
    a, b, _c = trio
    services.settings_update(
        actor=manager,
        branch_id=org["bj"].pk,
        values={"case2_receiver_pct": "70", "case2_previous_pct": "30"},
    )
    visit = desk.walk_in("13911110000", prefers=a.pk, refuses=b.pk)
    decision = CreditDecision.objects.get(visit=visit)
    assert {s.salesperson_id: s.percent for s in decision.shares.all()} == {
        a.pk: Decimal(70),
        b.pk: Decimal(30),
    }
    assert AuditEntry.objects.filter(verb="reception.settings").count() == 1


def test_only_a_manager_changes_settings(receptionist, owner, org):
    for actor in (receptionist, owner):
        with pytest.raises(NotFound):
            services.settings_update(
                actor=actor, branch_id=org["bj"].pk, values={"protection_days": "90"}
            )
