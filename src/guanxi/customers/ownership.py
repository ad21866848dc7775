"""Who owns a customer, and who holds the deal credit (C3): the one place that changes it.

`ownership_change` (and its bulk twin `ownership_change_many`) is the only code that writes a
customer's owner, owning unit, protection end, deal settlement, public-pool state and current
credit holder. Every path goes through it: a reception at the desk, a manager's dispute
decision, a redistribution (case 12), the pool sweep and a pool claim, a manual reassignment,
a merge and the deal that settles the question. Each call

- sets the fields on the (locked) row and saves them with `updated_at`;
- runs the owner-change hooks (customers/hooks.py) when the owner (or only the unit) changes:
  the new owner's follow-up on the cadence, none for a customer nobody owns (C2), the order
  roll-up of reports;
- writes one audit entry through core.audit, naming the reason.

Policies stay with the apps that own them: reception says how long a protection period is
(`register_protection_policy`), which visitor goes to whom, the pool limits and the
commission split of a credit decision. This module only records the outcome.

The credit. `credit_holder` is the salesperson the commission is settled for (nobody while
the customer is in the public pool, or when a quarrel sent the credit to the department);
`credit_since` is when it last passed to someone else. A split the desk decided (reception's
CreditDecision) holds while it is not older than `credit_since`: once the credit passes by
redistribution, reassignment or the pool, the new holder takes the whole commission, and a
manager who wants another split decides a dispute (SPEC C3: "after a redistribution, a pool
claim or a dispute decision, the new holder").

A test (tests/customers/test_ownership_primitive.py) reads every module of the project and
fails if any other one writes these fields.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.audit import audit_record, audit_records
from guanxi.core.models import OrgUnit, User

from .hooks import run_owner_change_hooks
from .models import Customer

# The fields this module alone writes (the test's list too).
OWNERSHIP_FIELDS = (
    "owner",
    "org_unit",
    "protected_until",
    "ownership_settled_at",
    "in_pool_since",
    "pool_previous_owner",
    "pool_cooling_until",
    "credit_holder",
    "credit_since",
)


class Reason(models.TextChoices):
    DESK_RECEPTION = "desk_reception", _("Received at the desk")
    DISPUTE_DECISION = "dispute_decision", _("Dispute decided by a manager")
    REDISTRIBUTION = "redistribution", _("Redistributed by a manager")
    POOL_SWEEP = "pool_sweep", _("Returned to the public pool")
    POOL_CLAIM = "pool_claim", _("Claimed from the public pool")
    MANUAL_REASSIGNMENT = "manual_reassignment", _("Reassigned by a manager")
    MERGE = "merge", _("Merged records")
    DEAL_SETTLEMENT = "deal_settlement", _("Settled by a deal")


# The audit verb of each reason (the verbs the audit log has always shown).
VERBS = {
    Reason.DESK_RECEPTION: "customer.receive",
    Reason.DISPUTE_DECISION: "customer.credit_decided",
    Reason.REDISTRIBUTION: "customer.reassign",
    Reason.POOL_SWEEP: "customer.to_pool",
    Reason.POOL_CLAIM: "customer.pool_claim",
    Reason.MANUAL_REASSIGNMENT: "customer.reassign",
    Reason.MERGE: "customer.merge_ownership",
    Reason.DEAL_SETTLEMENT: "customer.ownership_settled",
}


class _Keep:
    """Leave this field as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


class _FollowsOwner:
    """The credit passes with the owner when the owner changes; otherwise it stays."""

    def __repr__(self) -> str:
        return "FOLLOWS_OWNER"


FOLLOWS_OWNER = _FollowsOwner()

# ---- the protection policy (reception's rule, asked for here) -------------------------------

ProtectionPolicy = Callable[[Customer, datetime], datetime | None]
_protection_policy: list[ProtectionPolicy] = []


def register_protection_policy(policy: ProtectionPolicy) -> None:
    """`policy(customer, start)` returns when a claim taken at `start` lapses (reception's
    protection period, in its branch's calendar). Registered from an AppConfig.ready()."""
    _protection_policy[:] = [policy]


def protection_end(customer: Customer, start: datetime) -> datetime | None:
    """When a claim on `customer` taken at `start` lapses; None when no policy is installed."""
    return _protection_policy[0](customer, start) if _protection_policy else None


# ---- the primitive --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Values:
    owner: User | _Keep | None = KEEP
    org_unit: OrgUnit | _Keep = KEEP
    protected_until: datetime | _Keep | None = KEEP
    credit: User | _Keep | _FollowsOwner | None = FOLLOWS_OWNER
    to_pool: bool = False
    cooling_until: datetime | None = None
    settle: bool = False


def _pk(value) -> int | None:
    return value.pk if value is not None else None


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _apply(customer: Customer, values: _Values, now: datetime) -> tuple[list[str], dict]:
    """Set the new values on `customer`; the fields to save and the audit's changes."""
    before = {
        name: getattr(customer, name + "_id" if _is_fk(name) else name) for name in OWNERSHIP_FIELDS
    }
    owner_changed = False
    if not isinstance(values.owner, _Keep):
        new_owner = values.owner
        owner_changed = _pk(new_owner) != customer.owner_id
        customer.owner = new_owner
        if isinstance(values.org_unit, _Keep) and new_owner is not None and new_owner.org_unit_id:
            customer.org_unit_id = new_owner.org_unit_id
        if new_owner is not None:
            # Owned again: out of the pool, and the cooling-off of the previous owner ends.
            customer.in_pool_since = None
            customer.pool_previous_owner = None
            customer.pool_cooling_until = None
    if not isinstance(values.org_unit, _Keep):
        customer.org_unit = values.org_unit
    if values.to_pool:
        if before["owner"] is not None:
            customer.pool_previous_owner_id = before["owner"]
        customer.in_pool_since = now
        customer.pool_cooling_until = values.cooling_until
    if not isinstance(values.protected_until, _Keep):
        customer.protected_until = values.protected_until
    if values.settle and customer.ownership_settled_at is None:
        customer.ownership_settled_at = now
    credit = values.credit
    if isinstance(credit, _FollowsOwner):
        credit = customer.owner if owner_changed else KEEP
    if not isinstance(credit, _Keep) and _pk(credit) != customer.credit_holder_id:
        customer.credit_holder = credit
        customer.credit_since = now
    after = {
        name: getattr(customer, name + "_id" if _is_fk(name) else name) for name in OWNERSHIP_FIELDS
    }
    fields = [name for name in OWNERSHIP_FIELDS if before[name] != after[name]]
    changes = {
        (name + "_id" if _is_fk(name) else name): [_jsonable(before[name]), _jsonable(after[name])]
        for name in fields
    }
    if owner_changed or "org_unit" in fields:
        # Other apps' rules on a new owner (hooks.py): the follow-up on the cadence counted
        # from now, unless an earlier one is still ahead; none for nobody (C2). The order
        # roll-up of reports, keyed by owner and unit, follows a unit change too.
        hooked = run_owner_change_hooks(customer=customer, now=now, unit_only=not owner_changed)
        fields += [n for n in hooked if n not in fields]
    customer.updated_at = now
    fields.append("updated_at")
    return fields, changes


def _is_fk(name: str) -> bool:
    return name in ("owner", "org_unit", "pool_previous_owner", "credit_holder")


def ownership_change(
    *,
    customer: Customer,
    reason: Reason,
    actor: User | None,
    now: datetime | None = None,
    owner: User | _Keep | None = KEEP,
    org_unit: OrgUnit | _Keep = KEEP,
    protected_until: datetime | _Keep | None = KEEP,
    credit: User | _Keep | _FollowsOwner | None = FOLLOWS_OWNER,
    to_pool: bool = False,
    cooling_until: datetime | None = None,
    settle: bool = False,
    note: str = "",
) -> list[str]:
    """Change who owns `customer` (a row the caller has locked), inside the caller's
    transaction. Returns the names of the fields saved.

    owner: the new owner (None: nobody); their unit becomes the customer's unless `org_unit`
      says otherwise. An owner ends the customer's time in the pool.
    protected_until: the new protection end (see `protection_end` for the policy's).
    credit: the new credit holder (None: nobody, or the department); by default the credit
      passes with the owner when the owner changes.
    to_pool: the customer enters the public pool now, the previous owner cooling off until
      `cooling_until`.
    settle: a deal settles the ownership question (以成交为准), from now.
    """
    now = now or timezone.now()
    values = _Values(owner, org_unit, protected_until, credit, to_pool, cooling_until, settle)
    fields, changes = _apply(customer, values, now)
    customer.save(update_fields=fields)
    audit_record(
        actor=actor,
        verb=VERBS[reason],
        target=customer,
        changes={**changes, "reason": str(reason)},
        note=note[:500],
    )
    return fields


def ownership_change_many(
    *,
    moves: Iterable[tuple[Customer, User | None]],
    reason: Reason,
    actor: User | None,
    now: datetime | None = None,
    org_unit: OrgUnit | _Keep = KEEP,
    protected_until: datetime | _Keep | None = KEEP,
    to_pool: bool = False,
    cooling_until: datetime | None = None,
    note: str = "",
) -> int:
    """The bulk twin, for redistribution and the sweep: each (locked) customer passes to its
    new owner (None: nobody), the credit with it; saved in batches, one audit entry each."""
    now = now or timezone.now()
    rows, entries, fields = [], [], ["updated_at"]
    for customer, owner in moves:
        values = _Values(owner, org_unit, protected_until, FOLLOWS_OWNER, to_pool, cooling_until)
        changed, changes = _apply(customer, values, now)
        fields += [name for name in changed if name not in fields]
        rows.append(customer)
        entries.append((customer, {**changes, "reason": str(reason)}))
    Customer.objects.bulk_update(rows, fields, batch_size=500)
    audit_records(actor=actor, verb=VERBS[reason], entries=entries, note=note[:500])
    return len(rows)


def ownership_initial(customer: Customer, *, owner: User | None, org_unit: OrgUnit, now) -> None:
    """A new record's first owner and unit (not saved yet; its creation is audited): the
    owner holds the credit and, under the policy, the protection of a first registration."""
    customer.owner = owner
    customer.org_unit = org_unit
    if owner is not None:
        customer.credit_holder = owner
        customer.credit_since = now
        customer.protected_until = protection_end(customer, now)
