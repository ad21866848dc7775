"""Bulk actions on the customer list: assign, tag, share or archive a selection of rows or
every customer the filter selects.

Each customer goes through the same service as a single edit (customer_reassign,
customer_update, customer_share, customer_archive), with that service's permission check,
row lock and audit entry; a customer the actor may not change is counted as refused, not
fatal. A run first shows its plan (`bulk_plan`: how many customers, from whom to whom) for
the person to confirm; a confirmed run over more than INLINE_LIMIT customers goes to the
worker (tasks.bulk_start, tasks.run_bulk_action), which notifies the actor when it is done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.audit import audit_record
from guanxi.core.errors import DomainError, Forbidden, ValidationFailed
from guanxi.core.models import User
from guanxi.notifications.services import notify

from . import services
from .models import Customer
from .permissions import can_change_in_bulk, can_reassign_in_bulk
from .selectors import CustomerFilter, customer_queryset

ACTIONS = {
    "assign": gettext_lazy("Assign to"),
    "tag": gettext_lazy("Add a tag"),
    "share": gettext_lazy("Share with"),
    "archive": gettext_lazy("Archive"),
}
INLINE_LIMIT = 200
# A whole-filter run over more customers than this is refused: narrow the filter first.
MAX_RUN = 100_000


@dataclass
class BulkPlan:
    """What a bulk action will do, shown before it runs."""

    action: str
    count: int
    target: str = ""
    owners: list[tuple[str, int]] = field(default_factory=list)
    in_worker: bool = False

    @property
    def action_label(self) -> str:
        return str(ACTIONS[self.action])


@dataclass
class BulkResult:
    done: int = 0
    refused: int = 0
    reasons: list[str] = field(default_factory=list)
    queued: bool = False


def _target(action: str, params: dict) -> tuple[User | str | None, str]:
    """The user or tag the action needs, checked; (value, its display)."""
    if action in ("assign", "share"):
        raw = str(params.get("user") or "")
        user = User.objects.filter(pk=int(raw), is_active=True).first() if raw.isdigit() else None
        if user is None:
            raise ValidationFailed.single("user", "required", _("Choose a salesperson."))
        return user, str(user)
    if action == "tag":
        name = str(params.get("tag") or "").strip()[:40]
        if not name:
            raise ValidationFailed.single("tag", "required", _("Enter the tag to add."))
        return name, name
    return None, ""


def _check_action(actor: User, action: str) -> None:
    if action not in ACTIONS:
        raise ValidationFailed.single("action", "invalid_choice", _("Choose an action."))
    if action == "assign" and not can_reassign_in_bulk(actor):
        raise Forbidden(_("Only a manager may reassign customers."))
    if action in ("tag", "share", "archive") and not can_change_in_bulk(actor):
        raise Forbidden(_("Your role may not change customers in bulk."))


def _ids(actor: User, filters: CustomerFilter) -> list[int]:
    qs = customer_queryset(viewer=actor, filters=filters).order_by("id")
    ids = list(qs.values_list("id", flat=True)[: MAX_RUN + 1])
    if len(ids) > MAX_RUN:
        raise ValidationFailed.single(
            "scope",
            "too_many",
            _("More than %(n)s customers match: narrow the filter first.") % {"n": f"{MAX_RUN:,}"},
        )
    return ids


def bulk_plan(*, actor: User, filters: CustomerFilter, action: str, params: dict) -> BulkPlan:
    """What the action would do to the customers `filters` select (nothing is changed)."""
    _check_action(actor, action)
    _value, target = _target(action, params)
    qs = customer_queryset(viewer=actor, filters=filters)
    count = qs.count()
    owners: list[tuple[str, int]] = []
    if action == "assign" and count:
        rows = qs.order_by().values("owner_id").annotate(n=Count("id"))
        owners = _owner_rows(Counter({r["owner_id"]: r["n"] for r in rows}))
    return BulkPlan(
        action=action, count=count, target=target, owners=owners, in_worker=count > INLINE_LIMIT
    )


def _owner_rows(by_owner: Counter) -> list[tuple[str, int]]:
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in by_owner if k])}
    rows = [(names.get(k, "") if k else _("Public pool"), n) for k, n in by_owner.items()]
    return sorted(rows, key=lambda r: -r[1])


def _apply_one(actor: User, action: str, customer_id: int, value, comment: str) -> None:
    if action == "assign":
        services.customer_reassign(
            actor=actor, customer_id=customer_id, to=value, reason=comment or _("Bulk assignment")
        )
    elif action == "share":
        services.customer_share(actor=actor, customer_id=customer_id, user=value)
    elif action == "archive":
        services.customer_archive(actor=actor, customer_id=customer_id, reason=comment)
    elif action == "tag":
        tags = list(
            Customer.tags.through.objects.filter(customer_id=customer_id).values_list(
                "tag__name", flat=True
            )
        )
        if value not in tags:
            services.customer_update(
                actor=actor, customer_id=customer_id, data={}, tags=[*tags, value]
            )


def bulk_apply(
    *, actor: User, filters: CustomerFilter, action: str, params: dict, comment: str = ""
) -> BulkResult:
    """Run the action on every customer `filters` select, each in its own service call
    (its own transaction, lock, permission check and audit entry); one more audit entry
    records the run with the person's comment."""
    _check_action(actor, action)
    value, target = _target(action, params)
    comment = comment.strip()[:500]
    result = BulkResult()
    for customer_id in _ids(actor, filters):
        try:
            _apply_one(actor, action, customer_id, value, comment)
        except DomainError as exc:
            result.refused += 1
            if len(result.reasons) < 5 and exc.message not in result.reasons:
                result.reasons.append(str(exc.message))
        else:
            result.done += 1
    with transaction.atomic():
        audit_record(
            actor=actor,
            verb="customers.bulk",
            target=actor,
            changes={
                "bulk_action": action,
                "bulk_target": target,
                "bulk_done": result.done,
                "bulk_refused": result.refused,
            },
            note=comment,
        )
    return result


def bulk_run_in_worker(
    *, actor_id: int, query: dict, action: str, params: dict, comment: str
) -> BulkResult:
    """The worker's side: the filter is read again as the actor sees it now."""

    actor = User.objects.get(pk=actor_id)
    filters = CustomerFilter.from_params(query)
    result = bulk_apply(actor=actor, filters=filters, action=action, params=params, comment=comment)
    notify(
        recipient=actor,
        key=f"customers.bulk:{actor_id}:{timezone.now().timestamp()}",
        title=gettext_lazy("Bulk action finished: %(done)s done, %(refused)s refused"),
        params={"done": result.done, "refused": result.refused},
        url=reverse("customers:list"),
        kind="general",
    )
    return result
