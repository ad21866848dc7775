"""Case 3 (SPEC C3, issue 11 item 5): the customer names B, B is absent; a colleague the
receptionist picks assists (seeds 篇五: 由前台指定同事协助). The credit stays with B
(B 80 % / assistant 20 %), and assisting is not the assistant's rotation turn: whose turn
it is does not move. The choice is audited; a choice that makes no sense is refused with the
field, leaving nothing half-registered."""

from decimal import Decimal

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.core.models import AuditEntry
from guanxi.reception.models import CreditDecision, DutySlot, Visit

from .helpers import new_phone

OUT = DutySlot.State.OUT
PHONE = "13911110000"


@pytest.fixture
def bs_customer(desk, trio):
    """A customer first received by B: A takes the first turn, B the second; C is next."""
    desk.walk_in()
    visit = desk.walk_in(PHONE, "钱先生")
    assert visit.receiver_id == trio[1].pk
    return visit


@pytest.fixture
def b_out(desk, trio, bs_customer):
    desk.set_state(trio[1], OUT)
    return trio


def shares_of(visit: Visit) -> dict:
    decision = CreditDecision.objects.get(visit=visit, is_current=True)
    return {s.salesperson_id: s.percent for s in decision.shares.all()}


def test_case_3_the_receptionist_picks_who_assists(desk, b_out):
    a, b, c = b_out
    assert desk.next_up() == c.pk  # the queue would have given C
    visit = desk.walk_in(PHONE, named=(b.pk,), assistant=a.pk)
    assert (visit.case_number, visit.receiver_id, visit.assistant_id) == (3, a.pk, a.pk)
    assert CreditDecision.objects.get(visit=visit).credit_user_id == b.pk
    assert shares_of(visit) == {b.pk: Decimal(80), a.pk: Decimal(20)}


def test_case_3_the_chosen_assistants_turn_is_not_consumed(desk, b_out):
    a, b, c = b_out
    taken = {pk: s.turns_taken for pk, s in desk.slots().items()}
    desk.walk_in(PHONE, named=(b.pk,), assistant=a.pk)
    assert {pk: s.turns_taken for pk, s in desk.slots().items()} == taken
    assert not desk.walk_in(PHONE, named=(b.pk,), assistant=a.pk).via_rotation
    # Whose turn it is did not move: C, then A, as before anyone assisted.
    assert [desk.walk_in().receiver_id, desk.walk_in().receiver_id] == [c.pk, a.pk]


def test_case_3_the_choice_of_assistant_is_audited(desk, b_out):
    a, b, _c = b_out
    visit = desk.walk_in(PHONE, named=(b.pk,), assistant=a.pk)
    entry = AuditEntry.objects.filter(verb="visit.receive", target_id=visit.customer_id).latest(
        "id"
    )
    assert entry.changes["assistant"] == [None, a.pk]
    assert entry.changes["assistant_chosen_by_desk"] == [None, True]
    assert entry.actor_id == desk.actor.pk


def test_without_a_choice_the_first_available_assists(desk, b_out):
    _a, b, c = b_out
    visit = desk.walk_in(PHONE, named=(b.pk,))
    assert visit.assistant_id == c.pk
    entry = AuditEntry.objects.filter(verb="visit.receive", target_id=visit.customer_id).latest(
        "id"
    )
    assert entry.changes["assistant_chosen_by_desk"] == [None, False]


def test_no_assistant_when_the_customers_salesperson_is_present(desk, trio, bs_customer):
    a, b, _c = trio
    with pytest.raises(ValidationFailed) as caught:
        desk.walk_in(PHONE, named=(b.pk,), assistant=a.pk)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (
        "assistant",
        "no_assistant_needed",
    )


def test_no_assistant_for_a_new_visitor(desk, trio):
    with pytest.raises(ValidationFailed) as caught:
        desk.walk_in(new_phone(), assistant=trio[2].pk)
    assert caught.value.errors[0].field == "assistant"


def test_an_assistant_who_is_out_is_refused(desk, b_out):
    a, b, _c = b_out
    desk.set_state(a, OUT)
    with pytest.raises(ValidationFailed) as caught:
        desk.walk_in(PHONE, named=(b.pk,), assistant=a.pk)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (
        "assistant",
        "not_on_duty",
    )


def test_a_salesperson_at_the_desk_cannot_pick_themselves_to_assist(b_out, roster):
    from guanxi.reception import services

    a, b, _c = b_out
    registration = services.Registration(phone=PHONE, named=(b.pk,), assistant=a.pk)
    with pytest.raises(ValidationFailed) as caught:
        services.visit_register_and_receive(actor=a, registration=registration)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (
        "assistant",
        "self_named",
    )


def test_the_api_takes_the_assistant_and_refuses_a_senseless_one_with_the_field(
    client, desk, trio, bs_customer
):
    a, b, _c = trio
    client.force_login(desk.actor)
    visits = Visit.objects.count()
    refused = client.post(
        "/api/v1/reception/visits",
        {"phone": PHONE, "named": [b.pk], "assistant": a.pk},
        content_type="application/json",
    )
    assert refused.status_code == 422, refused.content
    assert (refused.json()["field"], refused.json()["code"]) == ("assistant", "no_assistant_needed")
    assert Visit.objects.count() == visits  # nothing half-registered
    desk.set_state(b, OUT)
    taken = client.post(
        "/api/v1/reception/visits",
        {"phone": PHONE, "named": [b.pk], "assistant": a.pk},
        content_type="application/json",
    )
    assert taken.status_code == 201, taken.content
    assert (taken.json()["assistant_id"], taken.json()["credit_user_id"]) == (a.pk, b.pk)


def test_the_desk_form_offers_the_assistant_and_keeps_the_choice_after_an_error(
    client, desk, trio, bs_customer
):
    a, b, _c = trio
    client.force_login(desk.actor)
    form = {"phone": PHONE, "named": [str(b.pk)], "assistant": str(a.pk)}
    html = client.post("/reception/", form).content.decode()
    assert 'data-field="assistant"' in html  # B is present: nobody needs to assist
    assert f'<option value="{a.pk}" selected>' in html.split('id="assistant"')[1]
    assert f'<option value="{b.pk}" selected>' in html.split('id="named"')[1]
    desk.set_state(b, OUT)
    html = client.post("/reception/", form, follow=True).content.decode()
    assert 'id="decision-receiver">' + str(a) in html
    assert "协助" in html or "assisted by" in html
