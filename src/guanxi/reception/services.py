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
from django.utils.translation import gettext_lazy

from guanxi.core.audit import audit_record
from guanxi.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
    full_clean_or_fail,
)
from guanxi.core.formatting import local_date
from guanxi.core.ids import id_in_range
from guanxi.core.models import OrgUnit, Role, User
from guanxi.core.webhooks import webhook_emit
from guanxi.customers.keys import InvalidPhone, normalize_phone
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.customers.ownership import KEEP, Reason, ownership_change_many
from guanxi.customers.selectors import customer_get
from guanxi.customers.services import customer_create, household_join
from guanxi.notifications.services import notify

from . import rotation
from .models import (
    Dispute,
    DutyRoster,
    DutySlot,
    PoolClaim,
    ReceptionSettings,
    Visit,
)
from .ownership import (
    claim_valid,
    credit_record,
    protection_end_after,
    settings_for,
    take_ownership,
)
from .permissions import (
    can_change_settings,
    can_claim_from_pool,
    can_decide_dispute,
    can_handle_visit,
    can_manage_desk,
    can_open_dispute,
    can_redistribute_from,
    can_switch_event_mode,
    may_open_branch_desk,
    pool_is_within_reach,
    uses_desk,
)
from .rules import (
    DEPARTMENT,
    HUNDRED,
    ROTATION,
    Decision,
    Protection,
    Splits,
    VisitFacts,
    decide,
)


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


def _ids_in_range(ids, field: str) -> None:
    """Ids typed or posted are refused with their field before any query sees them."""
    if not all(id_in_range(pk) for pk in ids):
        raise ValidationFailed.single(field, "invalid_user", _("Unknown salesperson."))


def desk_branch(actor: User, branch_id: int | None = None) -> OrgUnit:
    """The sales office the actor works at the desk of (their branch, or one they manage)."""
    if not uses_desk(actor):
        raise Forbidden(_("Only the front desk, salespeople and managers use the rotation."))
    if branch_id is None:
        if actor.org_unit is None:
            raise ValidationFailed.single("branch", "no_branch", _("You belong to no branch."))
        return actor.org_unit.branch()
    branch = OrgUnit.objects.filter(pk=branch_id).first()
    if branch is None or not may_open_branch_desk(actor, branch_id):
        raise NotFound(_("Branch not found."))
    return branch


# ---- rosters -------------------------------------------------------------------------------


def roster_set(
    *,
    actor: User,
    salesperson_ids: list[int],
    day: date | None = None,
    branch_id: int | None = None,
) -> DutyRoster:
    """Set the day's queue order. Existing slots keep their state and make-up turns."""
    branch = desk_branch(actor, branch_id)
    if not can_manage_desk(actor, branch):
        raise Forbidden(_("Only the front desk or a manager sets the duty roster."))
    day = day or timezone.localdate()
    _ids_in_range(salesperson_ids, "salespeople")
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
        # Whose turn it is survives the edit: the one the pointer names keeps it (or, if they
        # leave the queue, the next one after them who stays).
        old_order = [
            s.salesperson_id
            for s in sorted(existing.values(), key=lambda s: s.position)
            if s.state != DutySlot.State.OFF or s.salesperson_id in salesperson_ids
        ]
        upcoming = _from(old_order, roster.next_position, existing)
        in_turn = next((pk for pk in upcoming if pk in salesperson_ids), None)
        before = {"order": old_order, "next": upcoming[0] if upcoming else None}
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
        # Before the day's first new visitor the queue simply starts with its first person.
        started = any(s.turns_taken or s.owed_turns for s in existing.values())
        if not started:
            in_turn = salesperson_ids[0] if salesperson_ids else None
        pointer = salesperson_ids.index(in_turn) if in_turn is not None else 0
        if roster.next_position != pointer:
            roster.next_position = pointer
            roster.save(update_fields=["next_position"])
        # Every change of the queue is audited, with whose turn it was and is.
        audit_record(
            actor=actor,
            verb="roster.set",
            target=roster,
            changes={
                "order": [before["order"] or None, salesperson_ids],
                "next": [before["next"], in_turn],
            },
        )
    return roster


def _from(order: list[int], pointer: int, slots: dict[int, DutySlot]) -> list[int]:
    """The salespeople of the old queue from the pointer's position on, wrapping round."""
    after = [pk for pk in order if slots[pk].position >= pointer]
    return after + [pk for pk in order if slots[pk].position < pointer]


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
        if slot.salesperson_id != actor.pk and not can_manage_desk(actor, slot.roster.branch):
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
        if not can_switch_event_mode(actor, roster):
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
    # Case 3: the colleague the receptionist picks to assist while the customer's
    # salesperson is away (None: the first available in the queue's order).
    assistant: int | None = None


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
            assistant=registration.assistant,
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


def _find_by_phone(raw: str, field: str, branch: OrgUnit) -> tuple[Customer | None, bool]:
    """The customer with this phone whom the desk of `branch` may see, and whether the phone
    belongs to another branch's customer instead (whom the desk must neither link, change
    nor name: issue 12, branch scope)."""
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
    if customer is not None and customer.org_unit_id not in branch.subtree_ids():
        return None, True
    return customer, False


def visit_register(
    *, actor: User, registration: Registration, branch_id: int | None = None
) -> Visit:
    """来人/来电登记: find the customer by phone, or create them; the visit waits to be received.

    Only the branch's own customers are found. A phone registered with another branch's
    customer gives a new record here, without that phone, and a dispute for the managers to
    settle with the other branch: that customer is neither changed nor named.
    """
    branch = desk_branch(actor, branch_id)
    errors = _validate_registration(registration)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        customer, elsewhere = _find_by_phone(registration.phone, "phone", branch)
        is_new = customer is None
        if is_new:
            if not registration.name.strip():
                raise ValidationFailed.single("name", "required", _("A new visitor needs a name."))
            referrer = (
                _find_by_phone(registration.referred_by_phone, "referred_by_phone", branch)[0]
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
            # Owned by nobody until received; the desk's unit holds the record meanwhile, and
            # the protection starts at reception.
            customer = customer_create(
                actor=actor,
                data=data,
                phones=[] if elsewhere else [registration.phone],
                allow_similar=True,
                unowned_unit=branch,
            )
            if registration.household_phone:
                member = _find_by_phone(registration.household_phone, "household_phone", branch)[0]
                if member:
                    household_join(customer=customer, member=member)
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
            phone_elsewhere=elsewhere,
        )
        if elsewhere:
            Dispute.objects.create(
                customer=customer,
                visit=visit,
                branch=branch,
                opened_by=actor,
                description=_(
                    "The phone %(phone)s is registered with a customer of another branch. This "
                    "visitor was recorded here without it: settle with that branch who the "
                    "customer belongs to (merge the records or keep them apart)."
                )
                % {"phone": normalize_phone(registration.phone).e164},
            )
        audit_record(
            actor=actor,
            verb="visit.register",
            target=customer,
            changes={"visit": [None, visit.pk], "kind": [None, visit.kind]},
        )
    return visit


def _claim_of(customer: Customer, now, protection_days: Protection) -> tuple[int | None, bool, str]:
    """Who holds a claim on this customer: own owner, else the household's or referrer's."""
    if customer.owner_id:
        return customer.owner_id, claim_valid(customer, now, protection_days), ""
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
            valid = claim_valid(first.customer, now, protection_days)
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


def _check_people(actor: User, branch: OrgUnit, **fields) -> None:
    """The salespeople a visitor names, asks for, refuses or is assigned to are active
    salespeople of this sales office; a salesperson at the desk never names themselves to
    skip the queue. Anything else is refused with the field, before anything is written."""
    wanted: dict[int, str] = {}
    errors: dict[str, FieldError] = {}
    for field_name, value in fields.items():
        ids = value if isinstance(value, tuple | list) else () if value is None else (value,)
        for pk in ids:
            if not id_in_range(pk):
                errors.setdefault(
                    field_name,
                    FieldError(
                        field_name, "invalid_user", _("Choose a salesperson of this branch.")
                    ),
                )
            else:
                wanted.setdefault(pk, field_name)
    known = set(
        User.objects.filter(
            pk__in=list(wanted),
            is_active=True,
            roles__role=Role.SALES,
            org_unit_id__in=branch.subtree_ids(),
        ).values_list("pk", flat=True)
    )
    for pk, field_name in wanted.items():
        if pk not in known:
            errors.setdefault(
                field_name,
                FieldError(field_name, "invalid_user", _("Choose a salesperson of this branch.")),
            )
    if not can_manage_desk(actor, branch):
        for field_name in ("named", "prefers", "event_assignee", "assistant"):
            value = fields.get(field_name)
            if actor.pk in (value if isinstance(value, tuple | list) else (value,)):
                errors.setdefault(
                    field_name,
                    FieldError(
                        field_name,
                        "self_named",
                        _(
                            "You cannot name yourself: the desk or a manager records who the "
                            "customer asks for."
                        ),
                    ),
                )
    if errors:
        raise ValidationFailed(list(errors.values()))


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
    assistant: int | None = None,
) -> Visit:
    """Decide who receives this visitor under the office's rules, and record it all.

    `assistant`: when a colleague assists because the customer's salesperson is away (cases
    3 and 6), the one the receptionist picks; assisting never takes a rotation turn.
    """
    today = timezone.localdate()
    with transaction.atomic():
        visit = (
            Visit.objects.select_for_update(of=("self",))
            .select_related("customer", "branch")
            .filter(pk=visit_id)
            .first()
        )
        if visit is None or not can_handle_visit(actor, visit):
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
        _check_people(
            actor,
            visit.branch,
            named=tuple(named),
            prefers=prefers,
            refuses=refuses,
            event_assignee=event_assignee,
            assistant=assistant,
        )
        # The time of receiving is taken once the queue is ours: two desks pressing "next"
        # together are recorded in the order the turns were actually given.
        now = timezone.now()
        present = frozenset(s.salesperson_id for s in slots if s.is_available)
        on_roster = {s.salesperson_id for s in slots}
        for field_name, person in (
            ("prefers", prefers),
            ("event_assignee", event_assignee),
            ("assistant", assistant),
        ):
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
        previous, claim_valid, via = _claim_of(customer, now, config.protection)
        # A customer back from the public pool is a new claim: the visits before the sweep
        # count for nobody (not case 8), nor as a return.
        history = Visit.objects.filter(customer=customer, lapsed=False).exclude(pk=visit.pk)
        visit_number = history.count() + 1
        earlier = (
            tuple(
                history.filter(receiver__isnull=False)
                .order_by("registered_at")
                .values_list("receiver_id", flat=True)
            )
            if visit_number > 1
            else ()
        )
        facts = VisitFacts(
            present=present,
            previous_receiver=previous,
            claim_valid=claim_valid,
            claim_via=via,
            earlier_receivers=earlier,
            visit_number=visit_number,
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
        if assistant is not None:
            rotation_user = _chosen_assistant(decision, assistant, refuses)
        elif decision.needs_rotation:
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
            chosen=assistant is not None,
        )
    return visit


def _chosen_assistant(decision: Decision, assistant: int, refuses: int | None) -> int:
    """The colleague the desk picked assists in place of the queue's first available (case 3).

    Only a visitor whose salesperson is away has an assistant; the one complained about or
    refused never assists. Nothing is consumed: assisting is not a rotation turn.
    """
    if decision.assistant != ROTATION:
        raise ValidationFailed.single(
            "assistant",
            "no_assistant_needed",
            _(
                "This visitor needs no assistant: a colleague assists only while the "
                "customer's salesperson is away."
            ),
        )
    if assistant == refuses or assistant == decision.credit:
        raise ValidationFailed.single(
            "assistant",
            "invalid_user",
            _("Choose a colleague other than the customer's own or refused salesperson."),
        )
    return assistant


def _record(
    *, actor, visit, customer, decision: Decision, config, now, via_rotation, chosen=False
) -> None:
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
            protection_days=config.protection,
            audit_actor=actor,
        )
    elif visit.receiver_id and customer.owner_id is None:
        # The receiver follows the visitor up; the credit waits for the manager's decision.
        take_ownership(
            customer,
            visit.receiver_id,
            now,
            config.protection,
            reason=Reason.DESK_RECEPTION,
            actor=actor,
            credit=KEEP,
            note=decision.explanation,
        )
    if visit.receiver_id and visit.receiver_id != actor.pk:
        # Every visitor given to a salesperson reaches them at once (issue 11 item 3).
        notify(
            recipient=visit.receiver_id,
            key=f"visit.received:{visit.pk}",
            title=gettext_lazy("The desk gave you a visitor: %(name)s"),
            params={"name": customer.name},
            url=customer.get_absolute_url(),
            kind="reception",
        )
    audit_record(
        actor=actor,
        verb="visit.receive",
        target=customer,
        changes={
            "visit": [None, visit.pk],
            "receiver": [None, visit.receiver_id],
            "case": [None, decision.case],
            **(
                {
                    "assistant": [None, visit.assistant_id],
                    "assistant_chosen_by_desk": [None, chosen],
                }
                if visit.assistant_id
                else {}
            ),
        },
        note=decision.explanation,
    )
    # Announced once per visit (a visit is received once: the WAITING check above); its
    # listeners (loyalty's visit points) run in this transaction and are idempotent per id.
    webhook_emit(
        "visit.received",
        {
            "id": visit.pk,
            "customer_id": customer.pk,
            "kind": visit.kind,
            "branch_id": visit.branch_id,
            "receiver_id": visit.receiver_id,
            "received_at": now.isoformat(),
        },
    )


# ---- disputes ------------------------------------------------------------------------------


def dispute_open(
    *, actor: User, customer_id: int, description: str, party_ids: list[int] = ()
) -> Dispute:
    """Log by hand what the rules do not cover (SPEC C3: "Anything not covered: logged as a
    dispute; the manager decides"); the salespeople involved are its parties."""

    errors = []
    if not description.strip():
        errors.append(FieldError("description", "required", _("Describe what happened.")))
    elif len(description) > 2000:
        errors.append(FieldError("description", "max_length", _("At most 2000 characters.")))
    if errors:
        raise ValidationFailed(errors)
    _ids_in_range(party_ids, "party_ids")
    if not id_in_range(customer_id):
        raise NotFound(_("Customer not found."))
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        if not can_open_dispute(actor, customer):
            raise Forbidden(
                _("Only the desk, a manager or a salesperson of the branch opens a dispute.")
            )
        dispute = Dispute.objects.create(
            customer=customer,
            branch=customer.org_unit.branch(),
            opened_by=actor,
            description=description.strip()[:2000],
        )
        parties = list(
            User.objects.filter(
                pk__in=party_ids,
                is_active=True,
                roles__role=Role.SALES,
                org_unit_id__in=dispute.branch.subtree_ids(),
            ).distinct()
        )
        if len(parties) != len(set(party_ids)):
            raise ValidationFailed.single(
                "party_ids", "invalid_user", _("Choose a salesperson of this branch.")
            )
        dispute.parties.set(parties)
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
        if dispute is None or not can_decide_dispute(actor, dispute.branch_id):
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
            protection_days=settings_for(dispute.branch).protection,
            reason=Reason.DISPUTE_DECISION,
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


def _redistribute_check(
    *, actor: User, from_user_id: int, to_user_ids: list[int], method: str
) -> tuple[User, list[User]]:
    """The source and the new owners of a redistribution, checked (who may, whom to)."""
    if method not in ("even", "random"):
        raise ValidationFailed.single("method", "invalid_choice", _("Even or random."))
    if not to_user_ids:
        raise ValidationFailed.single("to", "required", _("Choose who takes over."))
    _ids_in_range(to_user_ids, "to")
    if from_user_id in to_user_ids:
        raise ValidationFailed.single(
            "to", "same_user", _("Choose colleagues, not the same person.")
        )
    source = User.objects.filter(pk=from_user_id).first()
    if source is None or not can_redistribute_from(actor, source):
        raise NotFound(_("Salesperson not found."))
    targets = list(
        User.objects.filter(pk__in=to_user_ids, is_active=True, roles__role=Role.SALES)
        .distinct()
        .order_by("pk")
    )
    if len(targets) != len(set(to_user_ids)) or not all(
        can_redistribute_from(actor, t) for t in targets
    ):
        raise ValidationFailed.single(
            "to", "invalid_user", _("Every new owner must be an active salesperson you manage.")
        )
    return source, targets


@dataclass
class RedistributionPlan:
    """What a redistribution would do, for the manager to confirm (nothing changed yet)."""

    source: User
    targets: list[User]
    count: int
    method: str
    # (new owner, how many) when spread evenly; at random, only the total is known.
    shares: list[tuple[User, int]]


def redistribute_preview(
    *, actor: User, from_user_id: int, to_user_ids: list[int], method: str
) -> RedistributionPlan:
    """The same checks as `redistribute`, and how many customers would go to whom."""
    source, targets = _redistribute_check(
        actor=actor, from_user_id=from_user_id, to_user_ids=to_user_ids, method=method
    )
    count = Customer.objects.filter(owner_id=source.pk, archived_at__isnull=True).count()
    n = len(targets)
    shares = [(t, count // n + (1 if i < count % n else 0)) for i, t in enumerate(targets)]
    return RedistributionPlan(
        source=source,
        targets=targets,
        count=count,
        method=method,
        shares=shares if method == "even" else [],
    )


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
    source, targets = _redistribute_check(
        actor=actor, from_user_id=from_user_id, to_user_ids=to_user_ids, method=method
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
        moves = []
        for index, customer in enumerate(moved):
            target = targets[index % len(targets)] if method == "even" else rng.choice(targets)
            assignment[target.pk].append(customer.pk)
            moves.append((customer, target))
        # Each moved customer passes to its new owner, the credit with it, as in a
        # reassignment: the owner-change hooks give the follow-up on the cadence counted from
        # now, unless an earlier one is still ahead (C2). One audit entry per customer.
        ownership_change_many(
            moves=moves, reason=Reason.REDISTRIBUTION, actor=actor, now=now, note=reason
        )
        for target in targets:
            chosen = assignment[target.pk]
            counts[target.pk] = len(chosen)
            if chosen:
                notify(
                    recipient=target,
                    key=f"redistribution:{from_user_id}:{now:%Y%m%d%H%M%S}",
                    title=gettext_lazy("%(n)d customers of %(who)s are now yours"),
                    params={"n": len(chosen), "who": str(source)},
                    url=f"/customers/?owner={target.pk}",
                    kind="reception",
                )
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
        # A documented contact within one protection period before now keeps the customer.
        recent_contact = now - (protection_end_after(now, config.protection) - now)
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
                rows = list(qs.select_for_update(of=("self",)).order_by("pk")[:5000])
                # Nobody owns them now, so nobody holds the credit or is to follow them up
                # (the owner-change hooks clear the follow-up; a claim gives the next owner
                # one, C2); the previous owner cools off before reclaiming.
                # Their visits gave a claim that lapsed: a return is a new claim (not case 8).
                Visit.objects.filter(customer__in=rows).update(lapsed=True)
                moved += ownership_change_many(
                    moves=[(customer, None) for customer in rows],
                    reason=Reason.POOL_SWEEP,
                    actor=None,
                    now=now,
                    org_unit=config.branch,
                    to_pool=True,
                    cooling_until=now + timedelta(days=config.pool_cooling_days),
                )
    return moved


def pool_claim(*, actor: User, customer_id: int) -> Customer:
    """Claim a customer from the pool. Two salespeople racing for one customer: one wins."""
    if not can_claim_from_pool(actor):
        raise Forbidden(_("Only salespeople claim from the pool."))
    now = timezone.now()
    with transaction.atomic():
        # The claimant's own row is the lock for their daily and holding limits: two claims
        # by one person run one after the other, so the counts below are exact (PostgreSQL
        # READ COMMITTED would let twelve simultaneous claims each see the same count).
        User.objects.select_for_update().filter(pk=actor.pk).first()
        customer = (
            Customer.objects.select_for_update()
            .filter(pk=customer_id, archived_at__isnull=True)
            .first()
        )
        if customer is None or not pool_is_within_reach(actor, customer):
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
                % local_date(customer.pool_cooling_until, "DATE_FORMAT"),
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
        # A new claim: a new protection period, and the credit is the claimer's (the old
        # holder's lapsed with the sweep).
        take_ownership(
            customer, actor.pk, now, config.protection, reason=Reason.POOL_CLAIM, actor=actor
        )
    return customer


def settings_update(*, actor: User, branch_id: int, values: dict) -> ReceptionSettings:
    """Change a branch's protection period, splits and pool limits; pairs must sum to 100%."""
    branch = OrgUnit.objects.filter(pk=branch_id).first()
    if branch is None or not can_change_settings(actor, branch_id):
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
