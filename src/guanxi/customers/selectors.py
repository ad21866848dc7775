"""Reads of customer data, always through visibility (core.visibility)."""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Left
from django.db.models.lookups import Exact
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.models import User
from guanxi.core.visibility import (
    customer_visibility_parts,
    customer_visibility_q,
    sees_unmasked,
)

from .keys import email_key, fold, pinyin_keys, prefix_q
from .list_filters import list_filter, list_filters
from .models import Customer, CustomerPhone

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
SIMILAR_NAME_SCORE = 85


def mark_masking(viewer: User, customers) -> None:
    """Set, per customer, whether this viewer reads its sensitive fields in clear."""
    for customer in customers:
        customer.viewer_unmasked = sees_unmasked(viewer, customer)


def customer_get(*, viewer: User, pk: int, for_update: bool = False) -> Customer:
    """A visible customer, or NotFound — the same answer for missing and forbidden."""
    qs = Customer.objects.filter(customer_visibility_q(viewer))
    if for_update:
        # Lock the customer row only: PostgreSQL refuses FOR UPDATE on the nullable side of
        # the outer joins select_related adds (segment, owner).
        qs = qs.select_for_update(of=("self",))
    customer = qs.select_related("segment", "owner", "org_unit").filter(pk=pk).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    customer.viewer_unmasked = sees_unmasked(viewer, customer)
    return customer


def customer_phones(*, viewer: User, customer: Customer) -> list[CustomerPhone]:
    phones = list(customer.phones.order_by("-is_primary", "id"))
    for phone in phones:
        phone.viewer_unmasked = customer.viewer_unmasked
    return phones


@dataclass
class CustomerFilter:
    q: str = ""
    segment: int | None = None
    stage: str = ""
    relationship: str = ""
    owner: int | None = None
    tag: int | None = None
    org_unit: int | None = None
    archived: bool = False
    sort: str = "recent"  # "recent" (newest first) or "name" (pinyin order)
    # Filters other apps registered (customers.list_filters): {parameter: value}.
    extra: dict[str, str] = field(default_factory=dict)

    SORTS = ("recent", "name")

    @classmethod
    def from_params(cls, params) -> "CustomerFilter":
        def int_or_none(name: str) -> int | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            if not value.isdigit():
                raise ValidationFailed.single(
                    name, "invalid", _("%(name)s must be a number.") % {"name": name}
                )
            return int(value)

        sort = params.get("sort") or "recent"
        if sort not in cls.SORTS:
            raise ValidationFailed.single("sort", "invalid_choice", _("Unknown sort order."))
        extra = {}
        for flt in list_filters():
            value = (params.get(flt.name) or "").strip()
            if value:
                if value not in {v for v, _label in flt.choices()}:
                    raise ValidationFailed.single(
                        flt.name, "invalid_choice", _("Unknown filter value.")
                    )
                extra[flt.name] = value
        return cls(
            q=(params.get("q") or "").strip()[:100],
            segment=int_or_none("segment"),
            stage=params.get("stage") or "",
            relationship=params.get("relationship") or "",
            owner=int_or_none("owner"),
            tag=int_or_none("tag"),
            org_unit=int_or_none("org_unit"),
            archived=(params.get("archived") or "") in ("1", "true", "on"),
            sort=sort,
            extra=extra,
        )


@dataclass
class Page:
    items: list[Customer]
    next_cursor: str | None = None
    filters: CustomerFilter = field(default_factory=CustomerFilter)


# A search that matches at most this many customers (anyone's) is answered from the search
# indexes: their ids first, then visibility and order on those rows only. A broader one walks
# each visibility part newest first, testing rows as it goes: its matches are then common
# (over 0.2 % of a million), so the walk meets a page of them soon. Either way a page reads
# a few thousand rows at most, whatever the table's size.
SEARCH_CANDIDATES = 2000


@dataclass(frozen=True)
class Search:
    """A typed query: the condition on a customer row, and the ids of the customers matching
    it read straight from the search indexes (phone digits, pinyin, name, company, e-mail).

    `row_test` is the same condition in a form no index serves (left(name, n) = 'x'), for
    walking a visibility part: it tells the planner to walk, and its estimate is a fixed
    share, where PostgreSQL's estimate of LIKE 'x%' can be off a hundredfold (1 row
    expected, 9,000 found), which made it collect and sort every match instead.
    """

    condition: Q
    candidates: QuerySet
    row_test: Q


def parse_search(q: str) -> Search:
    """What a typed query matches: phone digits, last four, e-mail, pinyin, name, company."""
    text = fold(q)
    digits = re.sub(r"[\s\-+()]", "", text)
    if digits.isdigit():
        if len(digits) == 4:
            phones = CustomerPhone.objects.filter(last4=digits)
        else:
            national = digits[2:] if digits.startswith("86") and len(digits) > 11 else digits
            phones = CustomerPhone.objects.filter(prefix_q("national", national))
        # Tested per row through the phone's customer index, never materialised whole.
        condition = Q(Exists(phones.filter(customer_id=OuterRef("pk"))))
        return Search(
            condition=condition,
            candidates=phones.values_list("customer_id", flat=True),
            row_test=condition,
        )
    if "@" in text:
        prefixes = [("email_key", email_key(text))]
    else:
        lowered = text.lower()
        prefixes = [("name", text), ("company_key", lowered)]
        full, _initials = pinyin_keys(text)
        if full and full.isascii() and text.replace(" ", "").isascii():
            prefixes += [("name_pinyin", full), ("name_initials", full)]
        if lowered.isascii() and len(lowered) >= 3:  # "fang.w" finds fang.w@… before the "@"
            prefixes.append(("email_key", lowered))
    condition, row_test = Q(pk__in=[]), Q(pk__in=[])
    for name, prefix in prefixes:
        condition |= prefix_q(name, prefix)
        row_test |= Q(Exact(Left(name, len(prefix)), prefix))
    return Search(
        condition=condition,
        candidates=Customer.objects.filter(condition).values_list("id", flat=True),
        row_test=row_test,
    )


def search_q(q: str) -> Q:
    return parse_search(q).condition


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed.single(
            "cursor", "invalid_cursor", _("Invalid page cursor.")
        ) from exc
    if not isinstance(values, list) or not values:
        raise ValidationFailed.single("cursor", "invalid_cursor", _("Invalid page cursor."))
    return values


def customer_queryset(*, viewer: User, filters: CustomerFilter) -> QuerySet[Customer]:
    """Every visible customer the filters select, for exports and counts of small sets."""
    qs = Customer.objects.filter(customer_visibility_q(viewer))
    if filters.q:
        qs = qs.filter(search_q(filters.q))
    return _filtered(qs, filters)


def _filtered(qs: QuerySet[Customer], filters: CustomerFilter) -> QuerySet[Customer]:
    """The filters other than visibility and the typed query."""
    qs = qs.filter(archived_at__isnull=not filters.archived)
    if filters.segment:
        qs = qs.filter(segment_id=filters.segment)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.relationship:
        qs = qs.filter(relationship=filters.relationship)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.tag:
        qs = qs.filter(tags__id=filters.tag)
    if filters.org_unit:
        from guanxi.core.models import OrgUnit

        unit = OrgUnit.objects.filter(pk=filters.org_unit).first()
        qs = qs.filter(org_unit_id__in=unit.subtree_ids() if unit else [])
    for name, value in filters.extra.items():
        if flt := list_filter(name):
            qs = flt.apply(qs, value)
    return qs


def customer_list(
    *, viewer: User, filters: CustomerFilter, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of visible customers, by keyset: cost does not grow with the page's depth,
    nor with the table — each visibility part is read along its own index, at most
    `limit + 1` rows each, and the parts are merged (see customer_visibility_parts)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = _filtered(Customer.objects.all(), filters)
    parts = customer_visibility_parts(viewer)
    if filters.q:
        search = parse_search(filters.q)
        ids = list(search.candidates[: SEARCH_CANDIDATES + 1])
        if len(ids) <= SEARCH_CANDIDATES:
            # Few rows to look at: one query over them, visibility tested on each.
            qs, parts = qs.filter(pk__in=ids), [customer_visibility_q(viewer)]
        else:
            qs = qs.filter(search.row_test)
    if filters.sort == "name":
        order = ("name_pinyin", "id")
        if cursor:
            values = _decode_cursor(cursor)
            if not (len(values) == 2 and isinstance(values[0], str) and isinstance(values[1], int)):
                raise ValidationFailed.single("cursor", "invalid_cursor", _("Invalid page cursor."))
            name_key, last_id = values
            qs = qs.filter(Q(name_pinyin__gt=name_key) | Q(name_pinyin=name_key, id__gt=last_id))
    else:
        # Active customers: all archived_at IS NULL, so ordering by it first changes nothing,
        # but lets PostgreSQL read the (owner | unit, archived_at, id) indexes backwards in
        # order (it does not treat IS NULL as a constant the way it treats owner_id = 5).
        order = ("-id",) if filters.archived else ("-archived_at", "-id")
        if cursor:
            last_id = _decode_cursor(cursor)[0]
            if not isinstance(last_id, int):
                raise ValidationFailed.single("cursor", "invalid_cursor", _("Invalid page cursor."))
            qs = qs.filter(id__lt=last_id)
    # Each part yields only its sort keys (read from its index); the page's rows are then
    # loaded once, instead of building a model object for every row of every part.
    by_name = filters.sort == "name"
    keys = ("name_pinyin", "id") if by_name else ("id",)
    found: set[tuple] = set()
    for part_qs in [qs] if parts is None else [qs.filter(part) for part in parts]:
        found.update(part_qs.order_by(*order).values_list(*keys)[: limit + 1])
    chosen = sorted(found, reverse=not by_name)[: limit + 1]
    loaded = Customer.objects.select_related("segment", "owner").in_bulk([k[-1] for k in chosen])
    rows = [loaded[k[-1]] for k in chosen]
    items = rows[:limit]
    mark_masking(viewer, items)
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = _encode_cursor(
            [last.name_pinyin, last.id] if filters.sort == "name" else [last.id]
        )
    return Page(items=items, next_cursor=next_cursor, filters=filters)


@dataclass
class DuplicateCandidates:
    """Possible duplicates: those the viewer may see, and a count of the others."""

    visible: list[Customer]
    hidden_count: int
    reasons: dict[int, list[str]]


def find_duplicates(
    *,
    viewer: User,
    name: str,
    phones: list[str] = (),
    email: str = "",
    exclude_id: int | None = None,
) -> DuplicateCandidates:
    """Same normalised phone or e-mail, or a similar name (rapidfuzz) with the same initials."""
    reasons: dict[int, list[str]] = {}
    if phones:
        for customer_id in CustomerPhone.objects.filter(number__in=phones).values_list(
            "customer_id", flat=True
        ):
            reasons.setdefault(customer_id, []).append("phone")
    if email:
        for customer_id in Customer.objects.filter(email_key=email_key(email)).values_list(
            "id", flat=True
        )[:20]:
            reasons.setdefault(customer_id, []).append("email")
    full, initials = pinyin_keys(name)
    if initials:
        candidates = Customer.objects.filter(name_initials=initials).values_list(
            "id", "name", "name_pinyin"
        )[:500]
        for customer_id, other_name, other_pinyin in candidates:
            if (
                max(fuzz.ratio(name, other_name), fuzz.ratio(full, other_pinyin))
                >= SIMILAR_NAME_SCORE
            ):
                reasons.setdefault(customer_id, []).append("name")
    reasons.pop(exclude_id, None)
    active = Customer.objects.filter(pk__in=reasons, merged_into__isnull=True)
    visible = list(active.filter(customer_visibility_q(viewer)).select_related("owner"))
    mark_masking(viewer, visible)
    hidden_count = active.count() - len(visible)
    return DuplicateCandidates(visible=visible, hidden_count=hidden_count, reasons=reasons)
