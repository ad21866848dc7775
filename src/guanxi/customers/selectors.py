"""Reads of customer data, always through visibility (core.visibility)."""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Left
from django.db.models.lookups import Exact
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.models import OrgUnit, User
from guanxi.core.visibility import (
    customer_visibility_parts,
    customer_visibility_q,
    hidden_load_q,
    hides_contact_details,
    sees_unmasked,
)

from . import search_index
from .keys import email_key, fold, pinyin_keys, prefix_q
from .list_columns import SORT_FIELDS, SORTS
from .list_filters import list_filter, list_filters
from .models import Customer, CustomerPhone, Tag

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
SIMILAR_NAME_SCORE = 85


def mark_masking(viewer: User, customers) -> None:
    """Set, per customer, whether this viewer reads its sensitive fields in clear."""
    for customer in customers:
        customer.viewer_unmasked = sees_unmasked(viewer, customer)
        customer.viewer_contact_hidden = hides_contact_details(viewer, customer)


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
    customer.viewer_contact_hidden = hides_contact_details(viewer, customer)
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
    # "recent" (newest first), "name" (pinyin order) or a column's (list_columns.SORTS).
    sort: str = "recent"
    # Filters other apps registered (customers.list_filters): {parameter: value}.
    extra: dict[str, str] = field(default_factory=dict)
    # A selection of rows (the list's ticked boxes, for a bulk action or an export).
    ids: list[int] = field(default_factory=list)

    SORTS = SORTS
    MAX_IDS = 500

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
        if sort == "-created":
            sort = "recent"
        raw_ids = params.getlist("ids") if hasattr(params, "getlist") else [params.get("ids")]
        ids: list[int] = []
        for chunk in raw_ids:
            for part in str(chunk or "").split(","):
                if part.strip():
                    if not part.strip().isdigit() or len(part.strip()) > 18:
                        raise ValidationFailed.single(
                            "ids", "invalid", _("The selection must be customer numbers.")
                        )
                    ids.append(int(part))
        if len(ids) > cls.MAX_IDS:
            raise ValidationFailed.single(
                "ids",
                "too_many",
                _("Select at most %(n)d customers, or act on the whole filter.")
                % {"n": cls.MAX_IDS},
            )
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
            ids=sorted(set(ids)),
        )

    def query_params(self) -> dict[str, str]:
        """The filters as the list's query string would carry them (for a worker's run)."""
        params = {
            "q": self.q,
            "segment": self.segment or "",
            "stage": self.stage,
            "relationship": self.relationship,
            "owner": self.owner or "",
            "tag": self.tag or "",
            "org_unit": self.org_unit or "",
            "archived": "1" if self.archived else "",
            "ids": ",".join(map(str, self.ids)),
            **self.extra,
        }
        return {k: str(v) for k, v in params.items() if v}


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
EXACT_CANDIDATES = 200

# Ranks of a match, best first (customer_list with a typed query, newest first in each).
EXACT, PREFIX, WORD, SUBSTRING = range(4)
RANKS = 4

_NOTHING = Q(pk__in=[])
_WORD_BREAK = r"(^|[^0-9a-z])"


@dataclass(frozen=True)
class Search:
    """A typed query: the condition on a customer row, and the ids of the customers matching
    it read straight from the search indexes (phone digits, pinyin, name, company, e-mail).

    `row_test` is the same condition in a form no index serves (left(name, n) = 'x'), for
    walking a visibility part: it tells the planner to walk, and its estimate is a fixed
    share, where PostgreSQL's estimate of LIKE 'x%' can be off a hundredfold (1 row
    expected, 9,000 found), which made it collect and sort every match instead.

    Beside these prefix matches, `term` is looked up in the word and substring index
    (search_index.py): `substring_ids()` reads its matches from the index, and
    `substring_test` is the same condition on a customer row, for walking. `exact` selects
    the customers whose name, e-mail or phone is exactly what was typed.
    """

    condition: Q
    candidates: QuerySet
    row_test: Q
    typed: str = ""
    term: str = ""
    substring_test: Q = _NOTHING
    exact: Q = _NOTHING
    exact_phone_ids: QuerySet | None = None

    def substring_ids(self, limit: int) -> list[int]:
        return search_index.matching_ids(self.term, limit) if self.term else []

    def substring_q(self) -> Q:
        """The substring condition for a query over many rows (exports): ids from the index."""
        sql, params = search_index.match_sql(self.term) if self.term else ("", [])
        return Q(pk__in=RawSQL(sql, params)) if sql else _NOTHING


def _substring_test(term: str) -> Q:
    """`term` in the name, company, e-mail, address or a tag, tested on the customer row:
    what the index answers, for walking a visibility part (search_index.py)."""
    if not search_index.searchable(term):
        return _NOTHING
    if search_index.is_short_term(term) and term.isascii():
        # A one- or two-letter Latin word: the whole word (Wei Li), not any "li" inside one.
        pattern = _WORD_BREAK + re.escape(term) + "([^0-9a-z]|$)"
        tags = Tag.objects.filter(customers=OuterRef("pk"), name__iregex=pattern)
        return Q(name__iregex=pattern) | Q(company__iregex=pattern) | Q(Exists(tags))
    tags = Tag.objects.filter(customers=OuterRef("pk"), name__icontains=term)
    test = Q(name__icontains=term) | Q(company_key__contains=term) | Q(Exists(tags))
    if not search_index.is_short_term(term):
        test |= (
            Q(email_key__contains=term)
            | Q(address__icontains=term)
            | Q(district__contains=term)
            | Q(city__contains=term)
            | Q(province__contains=term)
        )
    return test


def parse_search(q: str) -> Search:
    """What a typed query matches: phone digits, last four, e-mail, pinyin, name, company —
    and any word or part of the name, company, e-mail, address or tags."""
    text = fold(q)
    term = search_index.normalize_term(text)
    digits = re.sub(r"[\s\-+()]", "", text)
    if digits.isdigit():
        if len(digits) == 4:
            phones = CustomerPhone.objects.filter(last4=digits)
        else:
            national = digits[2:] if digits.startswith("86") and len(digits) > 11 else digits
            phones = CustomerPhone.objects.filter(prefix_q("national", national))
        exact_phones = CustomerPhone.objects.filter(national=digits)
        # Tested per row through the phone's customer index, never materialised whole.
        condition = Q(Exists(phones.filter(customer_id=OuterRef("pk"))))
        # Digits also appear in e-mails and addresses (c1024@…, 人民路188号): three or more.
        substring = term if len(term) >= search_index.MIN_TRIGRAM else ""
        return Search(
            condition=condition,
            candidates=phones.values_list("customer_id", flat=True),
            row_test=condition,
            typed=term,
            term=substring,
            substring_test=_substring_test(substring) if substring else _NOTHING,
            exact=Q(pk__in=exact_phones.values("customer_id")),
            exact_phone_ids=exact_phones.values_list("customer_id", flat=True),
        )
    if "@" in text:
        prefixes = [("email_key", email_key(text))]
        exact = Q(email_key=email_key(text))
    else:
        lowered = text.lower()
        prefixes = [("name", text), ("company_key", lowered)]
        exact = Q(name=text)
        full, _initials = pinyin_keys(text)
        if full and full.isascii() and text.replace(" ", "").isascii():
            prefixes += [("name_pinyin", full), ("name_initials", full)]
        if lowered.isascii() and len(lowered) >= 3:  # "fang.w" finds fang.w@… before the "@"
            prefixes.append(("email_key", lowered))
    condition, row_test = Q(pk__in=[]), Q(pk__in=[])
    for name, prefix in prefixes:
        condition |= prefix_q(name, prefix)
        row_test |= Q(Exact(Left(name, len(prefix)), prefix))
    substring = term if search_index.searchable(term) else ""
    return Search(
        condition=condition,
        candidates=Customer.objects.filter(condition).values_list("id", flat=True),
        row_test=row_test,
        typed=term,
        term=substring,
        substring_test=_substring_test(substring) if substring else _NOTHING,
        exact=exact,
    )


def search_q(q: str) -> Q:
    search = parse_search(q)
    return search.condition | search.substring_q()


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
        search = parse_search(filters.q)
        matched = search.condition | (
            search.substring_test if filters.archived else search.substring_q()
        )
        qs = qs.filter(matched)
    return _filtered(qs, filters)


def _filtered(qs: QuerySet[Customer], filters: CustomerFilter) -> QuerySet[Customer]:
    """The filters other than visibility and the typed query (and never an unpublished
    bulk load's rows, which no visibility part excludes on its own)."""
    qs = qs.filter(hidden_load_q(), archived_at__isnull=not filters.archived)
    if filters.ids:
        qs = qs.filter(pk__in=filters.ids)
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
        unit = OrgUnit.objects.filter(pk=filters.org_unit).first()
        qs = qs.filter(org_unit_id__in=unit.subtree_ids() if unit else [])
    for name, value in filters.extra.items():
        if flt := list_filter(name):
            qs = flt.apply(qs, value)
    return qs


def _bounded(ids, limit: int) -> list[int] | None:
    """All the ids (a queryset or a list), or None when there are more than `limit`."""
    ids = list(ids[: limit + 1])
    return ids if len(ids) <= limit else None


def _substring_candidates(search: "Search", filters: CustomerFilter) -> list[int] | None:
    """The index's matches when few; None when many, or for archived customers (not in the
    index: they are tested row by row)."""
    if not search.term:
        return []
    if filters.archived:
        return None
    return _bounded(search.substring_ids(SEARCH_CANDIDATES + 1), SEARCH_CANDIDATES)


@dataclass
class _Tier:
    """One rank of a ranked search page: its ids (few, already known), the word and
    substring index read newest first (`indexed`), or a test walked along each visibility
    part."""

    ids: list[int] | None = None
    indexed: bool = False
    test: Q | None = None


def _newest_ids(qs: QuerySet, parts, order, count: int) -> list[int]:
    found: set[int] = set()
    for part_qs in [qs] if parts is None else [qs.filter(part) for part in parts]:
        found.update(part_qs.order_by(*order).values_list("id", flat=True)[:count])
    return sorted(found, reverse=True)[:count]


def _rank_candidates(viewer, qs, search: Search, prefix_ids, substring_ids) -> list[tuple]:
    """Every visible match of a narrow search with its rank: (rank, -id, id), best first."""
    ids = set(prefix_ids) | set(substring_ids)
    if not ids:
        return []
    rows = (
        qs.filter(pk__in=ids)
        .filter(customer_visibility_q(viewer))
        .values_list("id", "name", "name_pinyin", "company_key", "email_key")
        .order_by()
    )
    term = search.typed
    compact = term.replace(" ", "")
    exact_phones = set(search.exact_phone_ids) if search.exact_phone_ids is not None else set()
    prefix = set(prefix_ids)
    word = re.compile(_WORD_BREAK + re.escape(term)) if term and term.isascii() else None
    ranked = []
    for cid, name, pinyin, company, email in rows:
        lowered = name.lower()
        if cid in exact_phones or term in (lowered, email, company) or (compact == pinyin):
            rank = EXACT
        elif cid in prefix:
            rank = PREFIX
        elif word and (word.search(lowered) or word.search(company) or word.search(email)):
            rank = WORD
        else:
            rank = SUBSTRING
        ranked.append((rank, -cid, cid))
    ranked.sort()
    return ranked


def _ranked_page(*, viewer, qs, parts, filters, search: Search, cursor, limit) -> Page:
    """A page of a typed query's matches: exact name, e-mail or phone first, then prefixes
    (name, pinyin, company, e-mail, phone), then whole words, then any other part; newest
    first within each. The cursor is (rank, last id)."""
    after = None
    if cursor:
        values = _decode_cursor(cursor)
        if not (
            len(values) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
            and 0 <= values[0] < RANKS
        ):
            raise ValidationFailed.single("cursor", "invalid_cursor", _("Invalid page cursor."))
        after = (values[0], -values[1])
    prefix_ids = _bounded(search.candidates, SEARCH_CANDIDATES)
    substring_ids = _substring_candidates(search, filters)
    order = ("-id",) if filters.archived else ("-archived_at", "-id")
    chosen: list[tuple] = []
    if prefix_ids is not None and substring_ids is not None:
        # Narrow: every match is known; rank them all (a few thousand at most).
        ranked = _rank_candidates(viewer, qs, search, prefix_ids, substring_ids)
        chosen = [r for r in ranked if after is None or r[:2] > after][: limit + 1]
    else:
        # Broad: exact matches, then prefixes, then the rest, each walked newest first.
        exact_ids = list(
            qs.filter(search.exact).order_by("-id").values_list("id", flat=True)[:EXACT_CANDIDATES]
        )
        prefix = _Tier(ids=prefix_ids) if prefix_ids is not None else _Tier(test=search.row_test)
        if substring_ids is not None:
            rest = _Tier(ids=[i for i in substring_ids if i not in set(prefix_ids or ())])
        elif filters.archived:
            rest = _Tier(test=search.substring_test)
        else:
            # Many matches in the index: read along it newest first, each tested for
            # visibility by its primary key (one query), not along each visibility part — a
            # manager's ten units would each walk thousands of rows for a term of 1 %.
            rest = _Tier(indexed=True)
        tiers = [(EXACT, _Tier(ids=exact_ids)), (PREFIX, prefix), (SUBSTRING, rest)]
        earlier: set[int] = set()
        for rank, tier in tiers:
            if after is not None and rank < after[0]:
                earlier.update(tier.ids or ())
                continue
            tier_qs = qs.exclude(pk__in=earlier) if earlier else qs
            if rank == SUBSTRING and prefix_ids is None:
                tier_qs = tier_qs.exclude(search.row_test)
            if after is not None and rank == after[0]:
                tier_qs = tier_qs.filter(id__lt=-after[1])
            need = limit + 1 - len(chosen)
            if tier.ids is not None:
                ids = _newest_ids(
                    tier_qs.filter(pk__in=tier.ids), [customer_visibility_q(viewer)], ("-id",), need
                )
            elif tier.indexed:
                visible = tier_qs.filter(customer_visibility_q(viewer))
                ids = search_index.newest_matching_ids(search.term, visible, need)
            else:
                ids = _newest_ids(tier_qs.filter(tier.test), parts, order, need)
            chosen += [(rank, -cid, cid) for cid in ids]
            earlier.update(tier.ids or ())
            if len(chosen) > limit:
                break
    loaded = Customer.objects.select_related("segment", "owner").in_bulk([c[2] for c in chosen])
    items = [loaded[c[2]] for c in chosen[:limit]]
    for (rank, _neg, _cid), item in zip(chosen, items, strict=False):
        item.search_rank = rank
    mark_masking(viewer, items)
    mark_matches(items, search.typed)
    next_cursor = None
    if len(chosen) > limit:
        rank, _neg, last_id = chosen[limit - 1]
        next_cursor = _encode_cursor([rank, last_id])
    return Page(items=items, next_cursor=next_cursor, filters=filters)


def mark_matches(items: list[Customer], q: str) -> None:
    """Set `search_match` on each item: (field label, text) of the first field other than
    the name and company that contains the typed term, for the list to show highlighted."""
    term = search_index.normalize_term(q)
    if not term:
        return
    missing = []
    for item in items:
        item.search_term = term
        item.search_match = None
        if term in item.name.lower() or term in item.company.lower():
            continue
        address = search_index._address(item.province, item.city, item.district, item.address)
        for label, text in ((_("E-mail"), item.email), (_("Address"), address)):
            if text and term in text.lower():
                item.search_match = (label, text)
                break
        else:
            missing.append(item)
    if missing and search_index.searchable(term):
        through = Customer.tags.through.objects.filter(
            customer_id__in=[i.pk for i in missing], tag__name__icontains=term
        )
        tags = dict(through.values_list("customer_id", "tag__name"))
        for item in missing:
            if item.pk in tags:
                item.search_match = (_("Tag"), tags[item.pk])


def customer_list(
    *, viewer: User, filters: CustomerFilter, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page:
    """One page of visible customers, by keyset: cost does not grow with the page's depth,
    nor with the table — each visibility part is read along its own index, at most
    `limit + 1` rows each, and the parts are merged (see customer_visibility_parts).

    With a typed query and the default order, the page is ranked (_ranked_page)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = _filtered(Customer.objects.all(), filters)
    parts = customer_visibility_parts(viewer)
    if filters.q and filters.sort == "recent":
        return _ranked_page(
            viewer=viewer,
            qs=qs,
            parts=parts,
            filters=filters,
            search=parse_search(filters.q),
            cursor=cursor,
            limit=limit,
        )
    if filters.q:
        search = parse_search(filters.q)
        ids = _bounded(search.candidates, SEARCH_CANDIDATES)
        more = _substring_candidates(search, filters)
        if ids is not None and more is not None:
            # Few rows to look at: one query over them, visibility tested on each.
            ids = sorted(set(ids) | set(more))
            qs, parts = qs.filter(pk__in=ids), [customer_visibility_q(viewer)]
        else:
            qs = qs.filter(search.row_test | search.substring_test)
    if filters.sort in SORT_FIELDS:
        return _column_sorted_page(
            viewer=viewer, qs=qs, parts=parts, filters=filters, cursor=cursor, limit=limit
        )
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
    if filters.q:
        mark_matches(items, filters.q)
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = _encode_cursor(
            [last.name_pinyin, last.id] if filters.sort == "name" else [last.id]
        )
    return Page(items=items, next_cursor=next_cursor, filters=filters)


def _cursor_value(name: str, raw):
    """A column sort's cursor value back in the field's type; refused when it is not one."""
    model_field = Customer._meta.get_field(name)
    if raw is None:
        if not model_field.null:
            raise ValidationFailed.single("cursor", "invalid_cursor", _("Invalid page cursor."))
        return None
    try:
        if name == "id":
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
        elif model_field.get_internal_type() == "DateTimeField" and isinstance(raw, str):
            value = datetime.fromisoformat(raw)
            if value.tzinfo is not None:
                return value
        elif model_field.get_internal_type() == "DecimalField" and isinstance(raw, str):
            return Decimal(raw)
        elif isinstance(raw, str):
            return raw
    except (ValueError, InvalidOperation):
        pass
    raise ValidationFailed.single("cursor", "invalid_cursor", _("Invalid page cursor."))


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _after_q(name: str, desc: bool, value, last_id: int) -> Q:
    """The rows after (value, id) in the order `name` (asc or desc, empty values last), id."""
    if name == "id":
        return Q(id__lt=last_id) if desc else Q(id__gt=last_id)
    beyond = "lt" if desc else "gt"
    if value is None:
        return Q(**{f"{name}__isnull": True, f"id__{beyond}": last_id})
    return (
        Q(**{f"{name}__{beyond}": value})
        | Q(**{name: value, f"id__{beyond}": last_id})
        | Q(**{f"{name}__isnull": True})
    )


def _column_sorted_page(*, viewer, qs, parts, filters: CustomerFilter, cursor, limit) -> Page:
    """A page sorted by a column (list_columns.SORT_FIELDS), by keyset: the cursor is the
    last row's (value, id), so a page costs the same at any depth; customers with no value
    (no follow-up set) come last, in id order."""
    name, desc = SORT_FIELDS[filters.sort]
    if cursor:
        values = _decode_cursor(cursor)
        if len(values) != 2 or not isinstance(values[1], int) or isinstance(values[1], bool):
            raise ValidationFailed.single("cursor", "invalid_cursor", _("Invalid page cursor."))
        qs = qs.filter(_after_q(name, desc, _cursor_value(name, values[0]), values[1]))
    if name == "id":
        order = ("-id",) if desc else ("id",)
    else:
        order = (
            (F(name).desc(nulls_last=True), "-id") if desc else (F(name).asc(nulls_last=True), "id")
        )
    keys = (name, "id") if name != "id" else ("id", "id")
    found: set[tuple] = set()
    for part_qs in [qs] if parts is None else [qs.filter(part) for part in parts]:
        found.update(part_qs.order_by(*order).values_list(*keys)[: limit + 1])
    present = sorted((k for k in found if k[0] is not None), reverse=desc)
    missing = sorted((k for k in found if k[0] is None), key=lambda k: k[1], reverse=desc)
    chosen = (present + missing)[: limit + 1]
    loaded = Customer.objects.select_related("segment", "owner").in_bulk([k[1] for k in chosen])
    items = [loaded[k[1]] for k in chosen[:limit]]
    mark_masking(viewer, items)
    if filters.q:
        mark_matches(items, filters.q)
    next_cursor = None
    if len(chosen) > limit:
        value, last_id = chosen[limit - 1]
        next_cursor = _encode_cursor([_jsonable(value), last_id])
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
