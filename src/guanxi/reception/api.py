"""The desk over JSON: rosters, registering and receiving, who is next, disputes, the pool."""

import datetime as dt
from decimal import Decimal

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from guanxi.core.ids import Id
from guanxi.core.validation import column_limit
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

from . import services
from .models import Dispute, DutySlot, Visit
from .selectors import current_credit_split, desk_state, disputes_for, pool_customers

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class RosterIn(Strict):
    salesperson_ids: list[Id]
    date: dt.date | None = None
    branch_id: Id | None = None


class SlotOut(Schema):
    id: int
    salesperson_id: int
    salesperson: str
    position: int
    state: str
    owed_turns: int
    turns_taken: int


class DeskOut(Schema):
    roster_id: int | None
    next_salesperson_id: int | None
    after_salesperson_id: int | None
    slots: list[SlotOut]


def _desk(branch) -> DeskOut:
    state = desk_state(branch)
    return DeskOut(
        roster_id=state.roster.pk if state.roster else None,
        next_salesperson_id=state.next_up.salesperson_id if state.next_up else None,
        after_salesperson_id=state.after.salesperson_id if state.after else None,
        slots=[
            SlotOut(
                id=s.pk,
                salesperson_id=s.salesperson_id,
                salesperson=str(s.salesperson),
                position=s.position,
                state=s.state,
                owed_turns=s.owed_turns,
                turns_taken=s.turns_taken,
            )
            for s in state.slots
        ],
    )


@router.get("/desk", response=DeskOut)
def desk(request, branch_id: Id | None = None):
    """Today's queue and who receives the next new visitor (and who waits after them)."""
    return _desk(services.desk_branch(request.user, branch_id))


@router.post("/roster", response=DeskOut)
def roster(request, payload: RosterIn):
    services.roster_set(
        actor=request.user,
        salesperson_ids=payload.salesperson_ids,
        day=payload.date,
        branch_id=payload.branch_id,
    )
    return _desk(services.desk_branch(request.user, payload.branch_id))


class SlotStateIn(Strict):
    state: DutySlot.State


@router.post("/slots/{slot_id}/state", response=SlotOut)
def slot_state(request, slot_id: Id, payload: SlotStateIn):
    slot = services.slot_set_state(actor=request.user, slot_id=slot_id, state=payload.state)
    return SlotOut(
        id=slot.pk,
        salesperson_id=slot.salesperson_id,
        salesperson=str(slot.salesperson),
        position=slot.position,
        state=slot.state,
        owed_turns=slot.owed_turns,
        turns_taken=slot.turns_taken,
    )


class ReceiveIn(Strict):
    """What decides who receives a visitor (reception.rules), given at registration or later."""

    named: list[Id] = []
    prefers: Id | None = None
    refuses: Id | None = None
    complaint: bool = False
    discount_seeking: bool = False
    forgot_receiver: bool = False
    event_assignee: Id | None = None
    # Case 3: the colleague who assists while the customer's salesperson is away.
    assistant: Id | None = None


class VisitIn(ReceiveIn):
    phone: str
    name: str = Field(default="", max_length=column_limit(Customer, "name"))
    kind: Visit.Kind = Visit.Kind.VISIT
    source: str = ""
    intention: str = ""
    party_size: int = 1
    notes: str = Field(default="", max_length=column_limit(Visit, "notes"))
    referred_by_phone: str = ""
    household_phone: str = ""
    branch_id: Id | None = None
    receive: bool = True


class ShareOut(Schema):
    salesperson_id: int | None
    department_id: int | None
    percent: Decimal


class VisitOut(Schema):
    id: int
    customer_id: int
    kind: str
    state: str
    is_new_customer: bool
    visit_number: int
    receiver_id: int | None
    assistant_id: int | None
    via_rotation: bool
    case_number: int | None
    explanation: str
    registered_at: dt.datetime
    credit_user_id: int | None = None
    split: list[ShareOut] = []


def _visit_out(visit: Visit) -> VisitOut:
    decision = visit.decisions.filter(is_current=True).prefetch_related("shares").first()
    return VisitOut(
        id=visit.pk,
        customer_id=visit.customer_id,
        kind=visit.kind,
        state=visit.state,
        is_new_customer=visit.is_new_customer,
        visit_number=visit.visit_number,
        receiver_id=visit.receiver_id,
        assistant_id=visit.assistant_id,
        via_rotation=visit.via_rotation,
        case_number=visit.case_number,
        explanation=visit.explanation,
        registered_at=visit.registered_at,
        credit_user_id=decision.credit_user_id if decision else None,
        split=[
            ShareOut(
                salesperson_id=s.salesperson_id, department_id=s.department_id, percent=s.percent
            )
            for s in decision.shares.all()
        ]
        if decision
        else [],
    )


def _receive_kwargs(payload) -> dict:
    return {
        "named": tuple(payload.named),
        "prefers": payload.prefers,
        "refuses": payload.refuses,
        "complaint": payload.complaint,
        "discount_seeking": payload.discount_seeking,
        "forgot_receiver": payload.forgot_receiver,
        "event_assignee": payload.event_assignee,
        "assistant": payload.assistant,
    }


@router.post("/visits", response={201: VisitOut})
def visit_create(request, payload: VisitIn):
    """Register a visitor or a call (found by phone, else created) and, unless `receive` is
    false, decide at once who receives them under the office's rules."""
    registration = services.Registration(
        phone=payload.phone,
        name=payload.name,
        kind=payload.kind,
        source=payload.source,
        intention=payload.intention,
        party_size=payload.party_size,
        notes=payload.notes,
        referred_by_phone=payload.referred_by_phone,
        household_phone=payload.household_phone,
        **_receive_kwargs(payload),
    )
    if payload.receive:
        visit = services.visit_register_and_receive(
            actor=request.user, registration=registration, branch_id=payload.branch_id
        )
    else:
        visit = services.visit_register(
            actor=request.user, registration=registration, branch_id=payload.branch_id
        )
    return Status(201, _visit_out(Visit.objects.get(pk=visit.pk)))


@router.post("/visits/{visit_id}/receive", response=VisitOut)
def visit_receive(request, visit_id: Id, payload: ReceiveIn):
    visit = services.visit_receive(
        actor=request.user, visit_id=visit_id, **_receive_kwargs(payload)
    )
    return _visit_out(Visit.objects.get(pk=visit.pk))


class DisputeDecideIn(Strict):
    credit: int | str
    split: dict[str, Decimal]
    reason: str
    quarrel: bool = False


class DisputeOut(Schema):
    id: int
    customer_id: int
    state: str
    reason: str
    branch_id: int | None = None
    visit_id: int | None = None
    description: str = ""
    opened_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    party_ids: list[int] = []


def _dispute_out(dispute) -> DisputeOut:
    return DisputeOut(
        id=dispute.pk,
        customer_id=dispute.customer_id,
        state=dispute.state,
        reason=dispute.reason,
        branch_id=dispute.branch_id,
        visit_id=dispute.visit_id,
        description=dispute.description,
        opened_at=dispute.opened_at,
        decided_at=dispute.decided_at,
        party_ids=[p.pk for p in dispute.parties.all()],
    )


class DisputeIn(Strict):
    customer_id: Id
    description: str = Field(max_length=column_limit(Dispute, "description"))
    party_ids: list[Id] = []


@router.post("/disputes", response={201: DisputeOut})
def dispute_open(request, payload: DisputeIn):
    """Open a dispute by hand: anything the rules do not cover, for the manager to decide."""
    dispute = services.dispute_open(
        actor=request.user,
        customer_id=payload.customer_id,
        description=payload.description,
        party_ids=payload.party_ids,
    )
    return Status(201, _dispute_out(dispute))


@router.get("/disputes", response=list[DisputeOut])
def dispute_list(
    request,
    state: Dispute.State | None = None,
    customer_id: Id | None = None,
    branch_id: Id | None = None,
    party_id: Id | None = None,
):
    """The disputes of the branches the caller manages, newest first; filter by state, by
    customer, by branch or by a salesperson who is a party."""
    rows = disputes_for(
        request.user,
        state=state,
        customer_id=customer_id,
        branch_id=branch_id,
        party_id=party_id,
    )
    return [_dispute_out(d) for d in rows.prefetch_related("parties")]


@router.post("/disputes/{dispute_id}/decide", response=DisputeOut)
def dispute_decide(request, dispute_id: Id, payload: DisputeDecideIn):
    dispute = services.dispute_decide(
        actor=request.user,
        dispute_id=dispute_id,
        credit=payload.credit,
        split=payload.split,
        reason=payload.reason,
        quarrel=payload.quarrel,
    )
    return _dispute_out(dispute)


class ClaimOut(Schema):
    customer_id: int
    owner_id: int | None
    protected_until: dt.datetime | None


@router.post("/pool/{customer_id}/claim", response=ClaimOut)
def pool_claim(request, customer_id: Id):
    customer = services.pool_claim(actor=request.user, customer_id=customer_id)
    return ClaimOut(
        customer_id=customer.pk,
        owner_id=customer.owner_id,
        protected_until=customer.protected_until,
    )


class RedistributeIn(Strict):
    from_user_id: Id
    to_user_ids: list[Id]
    method: str = "even"
    reason: str = ""


@router.post("/redistribute", response=dict[int, int])
def redistribute(request, payload: RedistributeIn):
    return services.redistribute(
        actor=request.user,
        from_user_id=payload.from_user_id,
        to_user_ids=payload.to_user_ids,
        method=payload.method,
        reason=payload.reason,
    )


class PoolOut(Schema):
    customer_id: int
    name: str
    in_pool_since: dt.datetime
    org_unit_id: int


@router.get("/pool", response=list[PoolOut])
def pool_list(request):
    """The public pool (公海) of the caller's branch, newest first."""
    return [
        PoolOut(
            customer_id=c.pk, name=c.name, in_pool_since=c.in_pool_since, org_unit_id=c.org_unit_id
        )
        for c in pool_customers(request.user)
    ]


class SettingsOut(Schema):
    branch_id: int
    protection_days: int
    protection_months: int
    pool_daily_claims: int
    pool_max_held: int
    pool_cooling_days: int
    splits: dict[str, Decimal]


@router.get("/settings", response=SettingsOut)
def settings_read(request, branch_id: Id | None = None):
    """The branch's protection period, pool limits and commission splits."""
    branch = services.desk_branch(request.user, branch_id)
    config = services.settings_for(branch)
    return SettingsOut(
        branch_id=branch.pk,
        protection_days=config.protection_days,
        protection_months=config.protection_months,
        pool_daily_claims=config.pool_daily_claims,
        pool_max_held=config.pool_max_held,
        pool_cooling_days=config.pool_cooling_days,
        splits={name: getattr(config, name) for pair in config.PAIRS for name in pair},
    )


class CreditOut(Schema):
    customer_id: int
    owner_id: int | None
    credit_holder_id: int | None
    credit_since: dt.datetime | None
    protected_until: dt.datetime | None
    ownership_settled_at: dt.datetime | None
    in_pool_since: dt.datetime | None
    split: list[ShareOut]


@router.get("/customers/{customer_id}/credit", response=CreditOut)
def customer_credit(request, customer_id: Id):
    """Who owns the customer and who holds the deal credit now, with the commission split
    the next deal would be settled by."""
    customer = customer_get(viewer=request.user, pk=customer_id)
    return CreditOut(
        customer_id=customer.pk,
        owner_id=customer.owner_id,
        credit_holder_id=customer.credit_holder_id,
        credit_since=customer.credit_since,
        protected_until=customer.protected_until,
        ownership_settled_at=customer.ownership_settled_at,
        in_pool_since=customer.in_pool_since,
        split=[
            ShareOut(salesperson_id=person, department_id=department, percent=pct)
            for person, department, pct, _case in current_credit_split(customer)
        ],
    )
