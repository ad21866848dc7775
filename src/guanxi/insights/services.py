"""Churn early warning (流失预警) and the value figures' upkeep.

The scan (periodic, idempotent) puts on the watch list every customer whose warning is
due (`CustomerValue.churn_due_at`, an index range) and who has no live warning and no
dismissed one since their last purchase; it alerts the owner and the service desk of the
customer's branch through the notification centre and announces `churn.warned`. A new
purchase resolves the warning (incrementally, at the payment). A person may dismiss a
warning or snooze it, always with a reason.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import Role, User
from guanxi.core.visibility import customer_visibility_q
from guanxi.core.webhooks import webhook_emit
from guanxi.customers.models import Customer
from guanxi.notifications.services import Notice, notify_many, notify_withdraw

from .engine import recompute_one
from .models import ChurnWarning, CustomerValue
from .permissions import can_decide_warning, serves_unit

LIVE = [ChurnWarning.Status.OPEN, ChurnWarning.Status.SNOOZED]
CHURN_TITLE = gettext_lazy("Churn warning: %(customer)s")


def _service_desk(unit_ids: set[int]) -> dict[int, set[int]]:
    """Service agents per branch unit: {unit id: {user ids}} for the customers' units."""
    desk: dict[int, set[int]] = {}
    agents = list(
        User.objects.filter(is_active=True, roles__role=Role.SERVICE)
        .select_related("org_unit")
        .distinct()
    )
    for unit_id in unit_ids:
        desk[unit_id] = {a.pk for a in agents if serves_unit(a, unit_id)}
    return desk


def _warning_for(value: CustomerValue, now: datetime) -> ChurnWarning:
    assert value.last_purchase_at is not None
    return ChurnWarning(
        customer_id=value.customer_id,
        rule=value.churn_rule,
        days_since=int((now - value.last_purchase_at).total_seconds() // 86400),
        usual_gap_days=value.median_gap_days,
        threshold_days=value.churn_threshold_days or 0,
        last_amount=value.last_amount,
        usual_amount=value.usual_amount,
        last_purchase_at=value.last_purchase_at,
        created_at=now,
    )


def churn_scan(now: datetime | None = None) -> dict:
    """Warn every customer whose warning is due; wake snoozed ones; idempotent."""
    now = now or timezone.now()
    woke = ChurnWarning.objects.filter(
        status=ChurnWarning.Status.SNOOZED, snoozed_until__lte=now
    ).update(status=ChurnWarning.Status.OPEN, snoozed_until=None)
    live = ChurnWarning.objects.filter(customer_id=OuterRef("customer_id"), status__in=LIVE)
    dismissed = ChurnWarning.objects.filter(
        customer_id=OuterRef("customer_id"),
        status=ChurnWarning.Status.DISMISSED,
        last_purchase_at__gte=OuterRef("last_purchase_at"),
    )
    due = (
        CustomerValue.objects.filter(churn_due_at__lte=now, purchases__gt=0)
        .exclude(stage="loss")
        .annotate(live=Exists(live), dismissed=Exists(dismissed))
        .filter(live=False, dismissed=False)
    )
    created = 0
    while batch := list(due[:2000]):
        with transaction.atomic():
            warnings = ChurnWarning.objects.bulk_create(
                [_warning_for(v, now) for v in batch], ignore_conflicts=True
            )
            _alert([w for w in warnings], now)
        created += len(batch)
    return {"warned": created, "woke": woke}


def _alert(warnings: list[ChurnWarning], now: datetime) -> None:
    customers = {
        c.pk: c
        for c in Customer.objects.filter(pk__in=[w.customer_id for w in warnings]).only(
            "id", "name", "owner_id", "org_unit_id"
        )
    }
    desk = _service_desk({c.org_unit_id for c in customers.values() if c.org_unit_id})
    notices = []
    for warning in warnings:
        customer = customers.get(warning.customer_id)
        if customer is None:
            continue
        reason = warning.reason()
        recipients: set[int] = set(desk.get(customer.org_unit_id, set()))
        if customer.owner_id is not None:
            recipients.add(customer.owner_id)
        for user_id in recipients:
            notices.append(
                Notice(
                    recipient_id=user_id,
                    key=f"churn:{customer.pk}:{warning.last_purchase_at:%Y%m%d}",
                    kind="churn_warning",
                    title=CHURN_TITLE,
                    params={"customer": customer.name},
                    body=reason,
                    url=f"/customers/{customer.pk}/",
                )
            )
        webhook_emit(
            "churn.warned",
            {
                "customer_id": customer.pk,
                "rule": warning.rule,
                "days_since": warning.days_since,
                "usual_gap_days": warning.usual_gap_days,
                "threshold_days": warning.threshold_days,
                "last_purchase_at": warning.last_purchase_at.isoformat(),
            },
        )
    notify_many(notices, now=now)


def churn_resolve(
    customer_id: int, now: datetime | None = None, *, last_purchase_at: datetime | None = None
) -> int:
    """The customer bought again: their live warning is resolved and its notices go.
    `last_purchase_at`: their latest purchase when the caller has it (else read)."""
    now = now or timezone.now()
    if last_purchase_at is None:
        value = CustomerValue.objects.filter(customer_id=customer_id).first()
        last_purchase_at = value.last_purchase_at if value is not None else None
    warnings = ChurnWarning.objects.filter(customer_id=customer_id, status__in=LIVE)
    if last_purchase_at is not None:
        warnings = warnings.filter(last_purchase_at__lt=last_purchase_at)
    resolved = 0
    for warning in warnings:
        warning.status, warning.closed_at = ChurnWarning.Status.RESOLVED, now
        warning.save(update_fields=["status", "closed_at"])
        notify_withdraw(key=f"churn:{customer_id}:{warning.last_purchase_at:%Y%m%d}")
        resolved += 1
    return resolved


def _warning_for_decision(actor: User, warning_id: int) -> ChurnWarning:
    warning = (
        ChurnWarning.objects.select_for_update()
        .filter(pk=warning_id)
        .filter(
            Exists(
                Customer.objects.filter(customer_visibility_q(actor), pk=OuterRef("customer_id"))
            )
        )
        .first()
    )
    if warning is None:
        raise NotFound(_("Warning not found."))
    customer = Customer.objects.get(pk=warning.customer_id)
    if not can_decide_warning(actor, customer):
        raise Forbidden(_("Only the owner, a manager or service decides on this warning."))
    if warning.status not in LIVE:
        raise Conflict(_("This warning is already closed."), code="warning_closed")
    return warning


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single("reason", "required", _("Say why."))
    return reason[:300]


def churn_dismiss(*, actor: User, warning_id: int, reason: str) -> ChurnWarning:
    """Not a churn risk (moved away, buys through a relative …): off the list until the
    customer buys again and lapses again."""
    reason = _reason(reason)
    with transaction.atomic():
        warning = _warning_for_decision(actor, warning_id)
        warning.status, warning.note = ChurnWarning.Status.DISMISSED, reason
        warning.decided_by, warning.closed_at = actor, timezone.now()
        warning.save(update_fields=["status", "note", "decided_by", "closed_at"])
        audit_record(actor=actor, verb="churn.dismiss", target=warning, note=reason)
        notify_withdraw(key=f"churn:{warning.customer_id}:{warning.last_purchase_at:%Y%m%d}")
    return warning


def churn_snooze(*, actor: User, warning_id: int, days: int, reason: str) -> ChurnWarning:
    """Back on the list after `days` (1–365): "travelling until March"."""
    reason = _reason(reason)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise ValidationFailed.single("days", "out_of_range", _("Snooze for 1 to 365 days."))
    with transaction.atomic():
        warning = _warning_for_decision(actor, warning_id)
        warning.status, warning.note = ChurnWarning.Status.SNOOZED, reason
        warning.snoozed_until = timezone.now() + timedelta(days=days)
        warning.decided_by = actor
        warning.save(update_fields=["status", "note", "snoozed_until", "decided_by"])
        audit_record(actor=actor, verb="churn.snooze", target=warning, note=reason)
    return warning


def value_refresh(customer_id: int) -> CustomerValue | None:
    """One customer's figures, then their warning if they bought again (in the caller's
    transaction: the payment's)."""
    try:
        with transaction.atomic():
            row = recompute_one(customer_id)
    except IntegrityError:  # a concurrent full run replaced the table meanwhile
        row = recompute_one(customer_id)
    if row is not None:
        churn_resolve(customer_id, last_purchase_at=row.last_purchase_at)
    else:
        churn_resolve(customer_id)
    return row


def watch_list(*, viewer: User, status: str = "open", limit: int = 200):
    qs = ChurnWarning.objects.filter(status=status) if status else ChurnWarning.objects.all()
    visible = Customer.objects.filter(customer_visibility_q(viewer), pk=OuterRef("customer_id"))
    return list(qs.filter(Exists(visible)).order_by("-created_at", "-id")[:limit])
