"""The desk as the tests drive it: register a visitor and have the rules receive them."""

from itertools import count

from guanxi.reception import services
from guanxi.reception.models import DutyRoster, DutySlot, Visit

_phones = count(1)


def new_phone() -> str:
    """A fresh valid mainland mobile number for every call."""
    return f"139{next(_phones):08d}"


class Desk:
    """A receptionist at the front desk."""

    def __init__(self, actor):
        self.actor = actor

    def register(self, phone: str | None = None, name: str = "访客", **fields) -> Visit:
        registration = services.Registration(phone=phone or new_phone(), name=name, **fields)
        return services.visit_register(actor=self.actor, registration=registration)

    def receive(self, visit: Visit, **facts) -> Visit:
        return services.visit_receive(actor=self.actor, visit_id=visit.pk, **facts)

    def walk_in(self, phone: str | None = None, name: str = "访客", **facts) -> Visit:
        """A visitor registered and received at once, as the desk's one button does."""
        registration_fields = {
            k: facts.pop(k)
            for k in (
                "kind",
                "source",
                "intention",
                "notes",
                "referred_by_phone",
                "household_phone",
                "party_size",
            )
            if k in facts
        }
        return self.receive(self.register(phone, name, **registration_fields), **facts)

    def set_state(self, user, state: str) -> DutySlot:
        slot = DutySlot.objects.get(roster=self.roster(), salesperson=user)
        return services.slot_set_state(actor=self.actor, slot_id=slot.pk, state=state)

    def roster(self) -> DutyRoster:
        from django.utils import timezone

        return DutyRoster.objects.get(
            branch=self.actor.org_unit.branch(), date=timezone.localdate()
        )

    def slots(self) -> dict[int, DutySlot]:
        return {s.salesperson_id: s for s in self.roster().slots.all()}

    def next_up(self):
        from guanxi.reception.selectors import desk_state

        state = desk_state(self.actor.org_unit.branch())
        return state.next_up.salesperson_id if state.next_up else None
