"""Filters other apps add to the customer list (value class, RFM segment, lifecycle, …).

`customers` cannot import the apps above it, so each registers its filters in its
AppConfig.ready(). A filter has a query parameter `name`, a label, its choices (a callable:
they are read per request, in the reader's language) and `apply(queryset, value)`. The
list, saved views (which store the query string) and the API take them like the built-in
filters.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class ListFilter:
    name: str
    label: str | Promise
    choices: Callable[[], list[tuple[str, str]]]
    apply: Callable  # (queryset, value) -> queryset


_FILTERS: dict[str, ListFilter] = {}


def register_list_filter(flt: ListFilter) -> None:
    _FILTERS[flt.name] = flt


def list_filters() -> list[ListFilter]:
    return list(_FILTERS.values())


def list_filter(name: str) -> ListFilter | None:
    return _FILTERS.get(name)
