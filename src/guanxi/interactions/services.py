"""Logging touches, keeping promises, rescheduling follow-ups, plans and feeds."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import DomainError, FieldError, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import User, hash_token
from guanxi.core.visibility import can_edit
from guanxi.customers.contact import contact_reason_label, contact_send
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get
from guanxi.customers.services import customer_update, follow_up_save

from .cadence import facts_for, load_rules, next_follow_up, saved_step
from .models import CadenceRule, CalendarFeed, GreetingTemplate, Interaction, Plan, Promise
from .occasions import GreetingBook
from .permissions import can_keep_promise, can_log_contact
from .windows import first_good_slot_on_or_after, local_zone

FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_PROMISES = 10


def _validate(kind, outcome, summary, occurred_at, promises, follow_up_at, now) -> list:
    errors = []
    if kind not in Interaction.Kind.values:
        errors.append(FieldError("kind", "invalid_choice", _("Choose what kind of touch it was.")))
    if outcome and kind not in Interaction.CALLS:
        errors.append(FieldError("outcome", "not_a_call", _("Only calls have an outcome.")))
    if outcome and outcome not in Interaction.Outcome.values:
        errors.append(FieldError("outcome", "invalid_choice", _("Unknown outcome.")))
    if not (summary or "").strip():
        errors.append(FieldError("summary", "required", _("Say in a line what happened.")))
    elif len(summary) > 4000:
        errors.append(FieldError("summary", "max_length", _("At most 4000 characters.")))
    if occurred_at and occurred_at > now + FUTURE_TOLERANCE:
        errors.append(FieldError("occurred_at", "future", _("A touch cannot be in the future.")))
    if len(promises) > MAX_PROMISES:
        errors.append(FieldError("promises", "too_many", _("At most %d promises.") % MAX_PROMISES))
    today = timezone.localdate(now)
    for text, due in promises:
        if not (text or "").strip():
            errors.append(FieldError("promises", "required", _("A promise needs its text.")))
        elif len(text) > 300:
            errors.append(
                FieldError("promises", "max_length", _("A promise has at most 300 characters."))
            )
        if not isinstance(due, date):
            errors.append(FieldError("promises", "required", _("A promise needs a due date.")))
        elif due < today:
            errors.append(
                FieldError("promises", "past_date", _("A promise cannot be due in the past."))
            )
    if follow_up_at and follow_up_at < now - FUTURE_TOLERANCE:
        errors.append(
            FieldError(
                "next_follow_up_at", "past_date", _("The next follow-up must be in the future.")
            )
        )
    return errors


def _aware(value: datetime | None) -> datetime | None:
    """A time typed without an offset (API clients often omit it) is local time."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, local_zone())
    return value


def schedule_follow_up(customer: Customer, *, now: datetime, since: datetime | None = None) -> None:
    """Recompute the customer's next follow-up from the cadence rules (row already locked).

    The rules count from the last contact (now, for a customer never contacted), or from
    `since` when given: a new owner's cadence starts when they take the customer.
    """
    if customer.owner_id is None or customer.archived_at:
        customer.next_follow_up_at, customer.follow_up_rule, customer.follow_up_step = None, "", ""
        return
    facts = facts_for(customer)
    # An open promise is an obligation: the follow-up comes no later than its due day.
    facts.open_promise_due = (
        Promise.objects.open()
        .filter(customer_id=customer.pk)
        .order_by("due_date")
        .values_list("due_date", flat=True)
        .first()
    )
    due = next_follow_up(
        customer=customer,
        last_contact=since or customer.last_contact_at or now,
        facts=facts,
        rules=load_rules(),
        zone=local_zone(),
    )
    at = due.at
    if at is not None:
        # Due on a day, at that day's first good contact slot, and never in the past.
        zone = local_zone()
        day_start = datetime.combine(at.astimezone(zone).date(), datetime.min.time(), tzinfo=zone)
        at = first_good_slot_on_or_after(customer, max(day_start, now))
    customer.next_follow_up_at, customer.follow_up_rule = at, due.rule
    customer.follow_up_step = _(due.next_step) if due.next_step else ""


def interaction_log(
    *,
    actor: User,
    customer_id: int,
    kind: str,
    summary: str,
    occurred_at: datetime | None = None,
    outcome: str = "",
    next_step: str = "",
    promises: list[tuple[str, date]] = (),
    next_follow_up_at: datetime | None = None,
    relationship: str | None = None,
) -> Interaction:
    """Record a touch; update last contact and reschedule the follow-up in one transaction.

    `next_follow_up_at` set by the user wins over the cadence rules. Left empty, the rules
    set it, and a customer with an open promise or a deal in progress always gets one (the
    promise's due day at the latest): the follow-up never silently stops (SPEC C2).
    `relationship` (None: unchanged) sets the customer's relationship type in the same step,
    as the sales floor judges it on the call (the owner or a manager only).
    """
    if not can_log_contact(actor):
        raise Forbidden(_("Your role does not log customer contacts."))
    now = timezone.now()
    occurred_at, next_follow_up_at = _aware(occurred_at), _aware(next_follow_up_at)
    promises = list(promises)
    errors = _validate(kind, outcome, summary, occurred_at, promises, next_follow_up_at, now)
    if len(next_step) > 300:
        errors.append(FieldError("next_step", "max_length", _("At most 300 characters.")))
    if relationship is not None and relationship not in Customer.Relationship.values:
        errors.append(
            FieldError("relationship", "invalid_choice", _("Choose a relationship type."))
        )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id, for_update=True)
        if customer.archived_at:
            raise ValidationFailed.single("customer", "archived", _("This customer is archived."))
        if next_follow_up_at and not can_edit(actor, customer):
            # Same right as the follow-up form (follow_up_set): a receptionist or teammate
            # logging a contact does not move the owner's plan by hand.
            raise DomainError(
                _("Only the owner or a manager reschedules follow-ups."),
                code="follow_up_owner_only",
                field="next_follow_up_at",
                status=403,
            )
        if relationship is not None and relationship != customer.relationship:
            if not can_edit(actor, customer):
                raise DomainError(
                    _("Only the owner or a manager sets the relationship type."),
                    code="relationship_owner_only",
                    field="relationship",
                    status=403,
                )
            # Through the customers app (its audit entry and hooks), in this transaction.
            customer_update(
                actor=actor, customer_id=customer.pk, data={"relationship": relationship}
            )
            customer = customer_get(viewer=actor, pk=customer_id, for_update=True)
        interaction = Interaction.objects.create(
            customer=customer,
            actor=actor,
            kind=kind,
            occurred_at=occurred_at or now,
            outcome=outcome,
            summary=summary.strip(),
            next_step=next_step.strip(),
        )
        Promise.objects.bulk_create(
            Promise(
                customer=customer,
                interaction=interaction,
                made_by=actor,
                text=text.strip(),
                due_date=due,
            )
            for text, due in promises
        )
        if interaction.is_contact and (
            customer.last_contact_at is None or interaction.occurred_at > customer.last_contact_at
        ):
            customer.last_contact_at = interaction.occurred_at
        if next_follow_up_at:
            customer.next_follow_up_at = next_follow_up_at
            customer.follow_up_rule = "manual"
            customer.follow_up_step = next_step.strip()
        elif interaction.is_contact:
            schedule_follow_up(customer, now=now)
            if next_step.strip():
                customer.follow_up_step = next_step.strip()
        elif promises:
            # A note with a promise is no contact, but the promise is an obligation: the
            # follow-up comes no later than its due day; an earlier one still ahead stays.
            ahead = customer.next_follow_up_at and customer.next_follow_up_at >= now
            kept = (customer.next_follow_up_at, customer.follow_up_rule, customer.follow_up_step)
            schedule_follow_up(customer, now=now)
            if ahead and (
                customer.next_follow_up_at is None or kept[0] < customer.next_follow_up_at
            ):
                customer.next_follow_up_at, customer.follow_up_rule, customer.follow_up_step = kept
        follow_up_save(customer=customer)
    return interaction


def follow_up_set(*, actor: User, customer_id: int, at: datetime, note: str = "") -> Customer:
    """Move a customer's next follow-up by hand (owner or manager)."""

    at = _aware(at)
    if at < timezone.now() - FUTURE_TOLERANCE:
        raise ValidationFailed.single(
            "at", "past_date", _("The next follow-up must be in the future.")
        )
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id, for_update=True)
        if not can_edit(actor, customer):
            raise Forbidden(_("Only the owner or a manager reschedules follow-ups."))
        before = customer.next_follow_up_at
        customer.next_follow_up_at, customer.follow_up_rule = at, "manual"
        if note:
            customer.follow_up_step = note[:300]
        follow_up_save(customer=customer)
        audit_record(
            actor=actor,
            verb="customer.follow_up_set",
            target=customer,
            changes={"next_follow_up_at": [str(before), str(at)]},
            note=note,
        )
    return customer


def promise_complete(*, actor: User, promise_id: int) -> Promise:
    with transaction.atomic():
        promise = Promise.objects.select_for_update().filter(pk=promise_id).first()
        if promise is None:
            raise NotFound(_("Promise not found."))
        customer = customer_get(viewer=actor, pk=promise.customer_id)  # 404 if hidden
        if not can_keep_promise(actor, promise, customer):
            raise Forbidden(
                _(
                    "Only the salesperson who made the promise, the customer's owner or "
                    "their manager marks it as kept."
                ),
                code="not_promise_keeper",
            )
        if promise.done_at is None:
            promise.done_at, promise.done_by = timezone.now(), actor
            promise.save(update_fields=["done_at", "done_by"])
    return promise


def plan_save(*, actor: User, kind: str, day: date, text: str) -> Plan:
    """Morning plan, evening summary (with the day's figures) or weekly plan."""
    if kind not in Plan.Kind.values:
        raise ValidationFailed.single("kind", "invalid_choice", _("Unknown plan kind."))
    if not text.strip():
        raise ValidationFailed.single("text", "required", _("Write a few words."))
    if len(text) > 4000:
        raise ValidationFailed.single("text", "max_length", _("At most 4000 characters."))
    figures = day_figures(user=actor, day=day) if kind == Plan.Kind.EVENING else {}
    with transaction.atomic():
        plan, _created = Plan.objects.update_or_create(
            user=actor,
            kind=kind,
            date=day,
            defaults={"text": text.strip(), "figures": figures, "updated_at": timezone.now()},
        )
    return plan


def day_figures(*, user: User, day: date) -> dict:
    """What a salesperson did on a day: the numbers an evening summary reports."""
    zone = local_zone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    rows = Interaction.objects.filter(
        actor=user, occurred_at__gte=start, occurred_at__lt=start + timedelta(days=1)
    )
    by_kind: dict[str, int] = {}
    for kind in rows.values_list("kind", flat=True):
        by_kind[kind] = by_kind.get(kind, 0) + 1
    return {
        "interactions": sum(by_kind.values()),
        "by_kind": by_kind,
        "customers": rows.values("customer_id").distinct().count(),
        "promises_made": Promise.objects.filter(
            made_by=user, created_at__gte=start, created_at__lt=start + timedelta(days=1)
        ).count(),
    }


def cadence_rule_update(
    *, actor: User, code: str, days: int | None, deliveries: int | None, next_step: str
) -> CadenceRule:
    if not actor.is_admin:
        raise Forbidden(_("Only an administrator changes cadence rules."))
    if code not in CadenceRule.Code.values:
        raise ValidationFailed.single("code", "invalid_choice", _("Unknown rule."))
    for name, value in (("days", days), ("deliveries", deliveries)):
        if value is not None and not 0 < value <= 3650:
            raise ValidationFailed.single(name, "out_of_range", _("Between 1 and 3650."))
    with transaction.atomic():
        rule, _created = CadenceRule.objects.select_for_update().get_or_create(code=code)
        before = {"days": rule.days, "deliveries": rule.deliveries, "next_step": rule.next_step}
        next_step = saved_step(code, next_step)[:200]
        rule.days, rule.deliveries, rule.next_step = days, deliveries, next_step
        rule.save()
        after = {"days": days, "deliveries": deliveries, "next_step": rule.next_step}
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            audit_record(actor=actor, verb="cadence.update", target=rule, changes=changes)
    return rule


def calendar_feed_rotate(*, actor: User) -> str:
    """A new secret feed URL token; the previous one stops working at once."""
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(
            user=actor, defaults={"token_hash": hash_token(raw), "created_at": timezone.now()}
        )
    return raw


def calendar_feed_revoke(*, actor: User) -> None:
    CalendarFeed.objects.filter(user=actor).delete()


GREETING_CHANNELS = ("sms", "wechat", "email")


@dataclass(frozen=True)
class GreetingOutcome:
    """What became of one greeting: sent on `channel`, or held back for `reason`."""

    sent: bool
    channel: str
    reason: str = ""

    @property
    def reason_label(self) -> str:
        return contact_reason_label(self.reason) if self.reason else ""


def _greeting_channel(customer: Customer, channel: str) -> str:
    if channel:
        return channel
    if customer.preferred_channel in GREETING_CHANNELS:
        return customer.preferred_channel
    if customer.primary_phone:
        return "sms"
    return "wechat" if customer.wechat_id and not customer.email else "email"


def greeting_send(
    *,
    actor: User,
    customer_id: int,
    occasion: str,
    channel: str = "",
    text: str = "",
    on: date | None = None,
) -> GreetingOutcome:
    """Send a customer the greeting of an occasion (birthday, festival), through the one
    contact policy every message passes (customers.contact): consent per channel and
    purpose, do-not-contact, caps, quiet hours, and the occasion's greeting once a year
    whoever sends it. A refusal is no error: it is logged with its reason on the customer's
    timeline and returned with its reason. A provider that fails is a DomainError."""
    from django.utils import translation

    errors = []
    if occasion not in GreetingTemplate.Occasion.values:
        errors.append(FieldError("occasion", "invalid_choice", _("Choose the occasion.")))
    if channel and channel not in GREETING_CHANNELS:
        errors.append(FieldError("channel", "invalid_choice", _("Choose SMS, WeChat or e-mail.")))
    if len(text) > 1000:
        errors.append(FieldError("text", "too_long", _("At most 1,000 characters.")))
    if errors:
        raise ValidationFailed(errors)
    on = on or timezone.localdate()
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        if not can_edit(actor, customer):
            raise Forbidden(_("Only the customer's salesperson or their manager sends greetings."))
        channel = _greeting_channel(customer, channel)
        text = text.strip() or GreetingBook(actor).text(occasion, customer.name)
        with translation.override("zh-hans"):
            # The material in one language, so the same occasion's greeting has one
            # fingerprint whoever sends it (dedupe across departments and salespeople).
            material = f"{GreetingTemplate.Occasion(occasion).label} {on.year}"
        try:
            decision = contact_send(
                customer=customer,
                channel=channel,
                purpose="greeting",
                text=text,
                subject=str(GreetingTemplate.Occasion(occasion).label),
                material=material,
                org_unit_id=actor.org_unit_id,
                source=f"greeting:{occasion}",
            )
        except Exception as exc:  # the provider's own errors: unreachable, refused
            raise DomainError(
                _("The greeting could not be sent: %s") % str(exc)[:200],
                code="delivery_failed",
                field="channel",
                status=502,
            ) from exc
        audit_record(
            actor=actor,
            verb="greeting.send" if decision else "greeting.held_back",
            target=customer,
            changes={"occasion": occasion, "channel": channel, "reason": decision.reason},
        )
    return GreetingOutcome(decision.allowed, channel, decision.reason)
