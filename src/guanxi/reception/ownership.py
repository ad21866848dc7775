"""Reception's ownership policies (C3): how long a claim is protected, whether it still stands,
and the credit decisions of the desk and of a manager. The change itself is always made by
`guanxi.customers.ownership` (one primitive, one audit entry, the owner-change hooks)."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.calendar import add_months
from guanxi.core.errors import ValidationFailed
from guanxi.core.models import OrgUnit, User
from guanxi.customers.models import Customer
from guanxi.customers.ownership import FOLLOWS_OWNER, KEEP, Reason, ownership_change

from .models import CommissionShare, CreditDecision, ReceptionSettings
from .rules import DEPARTMENT, HUNDRED, Decision, Protection


def settings_for(branch: OrgUnit) -> ReceptionSettings:
    return ReceptionSettings.objects.get_or_create(branch=branch)[0]


def protection_end_after(start: datetime, protection: Protection | int) -> datetime:
    """A claim taken at `start` holds up to this instant (建档有效期, C3; inclusive).

    In calendar months: to the end of the day `months` months after the day of `start`, in
    the office's time zone (its business calendar's; taken on 3 March for 2 months: valid to
    3 May, 23:59:59 there). In
    days: `days` days after `start`, to the instant.
    """
    if isinstance(protection, int):
        protection = Protection(days=protection, months=0)
    if protection.months:
        zone = ZoneInfo(protection.zone) if protection.zone else timezone.get_current_timezone()
        last_day = add_months(timezone.localtime(start, zone).date(), protection.months)
        return datetime.combine(last_day, time.max).replace(tzinfo=zone)
    return start + timedelta(days=protection.days)


def protection_policy(customer: Customer, start: datetime) -> datetime | None:
    """The policy customers/ownership.py asks for (registered in ReceptionConfig.ready()):
    the protection period of the customer's branch, from `start`."""
    if customer.org_unit_id is None:
        return None
    config = settings_for(customer.org_unit.branch())
    return protection_end_after(start, config.protection)


def claim_valid(customer: Customer, now, protection_days: Protection | int) -> bool:
    """Whether the owner's claim stands at `now` (valid while now <= protected_until).

    A record created outside the desk before protection was recorded at creation has no
    protection end: its registration, created_at, starts the period (首访原则).
    """
    if customer.protected_until is None and customer.ownership_settled_at is None:
        return protection_end_after(customer.created_at, protection_days) >= now
    return customer.claim_is_valid(now)


def take_ownership(
    customer: Customer,
    user_id: int,
    now,
    protection_days: Protection | int,
    *,
    reason: Reason,
    actor: User | None,
    credit=FOLLOWS_OWNER,
    note: str = "",
) -> None:
    """`user_id` owns the (locked) customer from `now`, for a new protection period."""
    user = User.objects.select_related("org_unit").get(pk=user_id)
    ownership_change(
        customer=customer,
        reason=reason,
        actor=actor,
        now=now,
        owner=user,
        org_unit=user.org_unit or customer.org_unit,
        protected_until=protection_end_after(now, protection_days),
        credit=credit,
        note=note,
    )


def credit_record(
    *,
    customer,
    visit,
    decision: Decision,
    actor,
    now,
    protection_days,
    reason: Reason = Reason.DESK_RECEPTION,
    audit_actor: User | None = None,
) -> CreditDecision:
    """Write the current credit decision and its commission lines; the holder follows up.

    `actor` decided it (None: the rules of the desk did); `audit_actor` pressed the button.
    """
    audit_actor = audit_actor or actor
    total = sum(decision.split.values(), Decimal("0"))
    if total != HUNDRED:
        raise ValidationFailed.single(
            "split", "split_sum", _("The commission split must add up to 100%.")
        )
    # Decisions for one customer queue behind its row lock (PostgreSQL; SQLite's writers queue
    # anyway): the newest wins instead of a second one meeting the one_current_credit index.
    Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk").first()
    CreditDecision.objects.filter(customer=customer, is_current=True).update(is_current=False)
    department = customer.org_unit if decision.credit == DEPARTMENT else None
    record = CreditDecision.objects.create(
        customer=customer,
        visit=visit,
        case_number=decision.case,
        explanation=decision.explanation,
        credit_user_id=decision.credit if isinstance(decision.credit, int) else None,
        credit_department=department,
        decided_by=actor,
        created_at=now,
    )
    CommissionShare.objects.bulk_create(
        CommissionShare(
            decision=record,
            percent=pct,
            salesperson_id=party if isinstance(party, int) else None,
            department=department if party == DEPARTMENT else None,
        )
        for party, pct in decision.split.items()
        if pct > 0
    )
    # Follow-up and after-sales belong to whoever holds the credit (case 9).
    if isinstance(decision.credit, int):
        holder = User.objects.get(pk=decision.credit)
        if customer.owner_id != decision.credit or not claim_valid(customer, now, protection_days):
            take_ownership(
                customer,
                decision.credit,
                now,
                protection_days,
                reason=reason,
                actor=audit_actor,
                credit=holder,
                note=decision.explanation,
            )
        elif customer.credit_holder_id != holder.pk or (
            customer.protected_until is None and customer.ownership_settled_at is None
        ):
            # The owner keeps the customer and now holds the credit; an owner's own record
            # entered before any desk visit has its period from its creation, written now.
            ownership_change(
                customer=customer,
                reason=reason,
                actor=audit_actor,
                now=now,
                credit=holder,
                protected_until=(
                    protection_end_after(customer.created_at, protection_days)
                    if customer.protected_until is None and customer.ownership_settled_at is None
                    else KEEP
                ),
                note=decision.explanation,
            )
    elif decision.credit == DEPARTMENT and customer.credit_holder_id is not None:
        # A quarrel: the department holds the credit, no salesperson does.
        ownership_change(
            customer=customer,
            reason=reason,
            actor=audit_actor,
            now=now,
            credit=None,
            note=decision.explanation,
        )
    return record
