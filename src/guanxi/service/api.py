"""Service over JSON: the queue, tickets and their replies, status changes and assignment.
The same services and selectors as the web pages; errors carry `code` and `field`."""

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from guanxi.core.errors import Forbidden

from . import services
from .permissions import can_manage_service
from .selectors import TicketFilter, skill_agents, sla_policy_rows, ticket_get, ticket_list

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class TicketOut(Schema):
    id: int
    customer_id: int | None
    org_unit_id: int
    type: str
    channel: str
    priority: str
    status: str
    subject: str
    assignee_id: int | None
    created_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    response_breached: bool
    resolution_breached: bool
    reopen_count: int = 0


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str


class TicketIn(Strict):
    customer_id: int
    type: str
    channel: str = "phone"
    priority: str = "normal"
    subject: str = Field(max_length=services.LIMITS["subject"])
    description: str = Field("", max_length=services.LIMITS["description"])
    product_id: int | None = None
    order_ref: str = Field("", max_length=services.LIMITS["order_ref"])


class ListParams(Schema):
    status: str = "open"
    type: str = ""
    priority: str = ""
    assignee: str = ""
    breached: bool = False
    order: str = "due"
    cursor: str = ""
    limit: int = Field(25, ge=1, le=100)


@router.get("/tickets", response=TicketPage)
def tickets(request, params: Query[ListParams]):
    filters = TicketFilter.from_params(
        {
            "status": params.status,
            "type": params.type,
            "priority": params.priority,
            "assignee": params.assignee,
            "breached": "1" if params.breached else "",
            "order": params.order,
        }
    )
    page = ticket_list(
        viewer=request.user, filters=filters, cursor=params.cursor, limit=params.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tickets", response={201: TicketOut})
def ticket_create(request, payload: TicketIn):
    ticket = services.ticket_create(actor=request.user, **payload.dict())
    return Status(201, ticket)


@router.get("/tickets/{ticket_id}", response=TicketOut)
def ticket_detail(request, ticket_id: int):
    return ticket_get(viewer=request.user, pk=ticket_id)


class ReplyIn(Strict):
    body: str = Field(max_length=services.LIMITS["body"])
    internal: bool = False
    wait: bool = False


@router.post("/tickets/{ticket_id}/reply", response=TicketOut)
def ticket_reply(request, ticket_id: int, payload: ReplyIn):
    services.ticket_reply(actor=request.user, ticket_id=ticket_id, **payload.dict())
    return ticket_get(viewer=request.user, pk=ticket_id)


class StatusIn(Strict):
    status: str
    note: str = Field("", max_length=services.LIMITS["note"])
    resolution: str = Field("", max_length=services.LIMITS["resolution"])


@router.post("/tickets/{ticket_id}/status", response=TicketOut)
def ticket_status(request, ticket_id: int, payload: StatusIn):
    services.ticket_transition(
        actor=request.user,
        ticket_id=ticket_id,
        to_status=payload.status,
        note=payload.note,
        resolution=payload.resolution,
    )
    return ticket_get(viewer=request.user, pk=ticket_id)


class AssignIn(Strict):
    assignee_id: int | None = None  # None: by skill and load
    note: str = Field("", max_length=services.LIMITS["note"])


@router.post("/tickets/{ticket_id}/assign", response=TicketOut)
def ticket_assign(request, ticket_id: int, payload: AssignIn):
    services.ticket_assign(
        actor=request.user, ticket_id=ticket_id, assignee_id=payload.assignee_id, note=payload.note
    )
    return ticket_get(viewer=request.user, pk=ticket_id)


# --- the manager's settings: SLA policies and skills ------------------------------------------


class SlaPolicyOut(Schema):
    type: str
    priority: str
    first_response_hours: float
    resolution_hours: float
    warn_before_hours: float
    stored: bool


def _not_a_bool(value):
    """JSON true is no number of hours (pydantic's float would read it as 1)."""
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "Input should be a valid number")
    return value


Hours = Annotated[float, BeforeValidator(_not_a_bool)]


class SlaPolicyIn(Strict):
    first_response_hours: Hours
    resolution_hours: Hours
    warn_before_hours: Hours = 2


def _manager_only(user) -> None:
    if not can_manage_service(user):
        raise Forbidden(_("Only managers change SLA policies and skills."))


@router.get("/sla-policies", response=list[SlaPolicyOut])
def sla_policies(request):
    _manager_only(request.user)
    return [vars(row) for row in sla_policy_rows()]


@router.put("/sla-policies/{type}/{priority}", response=SlaPolicyOut)
def sla_policy_put(request, type: str, priority: str, payload: SlaPolicyIn):
    services.sla_policy_set(
        actor=request.user,
        type=type,
        priority=priority,
        first_response_hours=payload.first_response_hours,
        resolution_hours=payload.resolution_hours,
        warn_before_hours=payload.warn_before_hours,
    )
    return next(vars(r) for r in sla_policy_rows() if (r.type, r.priority) == (type, priority))


class SkillOut(Schema):
    type: str
    product_id: int | None


class AgentSkillsOut(Schema):
    user_id: int
    name: str
    org_unit_id: int | None
    skills: list[SkillOut]


class AgentSkillsIn(Strict):
    types: list[str] = Field(default_factory=list, max_length=10)
    product_ids: list[int] = Field(default_factory=list, max_length=200)


def _agent_out(agent) -> dict:
    return {
        "user_id": agent.pk,
        "name": str(agent),
        "org_unit_id": agent.org_unit_id,
        "skills": [
            {"type": s.type, "product_id": s.product_id} for s in agent.service_skills.all()
        ],
    }


@router.get("/skills", response=list[AgentSkillsOut])
def skills(request):
    _manager_only(request.user)
    return [_agent_out(a) for a in skill_agents(viewer=request.user)]


@router.put("/skills/{user_id}", response=AgentSkillsOut)
def skills_put(request, user_id: int, payload: AgentSkillsIn):
    services.agent_skill_set(
        actor=request.user, user_id=user_id, types=payload.types, product_ids=payload.product_ids
    )
    return _agent_out(next(a for a in skill_agents(viewer=request.user) if a.pk == user_id))
