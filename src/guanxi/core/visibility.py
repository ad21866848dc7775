"""Who sees which customer, and which fields unmasked. The one place these rules live.

Every list, detail, search, export and API call reaches customer data through
`customer_visibility_q` (or its parts, `customer_visibility_parts`, for keyset pages);
field masking goes through `sees_unmasked`.

- admin: every customer, unmasked.
- manager: every customer in their organisation subtree, unmasked there.
- salesperson: own customers and those shared with them; unmasked only their own.
- receptionist, service agent, finance, marketer: their branch's customers, masked
  (they find and serve customers, they do not own them).
- nobody: the customers of a bulk load not yet published (`hidden_load_q`): an import
  writes in short steps and shows its rows all at once.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .models import Role, User
from .permissions import manages_unit

BRANCH_ROLES = (Role.RECEPTIONIST, Role.SERVICE, Role.FINANCE, Role.MARKETER)
# Marketers work on segments, never on individual contact details.
REVEAL_ROLES = (Role.ADMIN, Role.MANAGER, Role.SALES, Role.RECEPTIONIST, Role.SERVICE, Role.FINANCE)
CREATE_ROLES = (Role.ADMIN, Role.MANAGER, Role.SALES, Role.RECEPTIONIST)


@dataclass(frozen=True)
class CustomerSources:
    """The queries of the rule that read the customers app's tables, given by that app
    (core sits below it): the ids of unpublished bulk loads, of their customers, and of the
    customers shared with a user."""

    pending_loads: Callable[[], QuerySet]
    shared_with: Callable[[int], QuerySet]
    hidden_customers: Callable[[], QuerySet]


_sources: list[CustomerSources] = []


def register_customer_sources(sources: CustomerSources) -> None:
    """Called once, from the customers app's ready()."""
    _sources[:] = [sources]


def _customer_sources() -> CustomerSources:
    if not _sources:
        raise RuntimeError("guanxi.customers is not installed: customer visibility has no data")
    return _sources[0]


def hidden_load_q(prefix: str = "") -> Q:
    """Leaves out the customers of unpublished bulk loads (customers.LoadBatch). One
    subquery in the same statement, so a read sees a load entirely or not at all. From a
    related model (`prefix`), by the customer's id: "customer_id NOT IN (the hidden
    customers)" is one small list for the whole statement, not a join to every row's
    customer (an administrator's counts over all deals then read the deals' index alone)."""
    if prefix:
        return ~Q(**{f"{prefix}pk__in": _customer_sources().hidden_customers()})
    return ~Q(load_batch__in=_customer_sources().pending_loads())


def customer_visibility_q(user: User, prefix: str = "") -> Q:
    """Filter for the customers `user` may see; `prefix` reaches them from a related model."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return hidden_load_q(prefix)
    return hidden_load_q(prefix) & _scope_q(user, prefix)


def _scope_q(user: User, prefix: str) -> Q:
    p = prefix
    q = Q(**{f"{p}pk__in": []})
    if user.managed_unit_ids:
        q |= Q(**{f"{p}org_unit_id__in": user.managed_unit_ids})
    if user.has_role(Role.SALES):
        q |= Q(**{f"{p}owner_id": user.id}) | Q(**{f"{p}pk__in": _shared_with(user)})
    if user.has_role(*BRANCH_ROLES) and user.branch_unit_ids:
        q |= Q(**{f"{p}org_unit_id__in": user.branch_unit_ids})
    return q


# A scope of up to this many units is read unit by unit, each along its own index.
SPLIT_UNITS_UP_TO = 10


def customer_visibility_parts(user: User) -> list[Q] | None:
    """The rule of `customer_visibility_q` as filters whose union it is (None: everyone).

    Each part is one index range — an owner, a unit, the customers shared with the user — so
    a keyset page reads the first rows of each part and merges them, instead of scanning the
    table for rows that satisfy an OR (customers.selectors.customer_list).
    """
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_admin:
        return None
    parts = []
    units = set(user.managed_unit_ids)
    if user.has_role(*BRANCH_ROLES):
        units |= user.branch_unit_ids
    if len(units) <= SPLIT_UNITS_UP_TO:
        parts += [Q(org_unit_id=unit) for unit in sorted(units)]
    else:
        parts.append(Q(org_unit_id__in=sorted(units)))
    if user.has_role(Role.SALES):
        parts += [Q(owner_id=user.id), Q(pk__in=_shared_with(user))]
    return parts


@dataclass(frozen=True)
class ScopeKeys:
    """The rule of `customer_visibility_q` by the two fields a summary table can carry, the
    customer's unit and owner: everyone (admin), or the customers of `unit_ids` and those
    owned by `owner_id`. `shared` holds the customers shared with the reader (outside those
    keys, a query); customers of unpublished bulk loads are out of every scope
    (`hidden_load_q`). A summary keyed by (unit, owner) answers exactly: its rows in the keys,
    minus the hidden customers in them, plus the shared ones outside them."""

    everyone: bool
    unit_ids: frozenset[int] = frozenset()
    owner_id: int | None = None
    shared: QuerySet | None = None


def customer_scope_keys(user: User) -> ScopeKeys:
    if not user.is_authenticated or not user.is_active:
        return ScopeKeys(everyone=False)
    if user.is_admin:
        return ScopeKeys(everyone=True)
    units = set(user.managed_unit_ids)
    if user.has_role(*BRANCH_ROLES):
        units |= user.branch_unit_ids
    sales = user.has_role(Role.SALES)
    return ScopeKeys(
        everyone=False,
        unit_ids=frozenset(units),
        owner_id=user.id if sales else None,
        shared=_shared_with(user) if sales else None,
    )


def _shared_with(user: User):
    return _customer_sources().shared_with(user.id)


def manages(user: User, customer) -> bool:
    return manages_unit(user, customer.org_unit_id)


def sees_unmasked(user: User, customer) -> bool:
    """Owner, managers of the customer's unit and admins read sensitive fields in clear."""
    return customer.owner_id == user.id or manages(user, customer)


# Marketers work on segments, never on individual contact details (SPEC Roles): a user whose
# only working role is marketer reads these masked on the page, in the API and in exports.
CONTACT_DETAIL_FIELDS = ("email", "wechat_id", "address", "notes", "assets_note")
_CONTACT_ROLES = (Role.SALES, Role.MANAGER, Role.RECEPTIONIST, Role.SERVICE, Role.FINANCE)


def hides_contact_details(user: User, customer) -> bool:
    return (
        not user.is_admin
        and user.has_role(Role.MARKETER)
        and not user.has_role(*_CONTACT_ROLES)
        and not sees_unmasked(user, customer)
    )


def can_edit(user: User, customer) -> bool:
    return user.is_active and (customer.owner_id == user.id or manages(user, customer))


def can_reveal(user: User) -> bool:
    return user.has_role(*REVEAL_ROLES) or user.is_admin


def can_create(user: User) -> bool:
    return user.has_role(*CREATE_ROLES) or user.is_admin


def mask_phone(value: str) -> str:
    """'+8613812345678' → '138****5678': enough to recognise, not to dial. A switchboard
    line's extension (+861088886666;ext=801) is hidden with the rest."""
    value = value.partition(";ext=")[0]
    digits = value.removeprefix("+86") if value.startswith("+86") else value
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else max(len(digits) - 8, 0)
    return digits[:keep_head] + "****" + digits[-4:]


def mask_id_number(value: str) -> str:
    if len(value) <= 4:
        return "*" * len(value)
    return (
        value[:6] + "*" * max(len(value) - 10, 4) + value[-4:]
        if len(value) > 10
        else ("*" * (len(value) - 4) + value[-4:])
    )


MASKED = "****"
