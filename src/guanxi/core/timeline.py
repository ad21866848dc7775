"""The 360° customer timeline: one stream that every app feeds through a registered source.

An app registers a source in its AppConfig.ready(); the customer page asks `timeline_for`.
Adding deals, tickets or points later means registering a source, not editing this module.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.functional import Promise


@dataclass
class TimelineEvent:
    at: datetime
    kind: str  # the source's kind, used for filtering
    title: str
    body: str = ""
    actor: str = ""
    url: str = ""
    icon: str = "dot"
    badges: list[str] = field(default_factory=list)


# A source gets (customer, viewer, limit) and yields its newest events first.
Source = Callable[..., Iterable[TimelineEvent]]


@dataclass
class _Registered:
    kind: str
    label: str | Promise
    source: Source


_SOURCES: dict[str, _Registered] = {}


def register_timeline_source(kind: str, label: str | Promise, source: Source) -> None:
    _SOURCES[kind] = _Registered(kind, label, source)


def timeline_kinds() -> list[tuple[str, str | Promise]]:
    return [(r.kind, r.label) for r in _SOURCES.values()]


def timeline_for(*, customer, viewer, kinds: list[str] | None = None, limit: int = 100):
    """Newest first, merged across sources. The caller has already checked visibility."""
    events: list[TimelineEvent] = []
    for registered in _SOURCES.values():
        if kinds and registered.kind not in kinds:
            continue
        events.extend(registered.source(customer=customer, viewer=viewer, limit=limit))
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]
