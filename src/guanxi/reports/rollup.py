"""The monthly roll-up of order lines (OrderLineMonth), kept in step with every change.

What moves a line's figures between roll-up rows, and where it is caught, each inside the
transaction of the change (decision 0009):
- an order is created: sales emits `order.created`; its lines are added (`on_order_created`);
- a customer passes to another owner or unit: customers/ownership.py runs the owner-change
  hooks while the database row still holds the old keys; the customer's lines move from the
  old keys to the new (`on_owner_change`);
- two customers are merged: the merged one's orders now belong to the kept one; the
  roll-up rows of both customers' keys are recomputed from their lines (`on_customer_merged`).
Anything written around the services (a raw migration of an old system, the demo loader):
`guanxi reports_rebuild` recomputes the whole table from the lines.
"""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Round, TruncMonth
from django.utils import timezone

from guanxi.core.models import User
from guanxi.core.visibility import customer_scope_keys, hidden_load_q
from guanxi.customers.hooks import OWNER, UNIT
from guanxi.customers.models import Customer
from guanxi.sales.models import OrderItem

from .models import OrderLineMonth

Key = tuple[datetime, int, int, int]  # month, unit, owner (0: nobody), product


def office_zone():
    return timezone.get_default_timezone()


def month_of(moment: datetime) -> datetime:
    """The first instant of `moment`'s month in the office's time zone."""
    local = moment.astimezone(office_zone())
    return datetime(local.year, local.month, 1, tzinfo=office_zone())


def _cents(quantity: int, price: Decimal) -> int:
    return int((price * 100).to_integral_value()) * quantity


def _sums(items: QuerySet, unit: int, owner: int) -> dict[Key, list[int]]:
    """The lines of `items` summed per month and product, under the keys (unit, owner)."""
    sums: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = items.values_list("order__created_at", "product_id", "quantity", "unit_price")
    for created_at, product_id, quantity, price in rows:
        figures = sums[(month_of(created_at), unit, owner, product_id)]
        figures[0] += 1
        figures[1] += quantity
        figures[2] += _cents(quantity, price)
    return sums


def _add(sums: dict[Key, list[int]], sign: int = 1) -> None:
    """Add (sign -1: subtract) the sums to their rows, creating the missing ones: one
    INSERT … ON CONFLICT DO UPDATE per row, atomic on both engines."""
    if not sums:
        return
    table = OrderLineMonth._meta.db_table
    sql = (
        f"INSERT INTO {table} (month, unit_id, owner, product_id, lines, quantity, amount_cents)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (month, unit_id, owner, product_id) DO UPDATE SET"
        f" lines = {table}.lines + excluded.lines,"
        f" quantity = {table}.quantity + excluded.quantity,"
        f" amount_cents = {table}.amount_cents + excluded.amount_cents"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        (adapt(month), unit, owner, product, sign * n, sign * quantity, sign * cents)
        for (month, unit, owner, product), (n, quantity, cents) in sorted(sums.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    OrderLineMonth.objects.filter(lines=0).filter(
        month__in={key[0] for key in sums}, unit_id__in={key[1] for key in sums}
    ).delete()


def on_order_created(event: str, payload: dict) -> None:
    customer = Customer.objects.filter(pk=payload["customer_id"]).values("org_unit_id", "owner_id")
    keys = customer.first()
    if keys is None:
        return
    items = OrderItem.objects.filter(order_id=payload["id"])
    _add(_sums(items, keys["org_unit_id"], keys["owner_id"] or 0))


def on_owner_change(*, customer, created: bool, changed, now) -> list[str]:
    """A customer hook: on a new owner or unit the customer's lines move from the keys still
    in the database to the new ones. Sets no field."""
    if created or not (OWNER in changed or UNIT in changed):
        return []
    before = Customer.objects.filter(pk=customer.pk).values("org_unit_id", "owner_id").first()
    if before is None:
        return []
    old = (before["org_unit_id"], before["owner_id"] or 0)
    new = (customer.org_unit_id, customer.owner_id or 0)
    if old != new:
        items = OrderItem.objects.filter(order__customer_id=customer.pk)
        _add(_sums(items, *old), sign=-1)
        _add(_sums(items, *new))
    return []


def on_customer_merged(event: str, payload: dict) -> None:
    """The merged record's orders now belong to the kept one: recompute the rows of both
    customers' keys (an owner's book, or a unit's unowned customers) from their lines."""
    ids = [payload.get("id"), payload.get("merged_id")]
    keys = Customer.objects.filter(pk__in=[i for i in ids if i is not None]).values_list(
        "org_unit_id", "owner_id"
    )
    for unit, owner in set(keys):
        rebuild(unit=unit, owner=owner or 0)


def _month_sums(items: QuerySet):
    """Order lines grouped by the roll-up's keys in the database (the rebuild)."""
    cents = Cast(Round(F("unit_price") * 100), BigIntegerField()) * F("quantity")
    return (
        items.annotate(
            m=TruncMonth("order__created_at", tzinfo=office_zone()),
            u=F("order__customer__org_unit_id"),
            o=Coalesce("order__customer__owner_id", Value(0), output_field=IntegerField()),
        )
        .values("m", "u", "o", "product_id")
        .annotate(n=Count("id"), q=Sum("quantity"), c=Sum(cents))
        .order_by()
    )


def rebuild(*, unit: int | None = None, owner: int | None = None, batch: int = 5000) -> int:
    """Recompute the roll-up from the order lines: all of it, or the rows of one (unit,
    owner). Returns the rows written. Holds the table against concurrent folds on
    PostgreSQL, so an order committed meanwhile is counted once."""
    rows = OrderLineMonth.objects.all()
    items = OrderItem.objects.all()
    if unit is not None:
        rows = rows.filter(unit_id=unit, owner=owner or 0)
        customer = Q(order__customer__org_unit_id=unit)
        customer &= (
            Q(order__customer__owner_id=owner) if owner else Q(order__customer__owner__isnull=True)
        )
        items = items.filter(customer)
    written = 0
    with transaction.atomic():
        if connection.vendor == "postgresql" and unit is None:
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {OrderLineMonth._meta.db_table} IN EXCLUSIVE MODE")
        rows.delete()
        pending: list[OrderLineMonth] = []
        for group in _month_sums(items).iterator(chunk_size=batch):
            pending.append(
                OrderLineMonth(
                    month=group["m"],
                    unit_id=group["u"],
                    owner=group["o"],
                    product_id=group["product_id"],
                    lines=group["n"],
                    quantity=group["q"],
                    amount_cents=int(group["c"]),
                )
            )
            if len(pending) >= batch:
                OrderLineMonth.objects.bulk_create(pending)
                written, pending = written + len(pending), []
        OrderLineMonth.objects.bulk_create(pending)
    return written + len(pending)


# ---- reading it: the pivot's summary of the order lines (datasets.py) -------------------


def serves_zone() -> bool:
    """Months are the office's: a reader in another time zone gets the scan."""
    return timezone.get_current_timezone_name() == settings.TIME_ZONE


def summary_parts(user: User) -> tuple[QuerySet, QuerySet, QuerySet]:
    """The reader's scope as (roll-up rows, order lines to add, order lines to subtract):
    the rows of their keys, plus the lines of customers shared with them outside the keys,
    minus the lines of unpublished bulk loads' customers inside them."""
    keys = customer_scope_keys(user)
    if keys.everyone:
        rows_q = customer_q = Q()
    else:
        rows_q = Q(unit_id__in=keys.unit_ids) if keys.unit_ids else Q(pk__in=[])
        customer_q = Q(org_unit_id__in=keys.unit_ids) if keys.unit_ids else Q(pk__in=[])
        if keys.owner_id is not None:
            rows_q |= Q(owner=keys.owner_id)
            customer_q |= Q(owner_id=keys.owner_id)
    rows = OrderLineMonth.objects.filter(rows_q, lines__gt=0)
    inside = Customer.objects.filter(customer_q)
    hidden = inside.exclude(hidden_load_q())
    subtract = OrderItem.objects.filter(order__customer__in=hidden)
    if keys.shared is None:
        add = OrderItem.objects.none()
    else:
        shared = Customer.objects.filter(hidden_load_q(), pk__in=keys.shared).exclude(customer_q)
        add = OrderItem.objects.filter(order__customer__in=shared)
    return rows, add, subtract
