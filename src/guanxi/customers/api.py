"""Customers over JSON: the same services and selectors as the web pages."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from guanxi.core.errors import ValidationFailed
from guanxi.core.models import User
from guanxi.core.validation import column_limit
from guanxi.core.visibility import CONTACT_DETAIL_FIELDS

from . import services
from .models import Customer
from .selectors import CustomerFilter, customer_get, customer_list, customer_phones, find_duplicates

router = Router()


class Strict(Schema):
    """Unknown fields are an error (code `unknown_field`), never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class CustomerFields(Strict):
    kind: Customer.Kind = Customer.Kind.PERSON
    name: str = Field(max_length=column_limit(Customer, "name"))
    gender: Customer.Gender = Customer.Gender.UNKNOWN
    birthday: date | None = None
    email: str = ""
    wechat_id: str = ""
    id_number: str = ""
    annual_income: Decimal | None = Field(default=None, max_digits=14, decimal_places=2)
    assets_note: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    company: str = ""
    title: str = ""
    segment_id: int | None = None
    source: Customer.Source = Customer.Source.WALK_IN
    referred_by_id: int | None = None
    notes: str = ""
    stage: Customer.Stage = Customer.Stage.POTENTIAL
    relationship: Customer.Relationship = Customer.Relationship.NONE
    preferred_channel: Customer.Channel = Customer.Channel.NONE
    contact_window_start: time | None = None
    contact_window_end: time | None = None
    news_frequency: Customer.NewsFrequency = Customer.NewsFrequency.NORMAL
    do_not_contact: bool = False
    consent_phone: bool = True
    consent_sms: bool = True
    consent_email: bool = True
    consent_wechat: bool = True
    consent_post: bool = True


class CustomerCreateIn(CustomerFields):
    phones: list[str] = []
    tags: list[str] = []
    owner_id: int | None = None
    allow_similar: bool = False


class CustomerPatchIn(Strict):
    """Every field optional: only those sent change."""

    kind: Customer.Kind | None = None
    name: str | None = Field(default=None, max_length=column_limit(Customer, "name"))
    gender: Customer.Gender | None = None
    birthday: date | None = None
    email: str | None = None
    wechat_id: str | None = None
    id_number: str | None = None
    annual_income: Decimal | None = Field(default=None, max_digits=14, decimal_places=2)
    assets_note: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    company: str | None = None
    title: str | None = None
    segment_id: int | None = None
    source: Customer.Source | None = None
    referred_by_id: int | None = None
    notes: str | None = None
    stage: Customer.Stage | None = None
    relationship: Customer.Relationship | None = None
    preferred_channel: Customer.Channel | None = None
    contact_window_start: time | None = None
    contact_window_end: time | None = None
    news_frequency: Customer.NewsFrequency | None = None
    do_not_contact: bool | None = None
    consent_phone: bool | None = None
    consent_sms: bool | None = None
    consent_email: bool | None = None
    consent_wechat: bool | None = None
    consent_post: bool | None = None
    phones: list[str] | None = None
    tags: list[str] | None = None


class CustomerOut(Schema):
    """Sensitive fields arrive masked unless the caller is owner, manager or admin."""

    id: int
    kind: str
    name: str
    gender: str
    birthday: date | None
    email: str
    wechat_id: str
    phone: str
    phones: list[str]
    id_number: str
    annual_income: str
    province: str
    city: str
    district: str
    address: str
    company: str
    title: str
    segment_id: int | None
    source: str
    referred_by_id: int | None
    household_id: int | None
    tags: list[str]
    notes: str
    stage: str
    relationship: str
    preferred_channel: str
    do_not_contact: bool
    owner_id: int | None
    org_unit_id: int
    masked: bool
    archived_at: datetime | None
    merged_into_id: int | None
    last_contact_at: datetime | None
    next_follow_up_at: datetime | None
    revenue: Decimal
    created_at: datetime
    updated_at: datetime


class CustomerRowOut(Schema):
    id: int
    name: str
    phone: str
    company: str
    stage: str
    owner_id: int | None
    masked: bool


class CustomerPageOut(Schema):
    items: list[CustomerRowOut]
    next_cursor: str | None


def _field_value(customer: Customer, name: str) -> Any:
    if name in CONTACT_DETAIL_FIELDS:
        return customer.contact_display(name)
    return getattr(customer, name)


def _detail(viewer: User, customer: Customer) -> CustomerOut:
    phones = customer_phones(viewer=viewer, customer=customer)
    return CustomerOut(
        **{
            # Contact details read masked for marketers (core.visibility).
            name: _field_value(customer, name)
            for name in (
                "id",
                "kind",
                "name",
                "gender",
                "birthday",
                "email",
                "wechat_id",
                "province",
                "city",
                "district",
                "address",
                "company",
                "title",
                "segment_id",
                "source",
                "referred_by_id",
                "household_id",
                "notes",
                "stage",
                "relationship",
                "preferred_channel",
                "do_not_contact",
                "owner_id",
                "org_unit_id",
                "archived_at",
                "merged_into_id",
                "last_contact_at",
                "next_follow_up_at",
                "revenue",
                "created_at",
                "updated_at",
            )
        },
        phone=customer.primary_phone if customer.viewer_unmasked else customer.phone_display,
        phones=[p.number if customer.viewer_unmasked else p.display for p in phones],
        id_number=customer.id_number_display,
        annual_income=("" if customer.annual_income is None else str(customer.annual_income))
        if customer.viewer_unmasked
        else customer.annual_income_display,
        tags=list(customer.tags.values_list("name", flat=True)),
        masked=not customer.viewer_unmasked,
    )


def _row(customer: Customer) -> CustomerRowOut:
    return CustomerRowOut(
        id=customer.id,
        name=customer.name,
        company=customer.company,
        stage=customer.stage,
        owner_id=customer.owner_id,
        masked=not customer.viewer_unmasked,
        phone=customer.primary_phone if customer.viewer_unmasked else customer.phone_display,
    )


class ListParams(Schema):
    q: str = ""
    segment: int | None = None
    stage: str = ""
    relationship: str = ""
    owner: int | None = None
    tag: int | None = None
    org_unit: int | None = None
    archived: bool = False
    sort: str = "recent"
    cursor: str | None = None
    limit: int = Field(default=25, ge=1, le=200)


@router.get("", response=CustomerPageOut)
def customers_list(request, params: Query[ListParams]):
    """Visible customers, newest first (or `sort=name`); follow `next_cursor` for more.

    `q` searches as you type: name, pinyin or initials, phone or its last four digits,
    company, e-mail.
    """
    values = QueryDict(mutable=True)
    for key, value in params.dict(exclude={"cursor", "limit"}).items():
        if value not in (None, False, ""):
            values[key] = "1" if value is True else str(value)
    page = customer_list(
        viewer=request.user,
        filters=CustomerFilter.from_params(values),
        cursor=params.cursor,
        limit=params.limit,
    )
    return CustomerPageOut(items=[_row(c) for c in page.items], next_cursor=page.next_cursor)


@router.post("", response={201: CustomerOut})
def customers_create(request, payload: CustomerCreateIn):
    data = payload.dict(exclude={"phones", "tags", "owner_id", "allow_similar"})
    owner = None
    if payload.owner_id is not None:
        owner = User.objects.filter(pk=payload.owner_id).first()
        if owner is None:
            raise ValidationFailed.single("owner_id", "not_found", _("No such user."))
    customer = services.customer_create(
        actor=request.user,
        data=data,
        phones=payload.phones,
        tags=payload.tags,
        owner=owner,
        allow_similar=payload.allow_similar,
    )
    return Status(201, _detail(request.user, customer_get(viewer=request.user, pk=customer.pk)))


@router.get("/{int:customer_id}", response=CustomerOut)
def customers_get(request, customer_id: int):
    return _detail(request.user, customer_get(viewer=request.user, pk=customer_id))


@router.patch("/{int:customer_id}", response=CustomerOut)
def customers_update(request, customer_id: int, payload: CustomerPatchIn):
    data = payload.dict(exclude_unset=True)
    phones, tags = data.pop("phones", None), data.pop("tags", None)
    services.customer_update(
        actor=request.user, customer_id=customer_id, data=data, phones=phones, tags=tags
    )
    return _detail(request.user, customer_get(viewer=request.user, pk=customer_id))


class ReasonIn(Strict):
    reason: str = ""


@router.post("/{int:customer_id}/archive", response=CustomerOut)
def customers_archive(request, customer_id: int, payload: ReasonIn | None = None):
    services.customer_archive(
        actor=request.user, customer_id=customer_id, reason=payload.reason if payload else ""
    )
    return _detail(request.user, customer_get(viewer=request.user, pk=customer_id))


@router.post("/{int:customer_id}/restore", response=CustomerOut)
def customers_restore(request, customer_id: int):
    services.customer_restore(actor=request.user, customer_id=customer_id)
    return _detail(request.user, customer_get(viewer=request.user, pk=customer_id))


class RevealIn(Strict):
    field: str
    reason: str = ""


class RevealOut(Schema):
    field: str
    value: str | list[str]


@router.post("/{int:customer_id}/reveal", response=RevealOut)
def customers_reveal(request, customer_id: int, payload: RevealIn):
    """Reveal one sensitive field in clear. Every reveal is written to the audit log."""
    return services.customer_reveal(
        actor=request.user, customer_id=customer_id, field=payload.field, reason=payload.reason
    )


class DuplicateOut(Schema):
    id: int
    name: str
    reasons: list[str]


class DuplicatesOut(Schema):
    candidates: list[DuplicateOut]
    hidden_candidates: int


@router.get("/{int:customer_id}/duplicates", response=DuplicatesOut)
def customers_duplicates(request, customer_id: int):
    customer = customer_get(viewer=request.user, pk=customer_id)
    found = find_duplicates(
        viewer=request.user,
        name=customer.name,
        email=customer.email,
        phones=list(customer.phones.values_list("number", flat=True)),
        exclude_id=customer.pk,
    )
    return DuplicatesOut(
        candidates=[
            DuplicateOut(id=c.id, name=c.name, reasons=found.reasons[c.id]) for c in found.visible
        ],
        hidden_candidates=found.hidden_count,
    )


class MergeIn(Strict):
    keep_id: int
    merge_id: int


@router.post("/merge", response=CustomerOut)
def customers_merge(request, payload: MergeIn):
    """Merge `merge_id` into `keep_id`; every interaction, deal, ticket and point moves."""
    kept = services.customer_merge(
        actor=request.user, keep_id=payload.keep_id, merge_id=payload.merge_id
    )
    return _detail(request.user, customer_get(viewer=request.user, pk=kept.pk))
