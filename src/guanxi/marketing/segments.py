"""Segments (C7): saved dynamic filters over customers, materialised as member rows.

A rule is {"field": …, "op": …, "value": …}; a segment's rules are {"all": [rule, …]}
(every rule must hold). Fields come from a registry: this module registers the customer
record's fields, tags, consent, activity, last purchase and spend; the insights app adds
RFM, tier, lifecycle and churn watch with `register_segment_field` from its ready().

Membership is kept fresh two ways: a customer hook re-checks a changed customer against
every dynamic segment after the change commits, and `segment_rebuild` recomputes a
segment in one INSERT … SELECT (the nightly task rebuilds them all: running figures such
as last contact or revenue change without a customer hook).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import OrgUnit
from guanxi.customers.hooks import OWNER
from guanxi.customers.models import Customer
from guanxi.customers.models import Segment as CustomerSegment

from .models import Segment, SegmentMember


@dataclass
class SegmentField:
    """One filterable fact: `build(op, value)` returns a Q over Customer."""

    name: str
    label: object
    ops: tuple[str, ...]
    build: Callable[[str, object], Q]
    kind: str = "text"  # text, number, choice, bool, days
    choices: Callable[[], list[tuple[str, str]]] | None = None
    extra: dict = field(default_factory=dict)


_FIELDS: dict[str, SegmentField] = {}


def register_segment_field(segment_field: SegmentField) -> None:
    """Add a filter (insights: rfm, tier, lifecycle, churn watch). Replaces one of that name."""
    _FIELDS[segment_field.name] = segment_field


def segment_fields() -> list[SegmentField]:
    return list(_FIELDS.values())


def _text(column):
    def build(op, value):
        value = str(value).strip()
        return {
            "eq": Q(**{column: value}),
            "ne": ~Q(**{column: value}),
            "contains": Q(**{f"{column}__icontains": value}),
        }[op]

    return build


def _number(column, cast=Decimal):
    def build(op, value):
        number = cast(str(value))
        return {"gte": Q(**{f"{column}__gte": number}), "lte": Q(**{f"{column}__lte": number})}[op]

    return build


def _days_ago(column):
    """within: happened in the last N days; not_within: not in the last N days (or never)."""

    def build(op, value):
        since = timezone.now() - timedelta(days=int(value))
        if op == "within":
            return Q(**{f"{column}__gte": since})
        return Q(**{f"{column}__lt": since}) | Q(**{f"{column}__isnull": True})

    return build


def _bool(column):
    def build(op, value):
        return Q(**{column: bool(value) if op == "is" else not bool(value)})

    return build


def _tag(op, value):
    q = Q(tags__name=str(value).strip())
    # A subquery, not a join: a customer with two tags is still one member.
    inner = Customer.objects.filter(q).values("pk")
    return Q(pk__in=inner) if op == "has" else ~Q(pk__in=inner)


def _has(column):
    def build(op, value):
        return ~Q(**{column: ""}) if op == "is" and value else Q(**{column: ""})

    return build


def _consent(op, value):
    channel = str(value)
    if channel not in ("email", "sms", "phone", "post", "wechat"):
        raise ValueError(channel)
    q = Q(do_not_contact=False, **{f"consent_{channel}": True})
    return q if op == "given" else ~q


def _choices(choices):
    return lambda: [(v, str(label)) for v, label in choices]


def _segment_choices():
    return [(s.code, str(s)) for s in CustomerSegment.objects.all()]


def _customer_segment(op, value):
    q = Q(segment__code=str(value))
    return q if op == "eq" else ~q


for _f in (
    SegmentField(
        "stage",
        gettext_lazy("stage"),
        ("eq", "ne"),
        _text("stage"),
        "choice",
        _choices(Customer.Stage.choices),
    ),
    SegmentField(
        "relationship",
        gettext_lazy("relationship"),
        ("eq", "ne"),
        _text("relationship"),
        "choice",
        _choices(Customer.Relationship.choices),
    ),
    SegmentField(
        "segment",
        gettext_lazy("customer segment"),
        ("eq", "ne"),
        _customer_segment,
        "choice",
        _segment_choices,
    ),
    SegmentField(
        "source",
        gettext_lazy("source"),
        ("eq", "ne"),
        _text("source"),
        "choice",
        _choices(Customer.Source.choices),
    ),
    SegmentField(
        "kind",
        gettext_lazy("kind"),
        ("eq", "ne"),
        _text("kind"),
        "choice",
        _choices(Customer.Kind.choices),
    ),
    SegmentField(
        "gender",
        gettext_lazy("gender"),
        ("eq", "ne"),
        _text("gender"),
        "choice",
        _choices(Customer.Gender.choices),
    ),
    SegmentField("province", gettext_lazy("province"), ("eq", "ne", "contains"), _text("province")),
    SegmentField("city", gettext_lazy("city"), ("eq", "ne", "contains"), _text("city")),
    SegmentField("company", gettext_lazy("company"), ("eq", "contains"), _text("company")),
    SegmentField("tag", gettext_lazy("tag"), ("has", "has_not"), _tag),
    SegmentField(
        "consent",
        gettext_lazy("consent for channel"),
        ("given", "not_given"),
        _consent,
        "choice",
        _choices(
            [
                ("email", gettext_lazy("E-mail")),
                ("sms", gettext_lazy("SMS")),
                ("phone", gettext_lazy("Phone call")),
                ("post", gettext_lazy("Post")),
                ("wechat", gettext_lazy("WeChat")),
            ]
        ),
    ),
    SegmentField(
        "has_email", gettext_lazy("has an e-mail address"), ("is",), _has("email"), "bool"
    ),
    SegmentField("has_phone", gettext_lazy("has a phone"), ("is",), _has("primary_phone"), "bool"),
    SegmentField("has_wechat", gettext_lazy("has a WeChat ID"), ("is",), _has("wechat_id"), "bool"),
    SegmentField(
        "last_contact",
        gettext_lazy("last contact (days)"),
        ("within", "not_within"),
        _days_ago("last_contact_at"),
        "days",
    ),
    SegmentField(
        "last_purchase",
        gettext_lazy("last purchase (days)"),
        ("within", "not_within"),
        _days_ago("last_purchase_at"),
        "days",
    ),
    SegmentField(
        "created",
        gettext_lazy("registered (days)"),
        ("within", "not_within"),
        _days_ago("created_at"),
        "days",
    ),
    SegmentField(
        "revenue", gettext_lazy("spend (CNY)"), ("gte", "lte"), _number("revenue"), "number"
    ),
    SegmentField(
        "orders",
        gettext_lazy("number of orders"),
        ("gte", "lte"),
        _number("order_count", int),
        "number",
    ),
):
    register_segment_field(_f)

OP_LABELS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "has": gettext_lazy("has"),
    "has_not": gettext_lazy("has not"),
    "given": gettext_lazy("given"),
    "not_given": gettext_lazy("not given"),
    "is": gettext_lazy("is"),
    "within": gettext_lazy("within the last"),
    "not_within": gettext_lazy("not within the last"),
    "gte": gettext_lazy("at least"),
    "lte": gettext_lazy("at most"),
}
MAX_RULES = 20


def rules_q(rules: dict) -> Q:
    """The rules as one filter; ValidationFailed names the first bad rule."""
    if not isinstance(rules, dict):
        raise ValidationFailed.single("rules", "invalid", _("Rules must be an object."))
    items = rules.get("all", [])
    if not isinstance(items, list) or len(items) > MAX_RULES:
        raise ValidationFailed.single("rules", "invalid", _("At most %d rules.") % MAX_RULES)
    q = Q()
    errors = []
    for index, rule in enumerate(items):
        where = f"rules.{index}"
        if not isinstance(rule, dict) or rule.get("field") not in _FIELDS:
            errors.append(FieldError(where, "unknown_field", _("Unknown filter.")))
            continue
        spec = _FIELDS[rule["field"]]
        if rule.get("op") not in spec.ops:
            errors.append(
                FieldError(where, "invalid_op", _("Not a comparison for %s.") % spec.label)
            )
            continue
        value = rule.get("value", "")
        if spec.kind == "days" and (not str(value).isdigit() or not 0 < int(value) <= 36500):
            errors.append(FieldError(where, "invalid_value", _("A number of days, 1 or more.")))
            continue
        if (
            spec.kind == "choice"
            and spec.choices
            and str(value) not in {c for c, _l in spec.choices()}
        ):
            errors.append(FieldError(where, "invalid_value", _("Not one of the choices.")))
            continue
        try:
            q &= spec.build(rule["op"], value)
        except (ValueError, InvalidOperation, KeyError, TypeError):
            errors.append(FieldError(where, "invalid_value", _("Not a valid value.")))
    if errors:
        raise ValidationFailed(errors)
    return q


def scope_q(org_unit: OrgUnit) -> Q:
    """A segment reaches the customers of its department's branch (head office: everyone)."""
    if org_unit.kind == OrgUnit.Kind.HEAD_OFFICE and org_unit.parent_id is None:
        return Q()
    return Q(org_unit_id__in=org_unit.branch().subtree_ids())


def base_queryset(segment_or_unit) -> QuerySet[Customer]:
    unit = getattr(segment_or_unit, "org_unit", segment_or_unit)
    return Customer.objects.filter(archived_at__isnull=True, merged_into__isnull=True).filter(
        scope_q(unit)
    )


def matching(segment: Segment):
    """Customers matching a dynamic segment right now (for count, preview and rebuild)."""
    return base_queryset(segment).filter(rules_q(segment.rules))


def segment_rebuild(*, segment_id: int) -> Segment:
    """Recompute a dynamic segment's members from scratch; records when and how long.

    The filter runs once, into a temporary table of ids (its row count is the new member
    count); two set statements against it then remove the members who no longer match and
    add the customers who now do. The rows that stay are not rewritten, so a nightly rebuild
    where little changed writes little (and its index is not churned). Probes go by primary
    key and by the (segment, customer) unique index: no second scan of the customers.
    """
    started = time.perf_counter()
    with transaction.atomic():
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        if segment.kind != Segment.Kind.DYNAMIC:
            return segment
        sql, params = (
            matching(segment).annotate(cid=F("pk")).values_list("cid").query.sql_with_params()
        )
        table = SegmentMember._meta.db_table
        scratch = "mkt_rebuild_ids"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            # SQLite: INTEGER PRIMARY KEY is the rowid itself (no second index to build).
            kind = "INTEGER" if connection.vendor == "sqlite" else "bigint"
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} (cid {kind} PRIMARY KEY)")
            cursor.execute(f"INSERT INTO {scratch} (cid) SELECT sub.cid FROM ({sql}) sub", params)
            count = cursor.rowcount
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE segment_id = %s", [segment.pk])
            before = cursor.fetchone()[0]  # from the unique index alone
            cursor.execute(
                f"DELETE FROM {table} WHERE segment_id = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {scratch} n WHERE n.cid = {table}.customer_id)",
                [segment.pk],
            )
            # What is left is a subset of the new members: the same size means the same set,
            # and nobody is missing (a large segment whose changes kept it whole skips a pass).
            if before - cursor.rowcount != count:
                cursor.execute(
                    f"INSERT INTO {table} (segment_id, customer_id) SELECT %s, n.cid "
                    f"FROM {scratch} n WHERE NOT EXISTS (SELECT 1 FROM {table} m "
                    "WHERE m.segment_id = %s AND m.customer_id = n.cid) "
                    "ON CONFLICT DO NOTHING",
                    [segment.pk, segment.pk],
                )
            cursor.execute(f"DROP TABLE {scratch}")
        segment.member_count = count
        segment.rebuilt_at = timezone.now()
        segment.rebuild_seconds = round(time.perf_counter() - started, 3)
        segment.save(update_fields=["member_count", "rebuilt_at", "rebuild_seconds"])
    return segment


def refresh_customer(customer_id: int) -> None:
    """Re-check one customer against every dynamic segment (after their change committed)."""
    for segment in Segment.objects.filter(kind=Segment.Kind.DYNAMIC):
        try:
            match = matching(segment).filter(pk=customer_id).exists()
        except ValidationFailed:
            continue
        with transaction.atomic():
            if match:
                _, created = SegmentMember.objects.get_or_create(
                    segment=segment, customer_id=customer_id
                )
                delta = 1 if created else 0
            else:
                delta = -SegmentMember.objects.filter(
                    segment=segment, customer_id=customer_id
                ).delete()[0]
            if delta:
                from django.db.models import F

                Segment.objects.filter(pk=segment.pk).update(member_count=F("member_count") + delta)


def refresh_on_customer_change(*, customer, created: bool, changed, now) -> list[str]:
    """Customer hook: after the change commits, the customer's memberships follow it."""

    if not created and set(changed) <= {OWNER}:
        return []  # no segment filter reads the owner: a redistribution of 10,000 costs nothing
    customer_id = customer.pk
    if customer_id is not None:
        transaction.on_commit(lambda: refresh_customer(customer_id))
    return []
