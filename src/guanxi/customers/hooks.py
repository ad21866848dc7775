"""Other apps' rules that follow the creation or change of a customer record.

`customers` sits below `reception` and `interactions`: they import it, never the other way.
Yet some of their rules must act when this app's services create or change a record: the
first registration's protection period (C3, reception) and the first follow-up and its
rescheduling when the relationship type or stage changes (C2, interactions). Each such app
registers a hook in its AppConfig.ready(), as timeline sources are registered in
`core.timeline`; the customers service calls every hook inside its own transaction, on the
saved (and, for changes, locked) row.

A hook is `hook(*, customer, created, changed, now)`: `created` is True for a new record,
`changed` names the editable fields whose value changed (all the fields set, for a new one),
or is `{OWNER}` when the record passed to a new owner: a manager's reassignment here, a
reception at the desk or a claim from the public pool in `reception`
(`run_owner_change_hooks`), `{UNIT}` when only its unit changed.
It sets fields on `customer` and returns their names; the service saves them. It does not
save, send mail or call out: it is a rule about the row, part of the service's one change.

Not a Django signal: STYLE.md keeps every state change in a service, and this is an
explicit, ordered call made by the service, visible from its code and covered by its
transaction, rather than a receiver fired by any `save()`.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

CustomerHook = Callable[..., Iterable[str]]

_HOOKS: dict[str, CustomerHook] = {}

# `changed` for a record that passed to a new owner (not an editable field).
OWNER = "owner"
# `changed` for a record that moved to another unit under the same owner.
UNIT = "org_unit"


def register_customer_hook(name: str, hook: CustomerHook) -> None:
    """Register (or replace) the hook called `name`; hooks run in registration order."""
    _HOOKS[name] = hook


def run_customer_hooks(
    *, customer, created: bool, changed: Iterable[str], now: datetime
) -> list[str]:
    """Call every hook; the names of the fields they set, for the caller to save."""
    changed = frozenset(changed)
    fields: list[str] = []
    for hook in list(_HOOKS.values()):
        for name in hook(customer=customer, created=created, changed=changed, now=now) or ():
            if name not in fields:
                fields.append(name)
    return fields


def run_owner_change_hooks(*, customer, now: datetime, unit_only: bool = False) -> list[str]:
    """The record now has a new owner (set on `customer`, not yet saved): call every hook
    with `changed={OWNER}` (`{UNIT}`: the same owner, another unit); the names of the fields
    they set, for the caller to save."""
    changed = {UNIT} if unit_only else {OWNER}
    return run_customer_hooks(customer=customer, created=False, changed=changed, now=now)
