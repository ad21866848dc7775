"""The rotation (轮流接待): strict order, skips and make-up turns, returning customers and
assisting never take a turn, off people are not owed."""

import pytest

from guanxi.core.errors import Conflict
from guanxi.core.models import AuditEntry
from guanxi.reception import services
from guanxi.reception.models import DutySlot, TurnSkip, Visit

OUT, BUSY, OFF, ON = (
    DutySlot.State.OUT,
    DutySlot.State.BUSY,
    DutySlot.State.OFF,
    DutySlot.State.ON_DUTY,
)


def receivers(visits) -> list[int]:
    return [v.receiver_id for v in visits]


def test_new_visitors_go_in_strict_order(desk, trio):
    a, b, c = trio
    assert desk.next_up() == a.pk
    visits = [desk.walk_in() for _ in range(6)]
    assert receivers(visits) == [a.pk, b.pk, c.pk, a.pk, b.pk, c.pk]
    assert all(v.via_rotation and v.case_number is None for v in visits)
    assert {pk: s.turns_taken for pk, s in desk.slots().items()} == {a.pk: 2, b.pk: 2, c.pk: 2}
    assert desk.roster().next_position == 0
    assert not TurnSkip.objects.exists()


def test_the_one_in_turn_out_is_skipped_then_makes_up_on_return(desk, trio):
    a, b, c = trio
    desk.set_state(a, OUT)
    first = desk.walk_in()
    assert first.receiver_id == b.pk
    skip = TurnSkip.objects.get()
    assert (skip.slot.salesperson_id, skip.reason, skip.visit_id) == (a.pk, OUT, first.pk)
    assert desk.slots()[a.pk].owed_turns == 1

    desk.set_state(a, ON)
    assert desk.next_up() == a.pk  # the make-up turn comes first
    make_up = desk.walk_in()
    assert make_up.receiver_id == a.pk
    assert desk.slots()[a.pk].owed_turns == 0
    # ...then the order resumes where it was: C, then A, B.
    assert receivers(desk.walk_in() for _ in range(3)) == [c.pk, a.pk, b.pk]
    assert {pk: s.turns_taken for pk, s in desk.slots().items()} == {a.pk: 2, b.pk: 2, c.pk: 1}


def test_missed_two_turns_gives_two_make_ups(desk, trio):
    a, b, c = trio
    desk.set_state(a, BUSY)
    assert receivers(desk.walk_in() for _ in range(3)) == [b.pk, c.pk, b.pk]
    assert desk.slots()[a.pk].owed_turns == 2
    assert list(TurnSkip.objects.values_list("reason", flat=True)) == [BUSY, BUSY]

    desk.set_state(a, ON)
    assert receivers(desk.walk_in() for _ in range(4)) == [a.pk, a.pk, c.pk, a.pk]
    slots = desk.slots()
    assert slots[a.pk].owed_turns == 0
    assert {pk: s.turns_taken for pk, s in slots.items()} == {a.pk: 3, b.pk: 2, c.pk: 2}


def test_off_people_are_passed_over_but_not_owed(desk, trio):
    a, b, c = trio
    desk.set_state(c, OFF)
    assert receivers(desk.walk_in() for _ in range(3)) == [a.pk, b.pk, a.pk]
    assert desk.slots()[c.pk].owed_turns == 0
    assert not TurnSkip.objects.exists()
    desk.set_state(c, ON)
    assert desk.walk_in().receiver_id == b.pk  # no make-up for C; the order goes on


def test_make_up_waits_while_still_away(desk, trio):
    a, _b, c = trio
    desk.set_state(a, OUT)
    desk.walk_in()  # B; A owed 1
    desk.set_state(a, BUSY)
    assert desk.walk_in().receiver_id == c.pk
    assert desk.slots()[a.pk].owed_turns == 1  # not passed again: the pointer was past A
    desk.set_state(a, ON)
    assert desk.walk_in().receiver_id == a.pk


def test_returning_customer_with_owner_present_does_not_consume_a_turn(desk, trio):
    a, _b, c = trio
    first = desk.walk_in("13911110000", "老客户")  # A's turn
    desk.walk_in()  # B's turn; C is next
    roster_before = desk.roster().next_position
    again = desk.walk_in("13911110000")
    assert (again.receiver_id, again.case_number, again.via_rotation) == (a.pk, 1, False)
    assert not again.is_new_customer and again.visit_number == 2
    assert desk.roster().next_position == roster_before
    assert desk.slots()[a.pk].turns_taken == 1
    assert desk.walk_in().receiver_id == c.pk
    assert first.customer_id == again.customer_id


def test_returning_customer_owner_absent_c_assists_without_a_turn(desk, trio):
    a, _b, c = trio
    desk.walk_in("13911110000", "老客户")  # A
    desk.walk_in()  # B; C next
    desk.set_state(a, OUT)
    again = desk.walk_in("13911110000")
    assert (again.case_number, again.receiver_id, again.assistant_id) == (3, c.pk, c.pk)
    assert again.via_rotation is False
    slots = desk.slots()
    assert slots[c.pk].turns_taken == 0 and desk.roster().next_position == 2
    assert slots[a.pk].owed_turns == 0  # no turn was given, so none was missed
    assert desk.walk_in().receiver_id == c.pk  # C still has the next new visitor


def test_returning_customer_with_lapsed_claim_is_received_without_a_turn(desk, trio, clock):
    from datetime import timedelta

    from django.utils import timezone

    a, b, c = trio
    first = desk.walk_in("13911110000", "老客户")  # A
    first.customer.refresh_from_db()
    clock.move_to(first.customer.protected_until + timedelta(days=1), tick=False)
    services.roster_set(actor=desk.actor, salesperson_ids=[b.pk, c.pk, a.pk])
    assert desk.roster().date == timezone.localdate()
    again = desk.walk_in("13911110000")
    assert (again.case_number, again.receiver_id, again.via_rotation) == (None, b.pk, False)
    assert desk.slots()[b.pk].turns_taken == 0 and desk.roster().next_position == 0
    again.customer.refresh_from_db()
    assert again.customer.owner_id == b.pk  # the credit holder follows up (case 9)


def test_nobody_at_the_desk_is_a_conflict_and_leaves_nothing(desk, trio):
    for user in trio:
        desk.set_state(user, OUT)
    with pytest.raises(Conflict) as exc:
        services.visit_register_and_receive(
            actor=desk.actor, registration=services.Registration(phone="13911112222", name="x")
        )
    assert exc.value.code == "nobody_available"
    assert not Visit.objects.exists() and not TurnSkip.objects.exists()
    assert all(s.owed_turns == 0 for s in desk.slots().values())


def test_who_is_next_shows_the_one_in_turn_and_the_one_waiting_after(desk, trio):
    from guanxi.reception.selectors import desk_state

    a, b, c = trio
    state = desk_state(desk.roster().branch)
    assert (state.next_up.salesperson_id, state.after.salesperson_id) == (a.pk, b.pk)
    desk.set_state(b, OUT)
    state = desk_state(desk.roster().branch)
    assert (state.next_up.salesperson_id, state.after.salesperson_id) == (a.pk, c.pk)


def test_removing_someone_who_is_out_turns_them_off_and_they_are_not_owed(desk, trio):
    a, b, c = trio
    desk.set_state(b, OUT)
    services.roster_set(actor=desk.actor, salesperson_ids=[a.pk, c.pk])
    assert desk.slots()[b.pk].state == OFF
    assert receivers(desk.walk_in() for _ in range(3)) == [a.pk, c.pk, a.pk]
    assert desk.slots()[b.pk].owed_turns == 0


def test_putting_someone_back_on_the_roster_puts_them_on_duty(desk, trio):
    a, b, c = trio
    services.roster_set(actor=desk.actor, salesperson_ids=[a.pk, c.pk])
    services.roster_set(actor=desk.actor, salesperson_ids=[a.pk, b.pk, c.pk])
    slots = desk.slots()
    assert slots[b.pk].state == ON and slots[b.pk].position == 1
    assert receivers(desk.walk_in() for _ in range(3)) == [a.pk, b.pk, c.pk]


def test_roster_keeps_make_up_turns_when_reordered(desk, trio):
    a, b, c = trio
    desk.set_state(a, OUT)
    desk.walk_in()
    services.roster_set(actor=desk.actor, salesperson_ids=[c.pk, b.pk, a.pk])
    assert desk.slots()[a.pk].owed_turns == 1


def test_a_salesperson_sets_own_state_not_a_colleagues(desk, trio):
    from guanxi.core.errors import Forbidden

    a, b, _ = trio
    slots = desk.slots()
    services.slot_set_state(actor=a, slot_id=slots[a.pk].pk, state=OUT)
    with pytest.raises(Forbidden):
        services.slot_set_state(actor=a, slot_id=slots[b.pk].pk, state=OUT)


def test_returning_customer_owner_absent_and_claim_lapsed_takes_no_turn(desk, trio, clock):
    from datetime import timedelta

    a, b, c = trio
    first = desk.walk_in("13911110000", "老客户")  # A
    first.customer.refresh_from_db()
    clock.move_to(first.customer.protected_until + timedelta(days=1), tick=False)
    services.roster_set(actor=desk.actor, salesperson_ids=[a.pk, b.pk, c.pk])
    desk.set_state(a, OUT)
    again = desk.walk_in("13911110000")
    assert (again.case_number, again.receiver_id, again.via_rotation) == (None, b.pk, False)
    slots = desk.slots()
    assert [slots[u.pk].turns_taken for u in trio] == [0, 0, 0]
    assert slots[a.pk].owed_turns == 0 and not TurnSkip.objects.exists()
    assert desk.roster().next_position == 0


# ---- issue 11 item 5: make-up turns for 1, 2 and 3 missed turns; editing the queue mid-day


@pytest.mark.parametrize("missed", [1, 2, 3])
def test_n_missed_turns_are_owed_n_make_ups_served_before_the_order_resumes(desk, trio, missed):
    a, b, c = trio
    desk.set_state(a, OUT)
    # Each round of two visitors (B, C) passes A's place in the queue once.
    while desk.slots()[a.pk].owed_turns < missed:
        desk.walk_in()
    assert TurnSkip.objects.filter(slot__salesperson=a).count() == missed
    desk.set_state(a, ON)
    served = receivers(desk.walk_in() for _ in range(missed))
    assert served == [a.pk] * missed
    assert desk.slots()[a.pk].owed_turns == 0
    # Then the normal order resumes at the pointer, with nobody skipped twice.
    following = receivers(desk.walk_in() for _ in range(3))
    assert sorted(following) == sorted([a.pk, b.pk, c.pk])


def test_editing_the_queue_mid_day_keeps_whose_turn_it_is(desk, trio, fourth):
    a, b, c = trio
    assert receivers([desk.walk_in()]) == [a.pk]  # B is next
    services.roster_set(actor=desk.actor, salesperson_ids=[c.pk, fourth.pk, a.pk, b.pk])
    assert desk.next_up() == b.pk
    assert receivers(desk.walk_in() for _ in range(4)) == [b.pk, c.pk, fourth.pk, a.pk]
    entry = AuditEntry.objects.filter(verb="roster.set").latest("id")
    assert entry.changes["next"] == [b.pk, b.pk]


def test_removing_the_one_in_turn_passes_it_to_the_next_who_stays(desk, trio):
    a, _b, c = trio
    desk.walk_in()  # A; B is next
    services.roster_set(actor=desk.actor, salesperson_ids=[a.pk, c.pk])
    assert desk.next_up() == c.pk
