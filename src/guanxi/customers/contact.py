"""The one door every message to a customer goes through (C1 preferences, C7 policy).

Campaigns, reminders, greetings and service notices ask `contact_decide` before they contact
a customer by e-mail, SMS, phone, post or WeChat. This module sits in `customers` so that
apps below `marketing` (interactions' greetings and reminders, service's notices) can call
it; the full policy — per-purpose consent, frequency caps, quiet hours, material dedupe and
the log of every skip — is registered by `guanxi.marketing` in its AppConfig.ready(), the
way timeline sources and customer hooks are. Without it, the record's own flags decide.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

CHANNELS = ("email", "sms", "phone", "post", "wechat")
PURPOSES = ("marketing", "greeting", "service")


@dataclass(frozen=True)
class ContactDecision:
    allowed: bool
    reason: str = ""  # a marketing.models.SkipReason code when not allowed
    not_before: datetime | None = None  # quiet hours: the earliest time it may go out

    def __bool__(self) -> bool:
        return self.allowed


def record_flags_decide(*, customer, channel: str, **_) -> ContactDecision:
    """The customer record's own preferences: do-not-contact and per-channel consent."""
    if customer.archived_at or customer.merged_into_id:
        return ContactDecision(False, "archived")
    if customer.do_not_contact:
        return ContactDecision(False, "do_not_contact")
    if not getattr(customer, f"consent_{channel}", True):
        return ContactDecision(False, "no_consent")
    return ContactDecision(True)


_POLICY: list[Callable[..., ContactDecision]] = [record_flags_decide]


def register_contact_policy(policy: Callable[..., ContactDecision]) -> None:
    """Install the full policy (marketing does, in ready()); it replaces the default."""
    _POLICY[:] = [policy]


def contact_decide(
    *,
    customer,
    channel: str,
    purpose: str,
    material: str = "",
    org_unit_id: int | None = None,
    source: str = "",
    record: bool = True,
    at: datetime | None = None,
) -> ContactDecision:
    """May `customer` be contacted now by `channel` for `purpose`?

    With `record` (the caller is about to send), an allowed decision is logged as a message
    sent — it then counts towards the caps and the material's dedupe — and a refusal is
    logged with its reason on the customer's timeline.
    """
    if channel not in CHANNELS or purpose not in PURPOSES:
        raise ValueError(f"unknown channel or purpose: {channel}/{purpose}")
    return _POLICY[0](
        customer=customer,
        channel=channel,
        purpose=purpose,
        material=material,
        org_unit_id=org_unit_id,
        source=source,
        record=record,
        at=at,
    )


# ---- one message outside a campaign: decide, then deliver --------------------------------

DELIVERABLE = ("email", "sms", "wechat")  # channels a message can be sent on by itself


def record_flags_send(
    *,
    customer,
    channel: str,
    purpose: str,
    text: str,
    subject: str = "",
    material: str = "",
    org_unit_id: int | None = None,
    source: str = "",
) -> ContactDecision:
    """Without marketing: the record's flags decide, and only e-mail can be delivered."""
    decision = contact_decide(
        customer=customer, channel=channel, purpose=purpose, material=material, source=source
    )
    if not decision:
        return decision
    if channel != "email" or not customer.email:
        return ContactDecision(False, "no_address")
    from django.core.mail import send_mail

    send_mail(subject or text[:60], text, None, [customer.email])
    return decision


_SENDER: list[Callable[..., ContactDecision]] = [record_flags_send]
_REASONS: dict[str, str] = {}


def register_contact_sender(sender: Callable[..., ContactDecision], reasons=()) -> None:
    """Install the delivery of single messages (marketing does: its SMS, WeChat and e-mail
    channels), with the labels of its refusal reasons as (code, label) pairs."""
    _SENDER[:] = [sender]
    _REASONS.update(dict(reasons))


def contact_reason_label(code: str) -> str:
    """The words for a refusal reason, for a page or a message (never the raw code)."""
    return str(_REASONS.get(code, code))


def contact_send(
    *,
    customer,
    channel: str,
    purpose: str,
    text: str,
    subject: str = "",
    material: str = "",
    org_unit_id: int | None = None,
    source: str = "",
) -> ContactDecision:
    """Send one message (a greeting, a reminder) if the contact policy allows it now.

    The decision is logged like every other (a refusal with its reason on the customer's
    timeline); an allowed message is delivered through the channel's provider. A delivery
    that fails raises, and is not counted as sent.
    """
    if channel not in DELIVERABLE or purpose not in PURPOSES:
        raise ValueError(f"cannot send by {channel} for {purpose}")
    return _SENDER[0](
        customer=customer,
        channel=channel,
        purpose=purpose,
        text=text,
        subject=subject,
        material=material,
        org_unit_id=org_unit_id,
        source=source,
    )
