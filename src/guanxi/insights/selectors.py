"""Reads of insights: list filters, the customer panel, the analyst's checklist."""

from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.visibility import customer_visibility_q
from guanxi.customers.models import Customer
from guanxi.sales.models import OrderItem, Payment
from guanxi.service.models import Ticket, TicketType

from .models import ChurnWarning, CustomerValue
from .recommend import recommend_for
from .rules import NEXT_ACTIONS, SEGMENT_LABELS, STAGES


def abc_choices() -> list[tuple[str, str]]:
    return [("A", _("A (most valuable)")), ("B", _("B (valuable)")), ("C", _("C (the rest)"))]


def segment_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in SEGMENT_LABELS.items()]


def stage_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in STAGES.items()]


def filter_by(field: str):
    def apply(qs, value):
        return qs.filter(
            Exists(CustomerValue.objects.filter(customer_id=OuterRef("pk"), **{field: value}))
        )

    return apply


def value_of(customer_id: int) -> CustomerValue | None:
    return CustomerValue.objects.filter(customer_id=customer_id).first()


def _visible_values(viewer: User):
    visible = Customer.objects.filter(customer_visibility_q(viewer), pk=OuterRef("customer_id"))
    return CustomerValue.objects.filter(Exists(visible))


def _with_customers(rows) -> list:
    rows = list(rows)
    customers = Customer.objects.in_bulk([r.customer_id for r in rows])
    for row in rows:
        row.the_customer = customers.get(row.customer_id)
    return [r for r in rows if r.the_customer is not None]


def checklist(*, viewer: User, now: datetime | None = None, limit: int = 20) -> dict:
    """The analyst's questions (C6), each answered over the viewer's customers."""

    now = now or timezone.now()
    values = _visible_values(viewer)
    this_year = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    last_year = this_year.replace(year=this_year.year - 1)
    last_year_top = (
        Payment.objects.filter(received_at__gte=last_year, received_at__lt=this_year, amount__gt=0)
        .filter(
            Exists(
                Customer.objects.filter(customer_visibility_q(viewer), pk=OuterRef("customer_id"))
            )
        )
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .order_by("-total")[:limit]
    )
    top_ids = {row["customer_id"]: row["total"] for row in last_year_top}
    ordered_this_year = set(
        Payment.objects.filter(
            customer_id__in=top_ids, received_at__gte=this_year, amount__gt=0
        ).values_list("customer_id", flat=True)
    )
    silent = [cid for cid in top_ids if cid not in ordered_this_year]
    silent_rows = _with_customers(values.filter(customer_id__in=silent))
    for row in silent_rows:
        row.last_year_total = top_ids[row.customer_id]
    year_ago = now - timedelta(days=365)
    growth = []
    for row in _with_customers(values.filter(purchases__gt=0).order_by("-revenue")[:200]):
        recent = (
            Payment.objects.filter(
                customer_id=row.customer_id, received_at__gte=year_ago
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        before = row.revenue - recent
        row.growth = recent - before
        growth.append(row)
    growth.sort(key=lambda r: r.growth, reverse=True)
    return {
        "gold": _with_customers(values.filter(abc="A").order_by("-revenue")[:limit]),
        "costly": _with_customers(
            values.filter(cost__gt=0, value__lt=F("cost")).order_by("value")[:limit]
        ),
        "complained": _complained(viewer, last_year, this_year, limit),
        "silent_top": sorted(silent_rows, key=lambda r: r.last_year_total, reverse=True),
        "cross_sell": _with_customers(_narrow_buyers(values)[:limit]),
        "top_revenue": _with_customers(values.filter(purchases__gt=0).order_by("-revenue")[:10]),
        "top_growth": growth[:10],
    }


def _complained(viewer: User, start, end, limit: int) -> list:
    """Big customers (A or B) with two complaints or more last year (service tickets)."""
    tickets = Ticket.objects.filter(
        type=TicketType.COMPLAINT, created_at__gte=start, created_at__lt=end
    )
    counts = dict(
        tickets.values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .values_list("customer_id", "n")
    )
    rows = _with_customers(
        _visible_values(viewer).filter(customer_id__in=counts, abc__in=["A", "B"])[:limit]
    )
    for row in rows:
        row.complaints = counts[row.customer_id]
    return rows


def _narrow_buyers(values):
    """Buyers of one or two product lines only (cross-sell), most valuable first."""

    lines = (
        OrderItem.objects.filter(order__customer_id=OuterRef("customer_id"))
        .order_by()
        .values("order__customer_id")
        .annotate(n=Count("product__category", distinct=True))
        .values("n")
    )
    return (
        values.filter(purchases__gt=0)
        .annotate(lines=Subquery(lines, output_field=IntegerField()))
        .filter(lines__gte=1, lines__lte=2)
        .order_by("-revenue")
    )


# The order in which a salesperson's customers call for work today: a slipping customer
# (weakening) first, a first purchase to follow up (confirmation), loyal ones to reward
# (trust), prospects to cultivate, and last the lost.
STAGE_PRIORITY = ("weakening", "confirmation", "trust", "cultivation", "loss")


def next_best_actions(*, user: User, limit: int = 5) -> list[dict]:
    """The user's own customers that call for work first, each with the work its stage
    calls for, the churn warning's reason if one is open, and the best product to offer
    (none for do-not-contact). Customers on the churn watch list come first, then by
    stage priority, the most valuable first within each."""
    from django.db.models import Case, Value, When

    open_warning = ChurnWarning.objects.filter(
        customer_id=OuterRef("customer_id"), status=ChurnWarning.Status.OPEN
    )
    priority = Case(
        *(When(stage=stage, then=Value(n)) for n, stage in enumerate(STAGE_PRIORITY)),
        default=Value(len(STAGE_PRIORITY)),
        output_field=IntegerField(),
    )
    rows = list(
        CustomerValue.objects.filter(customer__owner=user, customer__archived_at__isnull=True)
        .annotate(warned=Exists(open_warning), priority=priority)
        .select_related("customer")
        .order_by("-warned", "priority", "-revenue", "customer_id")[: max(1, min(limit, 20))]
    )
    warnings = {
        w.customer_id: w
        for w in ChurnWarning.objects.filter(
            customer_id__in=[r.customer_id for r in rows if r.warned],
            status=ChurnWarning.Status.OPEN,
        )
    }
    actions = []
    for row in rows:
        offers = recommend_for(row.customer, limit=1)
        warning = warnings.get(row.customer_id)
        actions.append(
            {
                "customer": row.customer,
                "value": row,
                "stage_name": row.get_stage_display(),
                "next_action": str(NEXT_ACTIONS.get(row.stage, "")),
                "churn_reason": warning.reason() if warning else "",
                "offer": offers[0] if offers else None,
            }
        )
    return actions
