"""The rotation queue (轮流接待): whose turn it is, skips and make-up turns.

Callers hold the roster row lock (select_for_update) for the whole decision, so two desks
pressing "next" at the same moment are served one after the other, never the same turn.
"""

from .models import DutyRoster, DutySlot, TurnSkip

AWAY = (DutySlot.State.OUT, DutySlot.State.BUSY)


def _from_pointer(slots: list[DutySlot], pointer: int) -> list[DutySlot]:
    """Slots in queue order starting at the pointer, wrapping round."""
    after = [s for s in slots if s.position >= pointer]
    before = [s for s in slots if s.position < pointer]
    return after + before


def _after(slots: list[DutySlot], slot: DutySlot) -> int:
    """The pointer after `slot`: the next position, wrapping to 0 past the last one."""
    return slot.position + 1 if any(s.position > slot.position for s in slots) else 0


def peek(roster: DutyRoster, slots: list[DutySlot], *, exclude=frozenset(), count: int = 2):
    """Who receives the next new visitors, without changing anything (the "who is next" screen).

    Make-up turns come first, then the queue order; people away or off are passed over.
    """
    owed = {s.pk: s.owed_turns for s in slots}
    pointer = roster.next_position
    chosen: list[DutySlot] = []
    for _ in range(count):
        pick = None
        for slot in _from_pointer(slots, pointer):
            if slot.is_available and owed[slot.pk] > 0 and slot.salesperson_id not in exclude:
                owed[slot.pk] -= 1
                pick = slot
                break
        if pick is None:
            for slot in _from_pointer(slots, pointer):
                if slot.is_available and slot.salesperson_id not in exclude:
                    pick = slot
                    pointer = _after(slots, slot)
                    break
        if pick is None:
            break
        chosen.append(pick)
    return chosen


def take_turn(roster: DutyRoster, slots: list[DutySlot], *, visit=None, exclude=frozenset()):
    """Give the next new visitor to whoever's turn it is, and record it.

    Whoever was passed over because they were out or busy owes nothing: they are owed one
    make-up turn each (空几轮补接几名), recorded as a TurnSkip. Returns the slot, or None when
    nobody is available.
    """
    for slot in _from_pointer(slots, roster.next_position):
        if slot.is_available and slot.owed_turns > 0 and slot.salesperson_id not in exclude:
            slot.owed_turns -= 1
            slot.turns_taken += 1
            slot.save(update_fields=["owed_turns", "turns_taken"])
            return slot
    passed: list[DutySlot] = []
    for slot in _from_pointer(slots, roster.next_position):
        if slot.salesperson_id in exclude:
            continue
        if slot.is_available:
            for away in passed:
                away.owed_turns += 1
                away.save(update_fields=["owed_turns"])
                TurnSkip.objects.create(slot=away, visit=visit, reason=away.state)
            slot.turns_taken += 1
            slot.save(update_fields=["turns_taken"])
            roster.next_position = _after(slots, slot)
            roster.save(update_fields=["next_position"])
            return slot
        if slot.state in AWAY:
            passed.append(slot)
    return None


def next_available(roster: DutyRoster, slots: list[DutySlot], *, exclude=frozenset()):
    """Who receives a visitor that does not consume a turn (returning customer, assisting)."""
    picks = peek(roster, slots, exclude=exclude, count=1)
    return picks[0] if picks else None
