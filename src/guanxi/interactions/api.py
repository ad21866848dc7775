"""Interactions over JSON: log a touch, read the timeline, keep a promise, my day."""

from datetime import date, datetime

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from guanxi.core.timeline import timeline_for
from guanxi.core.validation import column_limit
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

from . import services
from .models import Interaction, Promise
from .selectors import my_day
from .windows import suggest_slots, windows_for

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class PromiseIn(Strict):
    text: str = Field(max_length=column_limit(Promise, "text"))
    due_date: date


class InteractionIn(Strict):
    kind: Interaction.Kind
    summary: str = Field(max_length=column_limit(Interaction, "summary"))
    occurred_at: datetime | None = None
    outcome: Interaction.Outcome = Interaction.Outcome.NONE
    next_step: str = Field(default="", max_length=column_limit(Interaction, "next_step"))
    promises: list[PromiseIn] = []
    next_follow_up_at: datetime | None = None
    # The relationship type judged on this touch (absent: unchanged); owner or manager only.
    relationship: Customer.Relationship | None = None


class InteractionOut(Schema):
    id: int
    customer_id: int
    kind: str
    occurred_at: datetime
    outcome: str
    summary: str
    next_step: str
    actor_id: int
    next_follow_up_at: datetime | None
    follow_up_rule: str


@router.post("/customers/{customer_id}/interactions", response={201: InteractionOut})
def interactions_log(request, customer_id: int, payload: InteractionIn):
    """Log a touch; the customer's next follow-up is rescheduled by the cadence rules."""
    interaction = services.interaction_log(
        actor=request.user,
        customer_id=customer_id,
        kind=payload.kind,
        summary=payload.summary,
        occurred_at=payload.occurred_at,
        outcome=payload.outcome,
        next_step=payload.next_step,
        promises=[(p.text, p.due_date) for p in payload.promises],
        next_follow_up_at=payload.next_follow_up_at,
        relationship=payload.relationship,
    )
    customer = customer_get(viewer=request.user, pk=customer_id)
    return Status(
        201,
        InteractionOut(
            id=interaction.id,
            customer_id=customer_id,
            kind=interaction.kind,
            occurred_at=interaction.occurred_at,
            outcome=interaction.outcome,
            summary=interaction.summary,
            next_step=interaction.next_step,
            actor_id=interaction.actor_id,
            next_follow_up_at=customer.next_follow_up_at,
            follow_up_rule=customer.follow_up_rule,
        ),
    )


class TimelineEventOut(Schema):
    at: datetime
    kind: str
    title: str
    body: str
    actor: str
    badges: list[str]


@router.get("/customers/{customer_id}/timeline", response=list[TimelineEventOut])
def customer_timeline(request, customer_id: int, kind: str = "", limit: int = 100):
    customer = customer_get(viewer=request.user, pk=customer_id)
    return timeline_for(
        customer=customer,
        viewer=request.user,
        kinds=[kind] if kind else None,
        limit=max(1, min(limit, 500)),
    )


class SlotsOut(Schema):
    source: str
    slots: list[datetime]


@router.get("/customers/{customer_id}/contact-slots", response=SlotsOut)
def contact_slots(request, customer_id: int):
    """The next good moments to reach this customer (own window, learned, or defaults)."""
    customer = customer_get(viewer=request.user, pk=customer_id)
    windows = windows_for(customer)
    return SlotsOut(source=windows.source, slots=suggest_slots(customer, windows=windows))


class PromiseOut(Schema):
    id: int
    customer_id: int
    text: str
    due_date: date
    done_at: datetime | None


@router.post("/promises/{promise_id}/done", response=PromiseOut)
def promise_done(request, promise_id: int):
    return services.promise_complete(actor=request.user, promise_id=promise_id)


class FollowUpOut(Schema):
    customer_id: int
    name: str
    next_follow_up_at: datetime | None
    next_step: str


class MyDayOut(Schema):
    day: date
    overdue: list[FollowUpOut]
    overdue_count: int
    due_today: list[FollowUpOut]
    due_today_count: int
    promises: list[PromiseOut]
    more_promises: bool


@router.get("/my-day", response=MyDayOut)
def my_day_api(request):
    """Today's overdue and due follow-ups and due promises: the most urgent first, at most
    20 of each, with the totals."""
    day = my_day(user=request.user)

    def rows(customers):
        return [
            FollowUpOut(
                customer_id=c.id,
                name=c.name,
                next_follow_up_at=c.next_follow_up_at,
                next_step=c.follow_up_step,
            )
            for c in customers
        ]

    return MyDayOut(
        day=day.day,
        overdue=rows(day.overdue),
        overdue_count=day.overdue_count,
        due_today=rows(day.due_today),
        due_today_count=day.due_today_count,
        promises=day.promises,
        more_promises=day.more_promises,
    )


class GreetingIn(Strict):
    occasion: str = Field(max_length=20)
    channel: str = Field(default="", max_length=10)
    text: str = Field(default="", max_length=1000)


class GreetingOut(Schema):
    sent: bool
    channel: str
    reason: str
    reason_label: str


@router.post("/customers/{customer_id}/greetings", response=GreetingOut)
def greetings_send(request, customer_id: int, payload: GreetingIn):
    """Send the customer an occasion's greeting through the contact policy; `sent` false
    with a `reason` when the policy held it back (logged on the customer's timeline)."""
    outcome = services.greeting_send(
        actor=request.user,
        customer_id=customer_id,
        occasion=payload.occasion,
        channel=payload.channel,
        text=payload.text,
    )
    return GreetingOut(
        sent=outcome.sent,
        channel=outcome.channel,
        reason=outcome.reason,
        reason_label=outcome.reason_label,
    )
