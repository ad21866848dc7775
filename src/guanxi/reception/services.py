"""Reception desk services: rosters, registering and receiving visitors, credit decisions,
disputes, redistribution and the public pool. Each in one transaction, audited."""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
    full_clean_or_fail,
)
from guanxi.core.models import AuditEntry, OrgUnit, Role, User
from guanxi.customers.hooks import run_owner_change_hooks
from guanxi.customers.keys import InvalidPhone, normalize_phone
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.customers.services import customer_create

from . import rotation
from .models import (
    CommissionShare,
    CreditDecision,
    Dispute,
    DutyRoster,
    DutySlot,
    PoolClaim,
    ReceptionSettings,
    Visit,
)
from .rules import DEPARTMENT, HUNDRED, Decision, Splits, VisitFacts, decide


def settings_for(branch: OrgUnit) -> ReceptionSettings:
    return ReceptionSettings.objects.get_or_create(branch=branch)[0]


def splits_for(config: ReceptionSettings) -> Splits:
    return Splits(
        config.case2_receiver_pct,
        config.case2_previous_pct,
        config.case3_owner_pct,
        config.case3_assistant_pct,
        config.case7_receiver_pct,
        config.case7_previous_pct,
        config.case8_designated_pct,
        config.case8_earlier_pct,
    )


def _desk_branch(actor: User, branch_id: int | None = None) -> OrgUnit:
    """The sales office the actor works at the desk of (their branch, or one they manage)."""
    if not (actor.is_admin or actor.has_role(Role.RECEPTIONIST, Role.MANAGER, Role.SALES)):
        raise Forbidden(_("Only the front desk, salespeople and managers use the rotation."))
    if branch_id is None:
        if actor.org_unit is None:
            raise ValidationFailed.single("branch", "no_branch", _("You belong to no branch."))
        return actor.org_unit.branch()
    branch = OrgUnit.objects.filter(pk=branch_id).first()
    allowed = (
        actor.is_admin or branch_id in actor.managed_unit_ids or branch_id in actor.branch_unit_ids
    )
    if branch is None or not allowed:
        raise NotFound(_("Branch not found."))
    return branch


def _can_manage_desk(actor: User, branch: OrgUnit) -> bool:
    return (
        actor.is_admin
        or branch.pk in actor.managed_unit_ids
        or (actor.has_role(Role.RECEPTIONIST) and branch.pk in actor.branch_unit_ids)
    )


# ---- rosters -------------------------------------------------------------------------------


def roster_set(
    *,
    actor: User,
    salesperson_ids: list[int],
    day: date | None = None,
    branch_id: int | None = None,
) -> DutyRoster:
    """Set the day's queue order. Existing slots keep their state and make-up turns."""
    branch = _desk_branch(actor, branch_id)
    if not _can_manage_desk(actor, branch):
        raise Forbidden(_("Only the front desk or a manager sets the duty roster."))
    day = day or timezone.localdate()
    if len(set(salesperson_ids)) != len(salesperson_ids):
        raise ValidationFailed.single("salespeople", "duplicate", _("Someone is listed twice."))
    people = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=salesperson_ids,
            is_active=True,
            roles__role=Role.SALES,
            org_unit_id__in=branch.subtree_ids(),
        ).distinct()
    }
    missing = [pk for pk in salesperson_ids if pk not in people]
    if missing:
        raise ValidationFailed.single(
            "salespeople",
            "not_in_branch",
            _("User #%s is not an active salesperson of this branch.") % missing[0],
        )
    with transaction.atomic():
        roster, _created = DutyRoster.objects.select_for_update().get_or_create(
            branch=branch, date=day
        )
        existing = {s.salesperson_id: s for s in roster.slots.select_for_update(of=("self",))}
        # Park every position out of the way first: positions are unique per roster.
        offset = 1000
        for slot in existing.values():
            slot.position += offset
            slot.save(update_fields=["position"])
        # Whoever leaves the queue is off, even if they were out or busy: off people are
        # neither passed over nor owed make-up turns.
        roster.slots.exclude(salesperson_id__in=salesperson_ids).update(state=DutySlot.State.OFF)
        for position, pk in enumerate(salesperson_ids):
            slot = existing.get(pk) or DutySlot(roster=roster, salesperson=people[pk])
            slot.position = position
            if slot.state == DutySlot.State.OFF:  # put back on the queue: on duty again
                slot.state = DutySlot.State.ON_DUTY
            slot.save()
        for index, slot in enumerate(roster.slots.exclude(salesperson_id__in=salesperson_ids)):
            slot.position = len(salesperson_ids) + index
            slot.save(update_fields=["position"])
        if roster.next_position >= len(salesperson_ids):
            roster.next_position = 0
            roster.save(update_fields=["next_position"])
        audit_record(
            actor=actor,
            verb="roster.set",
            target=roster,
            changes={"order": [None, salesperson_ids]},
        )
    return roster


def slot_set_state(*, actor: User, slot_id: int, state: str) -> DutySlot:
    """On duty, out on business, busy or off. Salespeople set their own; the desk anyone's."""
    if state not in DutySlot.State.values:
        raise ValidationFailed.single("state", "invalid_choice", _("Unknown state."))
    with transaction.atomic():
        slot = (
            DutySlot.objects.select_for_update(of=("self",))
            .select_related("roster__branch")
            .filter(pk=slot_id)
            .first()
        )
        if slot is None:
            raise NotFound(_("Duty slot not found."))
        if slot.salesperson_id != actor.pk and not _can_manage_desk(actor, slot.roster.branch):
            raise Forbidden(_("You may only change your own state."))
        before = slot.state
        slot.state = state
        slot.save(update_fields=["state"])
        audit_record(
            actor=actor,
            verb="roster.state",
            target=slot.roster,
            changes={str(slot.salesperson): [before, state]},
        )
    return slot


def roster_event_mode(*, actor: User, roster_id: int, on: bool) -> DutyRoster:
    with transaction.atomic():
        roster = (
            DutyRoster.objects.select_for_update(of=("self",))
            .select_related("branch")
            .get(pk=roster_id)
        )
        if not (actor.is_admin or roster.branch_id in actor.managed_unit_ids):
            raise Forbidden(_("Only a manager switches to launch-event assignment."))
        roster.event_mode = on
        roster.save(update_fields=["event_mode"])
        audit_record(
            actor=actor,
            verb="roster.event_mode",
            target=roster,
            changes={"event_mode": [not on, on]},
        )
    return roster


def today_roster(branch: OrgUnit, *, for_update: bool = False) -> DutyRoster | None:
    qs = DutyRoster.objects.filter(branch=branch, date=timezone.localdate())
    return (qs.select_for_update() if for_update else qs).first()


# ---- registering and receiving -------------------------------------------------------------


@dataclass
class Registration:
    """What the receptionist types: phone first, then the rest."""

    phone: str
    name: str = ""
    kind: str = Visit.Kind.VISIT
    source: str = ""
    intention: str = ""
    party_size: int = 1
    notes: str = ""
    named: tuple[int, ...] = ()
    prefers: int | None = None
    refuses: int | None = None
    complaint: bool = False
    discount_seeking: bool = False
    forgot_receiver: bool = False
    referred_by_phone: str = ""
    household_phone: str = ""
    event_assignee: int | None = None


def visit_register_and_receive(
    *, actor: User, registration: Registration, branch_id: int | None = None
) -> Visit:
    """The desk's one button: register the visitor and receive them under the rules, in one
    transaction, so a refused decision (the asked-for salesperson is not on duty, nobody is
    at the desk) leaves no half-registered visitor or new customer behind."""
    with transaction.atomic():
        visit = visit_register(actor=actor, registration=registration, branch_id=branch_id)
        return visit_receive(
            actor=actor,
            visit_id=visit.pk,
            named=tuple(registration.named),
            prefers=registration.prefers,
            refuses=registration.refuses,
            complaint=registration.complaint,
            discount_seeking=registration.discount_seeking,
            forgot_receiver=registration.forgot_receiver,
            event_assignee=registration.event_assignee,
        )


def _validate_registration(reg: Registration) -> list[FieldError]:
    errors = []
    if reg.kind not in Visit.Kind.values:
        errors.append(FieldError("kind", "invalid_choice", _("Visit or call?")))
    if reg.intention and reg.intention not in Visit.Intention.values:
        errors.append(FieldError("intention", "invalid_choice", _("Intention is A, B or C.")))
    if not 1 <= reg.party_size <= 50:
        errors.append(FieldError("party_size", "out_of_range", _("Between 1 and 50 people.")))
    if len(reg.notes) > 500:
        errors.append(FieldError("notes", "max_length", _("At most 500 characters.")))
    if reg.source and reg.source not in Customer.Source.values:
        errors.append(FieldError("source", "invalid_choice", _("Unknown source.")))
    return errors


def _find_by_phone(raw: str, field: str) -> Customer | None:
    try:
        phone = normalize_phone(raw)
    except InvalidPhone as exc:
        raise ValidationFailed.single(
            field, "invalid_phone", _("Not a valid phone number.")
        ) from exc
    match = CustomerPhone.objects.select_related("customer").filter(number=phone.e164).first()
    customer = match.customer if match else None
    while customer is not None and customer.merged_into_id:
        customer = customer.merged_into
    return customer


def visit_register(
    *, actor: User, registration: Registration, branch_id: int | None = None
) -> Visit:
    """来人/来电登记: find the customer by phone, or create them; the visit waits to be received."""
    branch = _desk_branch(actor, branch_id)
    errors = _validate_registration(registration)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        customer = _find_by_phone(registration.phone, "phone")
        is_new = customer is None
        if is_new:
            if not registration.name.strip():
                raise ValidationFailed.single("name", "required", _("A new visitor needs a name."))
            referrer = (
                _find_by_phone(registration.referred_by_phone, "referred_by_phone")
                if registration.referred_by_phone
                else None
            )
            data = {
                "name": registration.name,
                "source": registration.source
                or (
                    Customer.Source.REFERRAL
                    if referrer
                    else Customer.Source.PHONE
                    if registration.kind == Visit.Kind.CALL
                    else Customer.Source.WALK_IN
                ),
            }
            if referrer:
                data["referred_by_id"] = referrer.pk
            # Owned by nobody until received; the desk's unit holds the record meanwhile.
            customer = customer_create(
                actor=actor,
                data=data,
                phones=[registration.phone],
                allow_similar=True,
            )
            if customer.owner_id is not None or customer.org_unit_id != branch.pk:
                # The protection the creating salesperson's record got starts at reception.
                Customer.objects.filter(pk=customer.pk).update(
                    owner=None, org_unit=branch, protected_until=None
                )
                customer.refresh_from_db()
            if registration.household_phone:
                member = _find_by_phone(registration.household_phone, "household_phone")
                if member:
                    _link_household(customer, member)
        elif customer.archived_at:
            raise Conflict(
                _("This phone belongs to an archived customer; restore it first."),
                code="archived",
                field="phone",
            )
        earlier = 0 if is_new else Visit.objects.filter(customer=customer).count()
        visit = Visit.objects.create(
            branch=branch,
            roster=today_roster(branch),
            customer=customer,
            kind=registration.kind,
            registered_by=actor,
            source=registration.source,
            intention=registration.intention,
            party_size=registration.party_size,
            notes=registration.notes.strip(),
            is_new_customer=is_new,
            visit_number=earlier + 1,
        )
        audit_record(
            actor=actor,
            verb="visit.register",
            target=customer,
            changes={"visit": [None, visit.pk], "kind": [None, visit.kind]},
        )
    return visit


def _link_household(customer: Customer, member: Customer) -> None:
    from guanxi.customers.models import Household

    household = member.household or Household.objects.create(name=f"{member.name}家")
    if member.household_id is None:
        Customer.objects.filter(pk=member.pk).update(household=household)
    Customer.objects.filter(pk=customer.pk).update(household=household)
    customer.household = household


def _claim_valid(customer: Customer, now, protection_days: int) -> bool:
    """Whether the owner's claim stands at `now` (valid while now <= protected_until).

    A record created outside the desk (a salesperson typing in a phone enquiry) has no
    protection end yet: its registration, created_at, starts the period (首访原则).
    """
    if customer.protected_until is None and customer.ownership_settled_at is None:
        return _protection_end(customer.created_at, protection_days) >= now
    return customer.claim_is_valid(now)


def _claim_of(customer: Customer, now, protection_days: int) -> tuple[int | None, bool, str]:
    """Who holds a claim on this customer: own owner, else the household's or referrer's."""
    if customer.owner_id:
        return customer.owner_id, _claim_valid(customer, now, protection_days), ""
    if customer.household_id:
        first = (
            Visit.objects.filter(
                customer__household_id=customer.household_id, receiver__isnull=False
            )
            .exclude(customer=customer)
            .order_by("registered_at")
            .select_related("customer")
            .first()
        )
        if first:
            valid = _claim_valid(first.customer, now, protection_days)
            return first.receiver_id, valid, "household"
    if customer.referred_by_id:
        referrer = customer.referred_by
        first = (
            Visit.objects.filter(customer=referrer, receiver__isnull=False)
            .order_by("registered_at")
            .first()
        )
        original = first.receiver_id if first else referrer.owner_id
        if original:
            return original, True, "referral"
    return None, False, ""


def visit_receive(
    *,
    actor: User,
    visit_id: int,
    named: tuple[int, ...] = (),
    prefers: int | None = None,
    refuses: int | None = None,
    complaint: bool = False,
    discount_seeking: bool = False,
    forgot_receiver: bool = False,
    event_assignee: int | None = None,
) -> Visit:
    """Decide who receives this visitor under the office's rules, and record it all."""
    today = timezone.localdate()
    with transaction.atomic():
        visit = (
            Visit.objects.select_for_update(of=("self",))
            .select_related("customer", "branch")
            .filter(pk=visit_id)
            .first()
        )
        if visit is None or not (
            _can_manage_desk(actor, visit.branch)
            or (actor.has_role(Role.SALES) and visit.branch_id in actor.branch_unit_ids)
        ):
            raise NotFound(_("Visit not found."))
        if visit.state != Visit.State.WAITING:
            raise Conflict(_("This visitor has already been received."), code="already_received")
        roster = (
            DutyRoster.objects.select_for_update().filter(branch=visit.branch, date=today).first()
        )
        if roster is None:
            raise Conflict(_("No duty roster for today: set the queue first."), code="no_roster")
        slots = list(
            roster.slots.select_for_update(of=("self",))
            .select_related("salesperson")
            .order_by("position")
        )
        # The time of receiving is taken once the queue is ours: two desks pressing "next"
        # together are recorded in the order the turns were actually given.
        now = timezone.now()
        present = frozenset(s.salesperson_id for s in slots if s.is_available)
        on_roster = {s.salesperson_id for s in slots}
        for field_name, person in (("prefers", prefers), ("event_assignee", event_assignee)):
            if person is not None and person not in present:
                raise ValidationFailed.single(
                    field_name,
                    "not_on_duty",
                    _("That salesperson is not on duty at the desk now.")
                    if person in on_roster
                    else _("That salesperson is not on today's duty roster."),
                )
        customer = Customer.objects.select_for_update().get(pk=visit.customer_id)
        config = settings_for(visit.branch)
        previous, claim_valid, via = _claim_of(customer, now, config.protection_days)
        earlier = (
            tuple(
                Visit.objects.filter(customer=customer, receiver__isnull=False)
                .exclude(pk=visit.pk)
                .order_by("registered_at")
                .values_list("receiver_id", flat=True)
            )
            if visit.visit_number > 1
            else ()
        )
        facts = VisitFacts(
            present=present,
            previous_receiver=previous,
            claim_valid=claim_valid,
            claim_via=via,
            earlier_receivers=earlier,
            visit_number=visit.visit_number,
            named=tuple(named),
            prefers=prefers,
            refuses=refuses,
            complaint=complaint,
            discount_seeking=discount_seeking,
            forgot_receiver=forgot_receiver,
            event_mode=roster.event_mode,
            event_assignee=event_assignee,
        )
        decision = decide(facts, splits_for(config))
        rotation_user = None
        if decision.needs_rotation:
            # Never the credit holder or named receiver again, nor the one the customer refuses.
            exclude = {
                p for p in (decision.credit, decision.receiver, refuses) if isinstance(p, int)
            }
            if decision.counts_as_turn:
                slot = rotation.take_turn(roster, slots, visit=visit, exclude=frozenset(exclude))
            else:
                slot = rotation.next_available(roster, slots, exclude=frozenset(exclude))
            if slot is None:
                raise Conflict(_("Nobody is available at the desk."), code="nobody_available")
            rotation_user = slot.salesperson_id
        decision = decision.resolve(rotation_user)
        _record(
            actor=actor,
            visit=visit,
            customer=customer,
            decision=decision,
            config=config,
            now=now,
            via_rotation=rotation_user is not None and decision.counts_as_turn,
        )
    return visit


def _record(*, actor, visit, customer, decision: Decision, config, now, via_rotation) -> None:
    visit.receiver_id = decision.receiver if isinstance(decision.receiver, int) else None
    visit.assistant_id = decision.assistant if isinstance(decision.assistant, int) else None
    visit.via_rotation = via_rotation
    visit.case_number = decision.case
    visit.explanation = decision.explanation
    visit.received_at = now
    visit.state = Visit.State.DISPUTED if decision.dispute else Visit.State.RECEIVED
    visit.save()
    if decision.dispute:
        dispute = Dispute.objects.create(
            customer=customer,
            visit=visit,
            branch=visit.branch,
            opened_by=actor,
            description=decision.explanation,
        )
        parties = [p for p in (decision.receiver, customer.owner_id) if isinstance(p, int)]
        dispute.parties.set(parties)
    if decision.credit is not None:
        credit_record(
            customer=customer,
            visit=visit,
            decision=decision,
            actor=None,
            now=now,
            protection_days=config.protection_days,
        )
    elif visit.receiver_id and customer.owner_id is None:
        _take_ownership(customer, visit.receiver_id, now, config.protection_days)
    audit_record(
        actor=actor,
        verb="visit.receive",
        target=customer,
        changes={
            "visit": [None, visit.pk],
            "receiver": [None, visit.receiver_id],
            "case": [None, decision.case],
        },
        note=decision.explanation,
    )


def _protection_end(start, protection_days: int):
    """A claim taken at `start` holds up to this instant (建档有效期, C3; inclusive)."""
    return start + timedelta(days=protection_days)


def protect_new_customer(*, customer: Customer, created: bool, changed, now) -> list[str]:
    """Customer hook (customers/hooks.py): the first registration owns the customer (首访原则).

    A record created with an owner outside the desk (the web form, the API) is that owner's
    first registration: it is protected from its creation for the protection period of the
    owner's branch, as a reception at the desk is (`_take_ownership`). A record created
    without an owner (the desk's, until received) gets its period when someone takes it.
    """
    if not created or customer.owner_id is None or customer.protected_until is not None:
        return []
    config = settings_for(customer.org_unit.branch())
    customer.protected_until = _protection_end(now, config.protection_days)
    return ["protected_until"]


def _take_ownership(customer: Customer, user_id: int, now, protection_days: int) -> None:
    """`user_id` owns the (locked) customer from `now`: a new protection period and, for a
    new owner, the follow-up on the cadence counted from now (C2, through the customers
    app's owner-change hooks: an earlier follow-up still ahead is kept)."""
    user = User.objects.select_related("org_unit").get(pk=user_id)
    before = customer.owner_id
    customer.owner = user
    customer.org_unit = user.org_unit or customer.org_unit
    customer.protected_until = _protection_end(now, protection_days)
    customer.in_pool_since = None
    fields = ["owner", "org_unit", "protected_until", "in_pool_since"]
    if user.pk != before:
        hooked = run_owner_change_hooks(customer=customer, now=now)
        fields += [name for name in hooked if name not in fields]
    customer.save(update_fields=fields)


def credit_record(
    *, customer, visit, decision: Decision, actor, now, protection_days
) -> CreditDecision:
    """Write the current credit decision and its commission lines; the holder follows up."""
    total = sum(decision.split.values(), Decimal("0"))
    if total != HUNDRED:
        raise ValidationFailed.single(
            "split", "split_sum", _("The commission split must add up to 100%.")
        )
    CreditDecision.objects.filter(customer=customer, is_current=True).update(is_current=False)
    department = customer.org_unit if decision.credit == DEPARTMENT else None
    record = CreditDecision.objects.create(
        customer=customer,
        visit=visit,
        case_number=decision.case,
        explanation=decision.explanation,
        credit_user_id=decision.credit if isinstance(decision.credit, int) else None,
        credit_department=department,
        decided_by=actor,
    )
    CommissionShare.objects.bulk_create(
        CommissionShare(
            decision=record,
            percent=pct,
            salesperson_id=party if isinstance(party, int) else None,
            department=department if party == DEPARTMENT else None,
        )
        for party, pct in decision.split.items()
        if pct > 0
    )
    # Follow-up and after-sales belong to whoever holds the credit (case 9).
    if isinstance(decision.credit, int):
        if customer.owner_id != decision.credit or not _claim_valid(customer, now, protection_days):
            _take_ownership(customer, decision.credit, now, protection_days)
        elif customer.protected_until is None and customer.ownership_settled_at is None:
            # The owner's own record, entered before any desk visit: its period runs from
            # its creation, and is now written down.
            customer.protected_until = _protection_end(customer.created_at, protection_days)
            customer.save(update_fields=["protected_until"])
    return record


# ---- disputes ------------------------------------------------------------------------------


def dispute_open(
    *, actor: User, customer_id: int, description: str, party_ids: list[int] = ()
) -> Dispute:
    from guanxi.customers.selectors import customer_get

    if not description.strip():
        raise ValidationFailed.single("description", "required", _("Describe what happened."))
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        dispute = Dispute.objects.create(
            customer=customer,
            branch=customer.org_unit.branch(),
            opened_by=actor,
            description=description.strip()[:2000],
        )
        dispute.parties.set(User.objects.filter(pk__in=party_ids))
        audit_record(actor=actor, verb="dispute.open", target=customer, note=description[:500])
    return dispute


def _user_id(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.single(
            field, "invalid_user", _("Choose a salesperson or the department.")
        ) from exc


def parse_split(raw: dict) -> dict[int | str, Decimal]:
    split: dict[int | str, Decimal] = {}
    for party, pct in raw.items():
        try:
            value = Decimal(str(pct))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationFailed.single(
                "split", "invalid", _("Percentages are numbers.")
            ) from exc
        if value < 0 or value > HUNDRED:
            raise ValidationFailed.single("split", "out_of_range", _("Between 0 and 100%."))
        key = DEPARTMENT if party == DEPARTMENT else _user_id(party, "split")
        split[key] = split.get(key, Decimal("0")) + value
    return split


def dispute_decide(
    *,
    actor: User,
    dispute_id: int,
    credit: int | str,
    split: dict,
    reason: str,
    quarrel: bool = False,
) -> Dispute:
    """The manager's decision: who holds the credit and how the commission splits.

    A quarrel sends the credit to the department, whatever else was asked.
    """
    if not reason.strip():
        raise ValidationFailed.single(
            "reason", "required", _("Record the reason for the decision.")
        )
    if quarrel:
        credit, split = DEPARTMENT, {DEPARTMENT: HUNDRED}
    if credit != DEPARTMENT:
        credit = _user_id(credit, "credit")
    split = parse_split(split)
    if sum(split.values(), Decimal("0")) != HUNDRED:
        raise ValidationFailed.single(
            "split", "split_sum", _("The commission split must add up to 100%.")
        )
    with transaction.atomic():
        dispute = (
            Dispute.objects.select_for_update(of=("self",))
            .select_related("branch", "customer")
            .filter(pk=dispute_id)
            .first()
        )
        if dispute is None or not (actor.is_admin or dispute.branch_id in actor.managed_unit_ids):
            raise NotFound(_("Dispute not found."))
        if dispute.state == Dispute.State.DECIDED:
            raise Conflict(_("This dispute is already decided."), code="already_decided")
        # Credit and commission go to active salespeople of the dispute's sales office.
        people = {p for p in (credit, *split) if p != DEPARTMENT}
        known = set(
            User.objects.filter(
                pk__in=people,
                is_active=True,
                roles__role=Role.SALES,
                org_unit_id__in=dispute.branch.subtree_ids(),
            ).values_list("pk", flat=True)
        )
        if credit != DEPARTMENT and credit not in known:
            raise ValidationFailed.single(
                "credit", "invalid_user", _("Credit goes to an active salesperson.")
            )
        if people - known:
            raise ValidationFailed.single(
                "split",
                "invalid_user",
                _("Commission goes to active salespeople of this branch or the department."),
            )
        customer = Customer.objects.select_for_update().get(pk=dispute.customer_id)
        now = timezone.now()
        decision = Decision(
            case=None, receiver=None, credit=credit, split=split, explanation=reason.strip()
        )
        record = credit_record(
            customer=customer,
            visit=dispute.visit,
            decision=decision,
            actor=actor,
            now=now,
            protection_days=settings_for(dispute.branch).protection_days,
        )
        dispute.state, dispute.decided_by, dispute.decided_at = Dispute.State.DECIDED, actor, now
        dispute.reason, dispute.decision = reason.strip()[:2000], record
        dispute.save()
        if dispute.visit_id:
            Visit.objects.filter(pk=dispute.visit_id, state=Visit.State.DISPUTED).update(
                state=Visit.State.RECEIVED
            )
        audit_record(
            actor=actor,
            verb="dispute.decide",
            target=customer,
            changes={
                "credit": [None, str(credit)],
                "split": [None, {str(k): str(v) for k, v in split.items()}],
            },
            note=reason,
        )
    return dispute


# ---- redistribution ------------------------------------------------------------------------


def redistribute(
    *,
    actor: User,
    from_user_id: int,
    to_user_ids: list[int],
    method: str,
    reason: str,
    seed: int | None = None,
) -> dict[int, int]:
    """Case 12: a salesperson leaves or takes long leave; the manager spreads their customers
    evenly (round robin) or at random among chosen colleagues. History stays; each new owner
    is notified and finds the customers on the follow-up cadence counted from now (C2)."""
    from guanxi.notifications.models import Notification

    if method not in ("even", "random"):
        raise ValidationFailed.single("method", "invalid_choice", _("Even or random."))
    if not to_user_ids:
        raise ValidationFailed.single("to", "required", _("Choose who takes over."))
    if from_user_id in to_user_ids:
        raise ValidationFailed.single(
            "to", "same_user", _("Choose colleagues, not the same person.")
        )
    source = User.objects.filter(pk=from_user_id).first()
    if source is None or not (actor.is_admin or source.org_unit_id in actor.managed_unit_ids):
        raise NotFound(_("Salesperson not found."))
    targets = list(
        User.objects.filter(pk__in=to_user_ids, is_active=True, roles__role=Role.SALES)
        .distinct()
        .order_by("pk")
    )
    if len(targets) != len(set(to_user_ids)) or not all(
        actor.is_admin or t.org_unit_id in actor.managed_unit_ids for t in targets
    ):
        raise ValidationFailed.single(
            "to", "invalid_user", _("Every new owner must be an active salesperson you manage.")
        )
    now = timezone.now()
    counts = {t.pk: 0 for t in targets}
    with transaction.atomic():
        moved = list(
            Customer.objects.select_for_update()
            .filter(owner_id=from_user_id, archived_at__isnull=True)
            .order_by("pk")
        )
        rng = random.Random(seed)
        assignment: dict[int, list[int]] = {t.pk: [] for t in targets}
        # Each moved customer passes to its new owner as in a reassignment: the owner-change
        # hooks (customers/hooks.py) give the follow-up on the cadence counted from now, unless
        # an earlier one is still ahead (C2). The rows are loaded once and written back in
        # batches, in this transaction.
        fields = ["owner", "org_unit", "updated_at"]
        for index, customer in enumerate(moved):
            target = targets[index % len(targets)] if method == "even" else rng.choice(targets)
            assignment[target.pk].append(customer.pk)
            customer.owner = target
            customer.org_unit = target.org_unit
            customer.updated_at = now
            for name in run_owner_change_hooks(customer=customer, now=now):
                if name not in fields:
                    fields.append(name)
        Customer.objects.bulk_update(moved, fields, batch_size=500)
        audits = []
        for target in targets:
            chosen = assignment[target.pk]
            counts[target.pk] = len(chosen)
            audits.extend(
                AuditEntry(
                    actor=actor,
                    actor_unit_id=actor.org_unit_id,
                    verb="customer.reassign",
                    target_type="customers.customer",
                    target_id=cid,
                    target_label="",
                    changes={"owner_id": [from_user_id, target.pk]},
                    note=reason[:500],
                )
                for cid in chosen
            )
            if chosen:
                Notification.objects.get_or_create(
                    user=target,
                    key=f"redistribution:{from_user_id}:{now:%Y%m%d%H%M%S}",
                    defaults={
                        "title": _("%(n)d customers of %(who)s are now yours")
                        % {"n": len(chosen), "who": source},
                        "url": f"/customers/?owner={target.pk}",
                    },
                )
        AuditEntry.objects.bulk_create(audits, batch_size=1000)
        audit_record(
            actor=actor,
            verb="customers.redistribute",
            target=source,
            changes={
                "to": [None, {str(k): v for k, v in counts.items()}],
                "method": [None, method],
            },
            note=reason,
        )
    return counts


# ---- the public pool (公海) -----------------------------------------------------------------


def pool_sweep(now=None) -> int:
    """Return lapsed and orphaned customers to their branch's pool. Idempotent.

    Lapsed: protection over, no deal, and no documented contact within the protection period
    before now. Orphaned: the owner was deactivated (left the company).
    """
    now = now or timezone.now()
    moved = 0
    branches = OrgUnit.objects.filter(kind__in=[OrgUnit.Kind.BRANCH, OrgUnit.Kind.HEAD_OFFICE])
    for branch in branches:
        config = settings_for(branch)
        units = config.branch.subtree_ids()
        recent_contact = now - timedelta(days=config.protection_days)
        lapsed = Customer.objects.filter(
            org_unit_id__in=units,
            owner__isnull=False,
            archived_at__isnull=True,
            ownership_settled_at__isnull=True,
            protected_until__lt=now,
        ).filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=recent_contact))
        orphaned = Customer.objects.filter(
            org_unit_id__in=units, owner__is_active=False, archived_at__isnull=True
        )
        # A head office's subtree holds its branches: sweep each customer under its branch only.
        if branch.kind == OrgUnit.Kind.HEAD_OFFICE:
            units = [u for u in units if OrgUnit.objects.get(pk=u).branch().pk == branch.pk]
            lapsed, orphaned = (
                lapsed.filter(org_unit_id__in=units),
                orphaned.filter(org_unit_id__in=units),
            )
        for qs in (lapsed, orphaned):
            with transaction.atomic():
                rows = list(qs.select_for_update().values_list("pk", "owner_id")[:5000])
                for pk, owner_id in rows:
                    Customer.objects.filter(pk=pk, owner_id=owner_id).update(
                        owner=None,
                        org_unit=config.branch,
                        in_pool_since=now,
                        pool_previous_owner_id=owner_id,
                        pool_cooling_until=now + timedelta(days=config.pool_cooling_days),
                        # Nobody owns it now, so nobody is to follow it up: the claim gives
                        # the next owner a follow-up (owner-change hooks, C2).
                        next_follow_up_at=None,
                        follow_up_rule="",
                        follow_up_step="",
                    )
                AuditEntry.objects.bulk_create(
                    [
                        AuditEntry(
                            actor=None,
                            verb="customer.to_pool",
                            target_type="customers.customer",
                            target_id=pk,
                            changes={"owner_id": [owner_id, None]},
                        )
                        for pk, owner_id in rows
                    ],
                    batch_size=1000,
                )
                moved += len(rows)
    return moved


def pool_claim(*, actor: User, customer_id: int) -> Customer:
    """Claim a customer from the pool. Two salespeople racing for one customer: one wins."""
    if not actor.has_role(Role.SALES):
        raise Forbidden(_("Only salespeople claim from the pool."))
    now = timezone.now()
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update()
            .filter(pk=customer_id, archived_at__isnull=True)
            .first()
        )
        if customer is None or customer.org_unit_id not in actor.branch_unit_ids:
            raise NotFound(_("Customer not found in your branch's pool."))
        if customer.owner_id is not None or customer.in_pool_since is None:
            raise Conflict(_("Someone has already claimed this customer."), code="already_claimed")
        config = settings_for(actor.org_unit.branch())
        if (
            customer.pool_previous_owner_id == actor.pk
            and customer.pool_cooling_until
            and customer.pool_cooling_until > now
        ):
            raise Conflict(
                _("You released this customer; you may reclaim it after %s.")
                % f"{timezone.localtime(customer.pool_cooling_until):%Y-%m-%d}",
                code="cooling_off",
            )
        start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if PoolClaim.objects.filter(salesperson=actor, claimed_at__gte=start_of_day).count() >= (
            config.pool_daily_claims
        ):
            raise Conflict(_("You have reached today's limit of claims."), code="daily_limit")
        held = (
            PoolClaim.objects.filter(salesperson=actor, customer__owner=actor)
            .values("customer")
            .distinct()
            .count()
        )
        if held >= config.pool_max_held:
            raise Conflict(_("You hold as many pool customers as allowed."), code="holding_limit")
        PoolClaim.objects.create(customer=customer, salesperson=actor, claimed_at=now)
        _take_ownership(customer, actor.pk, now, config.protection_days)
        Customer.objects.filter(pk=customer.pk).update(
            pool_previous_owner=None, pool_cooling_until=None
        )
        audit_record(
            actor=actor,
            verb="customer.pool_claim",
            target=customer,
            changes={"owner_id": [None, actor.pk]},
        )
    return customer


def settings_update(*, actor: User, branch_id: int, values: dict) -> ReceptionSettings:
    """Change a branch's protection period, splits and pool limits; pairs must sum to 100%."""
    branch = OrgUnit.objects.filter(pk=branch_id).first()
    if branch is None or not (actor.is_admin or branch_id in actor.managed_unit_ids):
        raise NotFound(_("Branch not found."))
    with transaction.atomic():
        config = ReceptionSettings.objects.select_for_update().get_or_create(branch=branch)[0]
        before = {k: str(getattr(config, k)) for k in values}
        errors = []
        for key, value in values.items():
            try:
                setattr(config, key, ReceptionSettings._meta.get_field(key).to_python(value))
            except DjangoValidationError:
                errors.append(FieldError(key, "invalid", _("Enter a number.")))
        if errors:
            raise ValidationFailed(errors)
        errors = [
            FieldError(a, "split_sum", _("These two percentages must add up to 100%."))
            for a, b in ReceptionSettings.PAIRS
            if Decimal(str(getattr(config, a))) + Decimal(str(getattr(config, b))) != HUNDRED
        ]
        if errors:
            raise ValidationFailed(errors)
        full_clean_or_fail(config)
        config.save()
        audit_record(
            actor=actor,
            verb="reception.settings",
            target=config,
            changes={k: [before[k], str(v)] for k, v in values.items() if before[k] != str(v)},
        )
    return config
