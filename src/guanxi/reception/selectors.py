"""Reads for the desk: today's queue, who is next, registers, disputes, the pool, statistics."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from guanxi.core.models import OrgUnit, Role, User
from guanxi.customers.models import Customer
from guanxi.customers.selectors import mark_masking

from . import rotation
from .models import CreditDecision, Dispute, DutyRoster, DutySlot, Visit
from .rules import HUNDRED


@dataclass
class DeskState:
    branch: OrgUnit
    roster: DutyRoster | None
    slots: list[DutySlot]
    next_up: DutySlot | None
    after: DutySlot | None


def desk_state(branch: OrgUnit) -> DeskState:
    roster = DutyRoster.objects.filter(branch=branch, date=timezone.localdate()).first()
    slots = list(roster.slots.select_related("salesperson").order_by("position")) if roster else []
    upcoming = rotation.peek(roster, slots, count=2) if roster else []
    return DeskState(
        branch,
        roster,
        slots,
        upcoming[0] if upcoming else None,
        upcoming[1] if len(upcoming) > 1 else None,
    )


def branch_salespeople(branch: OrgUnit):
    return (
        User.objects.filter(
            is_active=True, roles__role=Role.SALES, org_unit_id__in=branch.subtree_ids()
        )
        .distinct()
        .order_by("display_name", "username")
    )


def customer_visits(customer: Customer, limit: int = 50):
    """A customer's visits and calls, newest first: who registered, received and assisted,
    under which case (the history a manager reads before deciding a dispute)."""
    return (
        Visit.objects.filter(customer=customer)
        .select_related("receiver", "assistant", "registered_by")
        .order_by("-registered_at", "-id")[:limit]
    )


def credit_lines(customer: Customer) -> list[tuple[str, Decimal]]:
    """The current credit split with names: (salesperson or department, percent)."""
    lines = current_credit_split(customer)
    people = {p for p, *_ in lines if p}
    users: dict[int, object] = {}
    if customer.owner_id in people and "owner" in customer._state.fields_cache:
        users[customer.owner_id] = customer.owner  # the page has them already
    if people - set(users):
        users.update({u.pk: u for u in User.objects.filter(pk__in=people - set(users))})
    unit_ids = [d for _p, d, *_ in lines if d]
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=unit_ids)} if unit_ids else {}
    return [
        (str((person and users.get(person)) or (unit and units.get(unit)) or "—"), percent)
        for person, unit, percent, _case in lines
    ]


def visits_on(branch: OrgUnit, day: date):
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return (
        Visit.objects.filter(
            branch=branch, registered_at__gte=start, registered_at__lt=start + timedelta(days=1)
        )
        .select_related("customer", "receiver", "assistant")
        .order_by("-registered_at")
    )


def open_disputes(viewer: User):
    qs = Dispute.objects.filter(state=Dispute.State.OPEN).select_related("customer", "visit")
    if viewer.is_admin:
        return qs
    return qs.filter(branch_id__in=viewer.managed_unit_ids)


def disputes_for(
    viewer: User,
    *,
    state: str | None = None,
    customer_id: int | None = None,
    branch_id: int | None = None,
    party_id: int | None = None,
    limit: int = 200,
):
    """The disputes of the branches the viewer manages (all, for an administrator), newest
    first, optionally only open or decided ones, one customer's, one branch's, or those a
    salesperson is a party to."""
    qs = Dispute.objects.select_related("customer", "visit", "branch").order_by("-opened_at", "-id")
    if not viewer.is_admin:
        qs = qs.filter(branch_id__in=viewer.managed_unit_ids)
    if state:
        qs = qs.filter(state=state)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    if party_id is not None:
        qs = qs.filter(parties__id=party_id).distinct()
    return qs[:limit]


def pool_customers(viewer: User, limit: int = 100):
    rows = list(
        Customer.objects.filter(
            org_unit_id__in=viewer.branch_unit_ids,
            owner__isnull=True,
            in_pool_since__isnull=False,
            archived_at__isnull=True,
        ).order_by("-in_pool_since", "-id")[:limit]
    )
    mark_masking(viewer, rows)
    return rows


@dataclass
class StatRow:
    key: str
    visits_new: int = 0
    visits_returning: int = 0
    calls: int = 0
    intention_a: int = 0
    intention_b: int = 0
    intention_c: int = 0
    converted: int = 0

    @property
    def total(self) -> int:
        return self.visits_new + self.visits_returning + self.calls


def visit_statistics(branch: OrgUnit, start: date, end: date, group: str) -> list[StatRow]:
    """来人来电统计: counts per day, salesperson or source between start and end (inclusive).

    `converted`: customers of those visits who became customers (stage customer or loyal);
    a deal count replaces it once the sales pipeline exists.
    """
    zone = timezone.get_current_timezone()
    begin = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    finish = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    qs = Visit.objects.filter(branch=branch, registered_at__gte=begin, registered_at__lt=finish)
    # By receiver id, not name: two salespeople may share a display name, or have none.
    field = {"day": "day", "salesperson": "receiver", "source": "source"}[group]
    if group == "day":
        qs = qs.annotate(day=TruncDate("registered_at", tzinfo=zone))
    rows = (
        qs.values(field)
        .annotate(
            visits_new=Count("id", filter=Q(kind=Visit.Kind.VISIT, is_new_customer=True)),
            visits_returning=Count("id", filter=Q(kind=Visit.Kind.VISIT, is_new_customer=False)),
            calls=Count("id", filter=Q(kind=Visit.Kind.CALL)),
            intention_a=Count("id", filter=Q(intention="A")),
            intention_b=Count("id", filter=Q(intention="B")),
            intention_c=Count("id", filter=Q(intention="C")),
            converted=Count(
                "customer", distinct=True, filter=Q(customer__stage__in=["customer", "loyal"])
            ),
        )
        .order_by(field)
    )
    rows = list(rows)
    names = {}
    if group == "salesperson":
        names = {u.pk: str(u) for u in User.objects.filter(pk__in=[r[field] for r in rows])}
    result = []
    for row in rows:
        key = row.pop(field)
        key = names.get(key, key)
        result.append(StatRow(key=str(key) if key not in (None, "") else "—", **row))
    if group == "salesperson":
        result.sort(key=lambda r: r.key)
    return result


# ---- the credit (read by sales for the commission ledger) ------------------------------------


def current_credit_split(
    customer: Customer,
) -> list[tuple[int | None, int | None, Decimal, int | None]]:
    """Who the commission of `customer`'s next deal is settled for: (salesperson, department,
    percent, case) lines adding up to 100, or none at all when nobody holds the credit (the
    customer is in the public pool: a lapsed credit pays nobody).

    The desk's (or a manager's) current split holds while the credit has not passed since it
    was decided; once it passed (redistribution, reassignment, pool claim), the current
    holder takes it all.
    """
    decision = (
        CreditDecision.objects.filter(customer_id=customer.pk, is_current=True)
        .prefetch_related("shares")
        .first()
    )
    if decision is not None and (
        customer.credit_since is None or decision.created_at >= customer.credit_since
    ):
        shares = list(decision.shares.all())
        if shares:
            return [
                (s.salesperson_id, s.department_id, s.percent, decision.case_number) for s in shares
            ]
    if customer.credit_holder_id is not None:
        return [(customer.credit_holder_id, None, HUNDRED, None)]
    return []
