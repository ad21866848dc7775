"""Sales over JSON: deals and their stages, deposits, agreements, payments, quotes, units."""

import datetime as dt
from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from guanxi.core.errors import NotFound
from guanxi.core.events import collect_effects
from guanxi.core.ids import Id
from guanxi.core.validation import column_limit

from . import services
from .models import Agreement, Deal, Payment, PipelineStage
from .pdf import agreement_pdf
from .selectors import board_units, deal_get, kanban

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class DealOut(Schema):
    id: int
    customer_id: int
    owner_id: int
    title: str
    stage: str
    amount: Decimal
    unit_id: int | None
    product_id: int | None
    in_default: bool
    lost_reason: str
    updated_at: dt.datetime


class DealIn(Strict):
    customer_id: Id
    title: str = Field(max_length=column_limit(Deal, "title"))
    amount: Decimal = Decimal("0")
    product_id: Id | None = None
    expected_close: dt.date | None = None


@router.post("/deals", response={201: DealOut})
def deal_create(request, payload: DealIn):
    deal = services.deal_create(
        actor=request.user,
        customer_id=payload.customer_id,
        title=payload.title,
        amount=payload.amount,
        product_id=payload.product_id,
        expected_close=payload.expected_close,
    )
    return Status(201, deal)


@router.get("/deals/{deal_id}", response=DealOut)
def deal_detail(request, deal_id: Id):
    return deal_get(viewer=request.user, pk=deal_id)


class MoveIn(Strict):
    stage: PipelineStage.Code
    lost_reason: str = ""


@router.post("/deals/{deal_id}/move", response=DealOut)
def deal_move(request, deal_id: Id, payload: MoveIn):
    """Move on the pipeline; the stage rules answer 409 with a `code` when refused."""
    return services.deal_move(
        actor=request.user, deal_id=deal_id, to_stage=payload.stage, lost_reason=payload.lost_reason
    )


class DepositIn(Strict):
    kind: str = Field(pattern="^(small_deposit|large_deposit)$")
    amount: Decimal
    unit_id: Id | None = None
    due_date: dt.date | None = None


@router.post("/deals/{deal_id}/deposit", response=DealOut)
def deal_deposit(request, deal_id: Id, payload: DepositIn):
    """Take 小定 / 大定: the unit is checked and reserved in the same transaction."""
    return services.deal_take_deposit(
        actor=request.user,
        deal_id=deal_id,
        kind=payload.kind,
        amount=payload.amount,
        unit_id=payload.unit_id,
        due_date=payload.due_date,
    )


class AgreementOut(Schema):
    id: int
    deal_id: int
    kind: str
    number: str
    content: dict
    issued_at: dt.datetime


@router.post("/deals/{deal_id}/agreement", response={201: AgreementOut})
def agreement_issue(request, deal_id: Id):
    return Status(201, services.agreement_issue(actor=request.user, deal_id=deal_id))


class AmendIn(Strict):
    changes: dict[str, str]
    reason: str


@router.post("/agreements/{agreement_id}/amend", response={201: AgreementOut})
def agreement_amend(request, agreement_id: Id, payload: AmendIn):
    return Status(
        201,
        services.agreement_amend(
            actor=request.user,
            agreement_id=agreement_id,
            changes=payload.changes,
            reason=payload.reason,
        ),
    )


@router.get("/agreements/{agreement_id}/pdf")
def agreement_download(request, agreement_id: Id):
    # Visible agreements only: a hidden one answers exactly as a missing one (no oracle).
    agreement = (
        Agreement.objects.filter(pk=agreement_id, deal__in=Deal.objects.visible_to(request.user))
        .select_related("deal")
        .first()
    )
    if agreement is None:
        raise NotFound(_("Agreement not found."))
    response = HttpResponse(agreement_pdf(agreement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{agreement.number}.pdf"'
    return response


class InstalmentIn(Strict):
    label: str
    due_date: dt.date
    amount: Decimal


@router.put("/deals/{deal_id}/schedule", response=list[dict])
def schedule_set(request, deal_id: Id, payload: list[InstalmentIn]):
    rows = services.schedule_set(
        actor=request.user, deal_id=deal_id, instalments=[p.dict() for p in payload]
    )
    return [
        {"id": r.pk, "label": r.label, "due_date": str(r.due_date), "amount": str(r.amount)}
        for r in rows
    ]


class PaymentIn(Strict):
    amount: Decimal
    method: Payment.Method
    receipt_number: str = Field(max_length=column_limit(Payment, "receipt_number"))
    deal_id: Id | None = None
    order_id: Id | None = None
    instalment_id: Id | None = None
    received_at: dt.datetime | None = None


class PaymentOut(Schema):
    id: int
    amount: Decimal
    method: str
    receipt_number: str
    deal_id: int | None
    order_id: int | None
    received_at: dt.datetime
    effects: list[dict] = []


@router.post("/payments", response={201: PaymentOut})
def payment_record(request, payload: PaymentIn):
    """Only finance records money received (403 `finance_only` for everyone else).
    `effects`: what other apps did at this transaction (points earned, a tier upgrade)."""
    with collect_effects() as effects:
        payment = services.payment_record(actor=request.user, **payload.dict())
    payment.effects = effects  # type: ignore[attr-defined]
    return Status(201, payment)


class QuoteIn(Strict):
    customer_id: Id
    product_id: Id
    price: Decimal
    deal_id: Id | None = None
    note: str = ""


class QuoteOut(Schema):
    id: int
    customer_id: int
    product_id: int
    price: Decimal
    list_price: Decimal
    discount_pct: Decimal
    status: str
    quoted_by_id: int


@router.post("/quotes", response={201: QuoteOut})
def quote_issue(request, payload: QuoteIn):
    """409 `standing_quote` when another salesperson's price stands for this customer."""
    return Status(201, services.quote_issue(actor=request.user, **payload.dict()))


@router.post("/quotes/{quote_id}/approve", response=QuoteOut)
def quote_approve(request, quote_id: Id, approve: bool = True):
    return services.quote_decide(actor=request.user, quote_id=quote_id, approve=approve)


class ChangeIn(Strict):
    kind: str
    reason: str
    unit_id: Id | None = None
    new_name: str = ""
    fee: Decimal | None = None  # a name change without one pays the default fee
    price: Decimal | None = None  # a price change (改价): the new price


@router.post("/deals/{deal_id}/changes", response={201: dict})
def change_request(request, deal_id: Id, payload: ChangeIn):
    change = services.change_request(
        actor=request.user,
        deal_id=deal_id,
        kind=payload.kind,
        reason=payload.reason,
        data={
            "unit_id": payload.unit_id,
            "new_name": payload.new_name,
            "fee": None if payload.fee is None else str(payload.fee),
            **({"price": str(payload.price)} if payload.price is not None else {}),
        },
    )
    return Status(201, {"id": change.pk, "status": change.status})


@router.post("/changes/{change_id}/decide", response=dict)
def change_decide(request, change_id: Id, approve: bool):
    change = services.change_decide(actor=request.user, change_id=change_id, approve=approve)
    return {"id": change.pk, "status": change.status}


class ColumnOut(Schema):
    stage: str
    count: int
    total: Decimal
    deal_ids: list[int]


@router.get("/pipeline", response=list[ColumnOut])
def pipeline(request, mine: bool = False):
    return [
        ColumnOut(
            stage=c.stage.code, count=c.count, total=c.total, deal_ids=[d.pk for d in c.deals]
        )
        for c in kanban(viewer=request.user, mine=mine)
    ]


class UnitOut(Schema):
    id: int
    code: str
    building: str
    floor: int | None
    status: str
    list_price: Decimal
    deal_id: int | None


@router.get("/units", response=list[UnitOut])
def units(request, product_id: Id | None = None):
    return list(board_units(product_id))


@router.post("/units/{unit_id}/release", response=UnitOut)
def unit_release(request, unit_id: Id, release: bool = True):
    return services.unit_set_release(actor=request.user, unit_id=unit_id, release=release)
