"""Global search (the header's search box): one query, results grouped by kind.

Each app registers the kinds it owns in its AppConfig.ready() with `register_search_kind`
(customers, deals, units; tickets once the service app exists). A kind's finder receives
the viewer and reads through that app's visibility-aware selectors, so the global search
never shows a record its page would answer 404 for. Core itself registers users.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise

from .models import User
from .permissions import managed_units, manages_some_unit

# A query shorter than this (after stripping) searches nothing: one letter would match
# half the customers by pinyin initial.
MIN_QUERY = 1
MAX_QUERY = 100
HITS_PER_KIND = 5


@dataclass(frozen=True)
class SearchHit:
    """One result line: what it is, where it leads, and a short second line."""

    title: str
    url: str
    detail: str = ""


# A finder gets (viewer=, q=, limit=) and returns at most `limit` hits, best first.
Finder = Callable[..., list[SearchHit]]


@dataclass(frozen=True)
class SearchKind:
    kind: str
    label: str | Promise
    find: Finder
    order: int = 100
    icon: str = "search"
    # Where "see all" leads for this kind, given the query (None: no full list exists).
    more_url: Callable[[str], str] | None = None


@dataclass
class SearchGroup:
    kind: SearchKind
    hits: list[SearchHit] = field(default_factory=list)
    more_url: str = ""


_KINDS: dict[str, SearchKind] = {}


def register_search_kind(
    kind: str,
    label: str | Promise,
    find: Finder,
    *,
    order: int = 100,
    icon: str = "search",
    more_url: Callable[[str], str] | None = None,
) -> None:
    """Add (or replace) a kind of result; groups are shown by `order`, lowest first."""
    _KINDS[kind] = SearchKind(kind, label, find, order, icon, more_url)


def search_kinds() -> list[SearchKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.kind))


def clean_query(q: str) -> str:
    """Spaces collapsed, control characters dropped (PostgreSQL refuses NUL in text)."""
    printable = "".join(ch for ch in (q or "") if ch.isprintable() or ch.isspace())
    return " ".join(printable.split())[:MAX_QUERY]


def global_search(*, viewer: User, q: str, limit: int = HITS_PER_KIND) -> list[SearchGroup]:
    """The non-empty groups of hits for `q`, each already filtered by the viewer's rights."""
    q = clean_query(q)
    if len(q) < MIN_QUERY or not viewer.is_authenticated or not viewer.is_active:
        return []
    groups = []
    for kind in search_kinds():
        hits = kind.find(viewer=viewer, q=q, limit=limit)
        if hits:
            more = kind.more_url(q) if kind.more_url and len(hits) >= limit else ""
            groups.append(SearchGroup(kind, hits[:limit], more))
    return groups


def user_hits(*, viewer: User, q: str, limit: int) -> list[SearchHit]:
    """Colleagues by login or display name: admins find everyone (to edit them), managers
    the people of the units they manage. Others have no user pages to open."""
    from django.db.models import Q
    from django.urls import reverse

    if not manages_some_unit(viewer):
        return []
    units = managed_units(viewer)
    users = User.objects.all() if units is None else User.objects.filter(org_unit_id__in=units)
    users = users.filter(
        Q(username__istartswith=q) | Q(display_name__icontains=q) | Q(email__istartswith=q)
    ).select_related("org_unit")
    hits = []
    for user in users.order_by("username")[:limit]:
        url = reverse("user_edit", args=[user.pk]) if viewer.is_admin else reverse("team")
        detail = " · ".join(p for p in (user.username, str(user.org_unit or "")) if p)
        hits.append(SearchHit(title=str(user), url=url, detail=detail))
    return hits
