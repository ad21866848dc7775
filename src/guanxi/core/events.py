"""In-process listeners for the domain events the services already emit.

A service announces what happened with `webhook_emit(event, payload)` inside its
transaction (core.webhooks). Apps above it (loyalty earns points on a payment, insights
recomputes a customer's figures) must act on the same event without the emitting app
knowing them: the layers forbid `sales` to import `loyalty`. So an app registers a
listener here from its AppConfig.ready(), and `webhook_emit` calls every listener of the
event, in registration order, inside the emitting transaction: the listener's writes
commit or roll back with the change that caused them.

A listener is `listener(event: str, payload: dict) -> None`. It must be idempotent (an
event can be replayed) and must not call out of the process (send after commit instead).

Like the customer hooks, this is an explicit, ordered call made by the service (through
`webhook_emit`), not a Django signal fired by any `save()`.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str, dict], None]

_LISTENERS: dict[str, dict[str, Listener]] = {}


def register_event_listener(event: str, name: str, listener: Listener) -> None:
    """Register (or replace) the listener `name` of `event`."""
    _LISTENERS.setdefault(event, {})[name] = listener


def event_dispatch(event: str, payload: dict) -> None:
    """Call every listener of `event` with the payload (inside the caller's transaction)."""
    for listener in list(_LISTENERS.get(event, {}).values()):
        listener(event, payload)


# ---- effects: what listeners did, for the response of the request that caused it ---------
# A payment's API response and page show "升级为金卡" although sales knows nothing of tiers:
# the request collects the effects its listeners report.

_effects: ContextVar[list[dict] | None] = ContextVar("guanxi_event_effects", default=None)


@contextmanager
def collect_effects():
    """Collect the effects reported while the block runs: `with collect_effects() as fx:`."""
    token = _effects.set([])
    try:
        yield _effects.get()
    finally:
        _effects.reset(token)


def event_effect(kind: str, data: dict, message: str = "") -> None:
    """A listener reports what it did (a no-op unless a caller collects effects)."""
    effects = _effects.get()
    if effects is not None:
        effects.append({"kind": kind, "message": str(message), "data": data})
