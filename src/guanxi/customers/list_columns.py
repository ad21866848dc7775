"""The customer list's columns and sorts, and each user's remembered choice of them.

The name is always the first column; the others are chosen and ordered by the user
(`list_preference_save`). A sort is a column's key, with "-" for descending ("-revenue");
"recent" (newest first) is the default and "name" the pinyin order. Every sort is read by
keyset (selectors.customer_list): the cursor carries the sort value and the id.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import User

from .models import ListPreference


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    # The sort this column's header toggles between: its natural first direction, then
    # the other one; "" when the column is not sortable.
    sort: str = ""


COLUMNS = [
    Column("phone", _("Phone")),
    Column("company", _("Company"), "company"),
    Column("stage", _("Stage")),
    Column("relationship", _("Relationship")),
    Column("segment", _("Segment")),
    Column("owner", _("Owner")),
    Column("region", _("Province / city / district")),
    Column("last_contact", _("Last contact"), "-last_contact"),
    Column("next_follow_up", _("Next follow-up"), "next_follow_up"),
    Column("revenue", _("Revenue"), "-revenue"),
    Column("created", _("Created"), "-created"),
]
COLUMN_KEYS = [c.key for c in COLUMNS]
# Always first, not in the chooser; sortable by pinyin.
NAME_COLUMN = Column("name", _("Name"), "name")
DEFAULT_COLUMNS = ["phone", "company", "stage", "owner", "next_follow_up"]

# Sort → (model field, descending). "recent" and "name" keep their own, older paths in the
# selector (the search ranking and the pinyin index); "-created" is "recent".
SORT_FIELDS: dict[str, tuple[str, bool]] = {
    "-name": ("name_pinyin", True),
    "company": ("company_key", False),
    "-company": ("company_key", True),
    "last_contact": ("last_contact_at", False),
    "-last_contact": ("last_contact_at", True),
    "next_follow_up": ("next_follow_up_at", False),
    "-next_follow_up": ("next_follow_up_at", True),
    "revenue": ("revenue", False),
    "-revenue": ("revenue", True),
    "created": ("id", False),
}
SORTS = ("recent", "name", "-created", *SORT_FIELDS)


def column(key: str) -> Column | None:
    return next((c for c in COLUMNS if c.key == key), None)


def clean_columns(keys) -> list[str]:
    """The known columns among `keys`, in their order, each once."""
    seen: list[str] = []
    for key in keys or ():
        if key in COLUMN_KEYS and key not in seen:
            seen.append(key)
    return seen


def list_preference(user: User) -> ListPreference:
    """The user's list preference (unsaved defaults when they never chose)."""
    pref = ListPreference.objects.filter(user=user).first()
    if pref is None:
        return ListPreference(user=user, columns=list(DEFAULT_COLUMNS), sort="")
    pref.columns = clean_columns(pref.columns) or list(DEFAULT_COLUMNS)
    if pref.sort not in SORTS:
        pref.sort = ""
    return pref


def list_preference_save(
    *, actor: User, columns: list[str] | None = None, sort: str | None = None
) -> ListPreference:
    """Remember the actor's own columns and/or sort. Only a user's own preference is
    written (there is no other user to name), so no permission beyond being signed in; a
    preference is not business data, so it is not audited."""
    with transaction.atomic():
        pref, _created = ListPreference.objects.select_for_update().get_or_create(
            user=actor, defaults={"columns": list(DEFAULT_COLUMNS)}
        )
        if columns is not None:
            pref.columns = clean_columns(columns) or list(DEFAULT_COLUMNS)
        if sort is not None:
            pref.sort = sort if sort in SORTS else ""
        pref.updated_at = timezone.now()
        pref.save()
    return pref


def header(sort: str, col: Column) -> dict:
    """What a sortable header shows: the sort its link asks for, and the arrow when the
    list is sorted by it now."""
    first = col.sort
    other = first[1:] if first.startswith("-") else "-" + first
    current = "-created" if sort in ("recent", "") else sort
    if col.key == "created" and current == "-created":
        return {"next": "created", "arrow": "down"}
    if current == first:
        return {"next": other, "arrow": "down" if first.startswith("-") else "up"}
    if current == other:
        return {"next": first, "arrow": "up" if first.startswith("-") else "down"}
    return {"next": first, "arrow": ""}
