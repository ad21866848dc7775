"""The contact policy (C7): one set of rules for every channel, purpose and department.

`evaluate` decides for many customers at once (a campaign batch: a handful of queries,
whatever its size); `policy_decide` is the one-customer form that `customers.contact`
routes every other sender through. Rules, in order:

1. archived or merged records, then do-not-contact (the record's flag), then the record's
   per-channel consent; a missing address for the channel; an e-mail address that bounced
   hard (a DSN with 5.x.x) gets nothing more, whatever the purpose;
2. per-purpose consent: a withdrawal (unsubscribe link, SMS 退订, a call) stops that
   purpose on that channel; with GUANXI_CONTACT_REQUIRE_OPT_IN promotions need a grant;
3. the customer's "news frequency" (never / monthly / quarterly) for promotions;
4. frequency caps per channel and across channels over a rolling window (promotions and
   greetings; service notices are not capped);
5. material-level dedupe: a customer who received a material (its fingerprint) from any
   department does not get it again;
6. quiet hours per channel in the customer's local time (commercial SMS 08:00–21:00): the
   message is deferred to the window's next opening, not dropped.

Every refusal is logged (ContactAttempt) with its reason; it shows on the campaign and on the
customer's timeline.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from guanxi.customers.contact import ContactDecision

from .channels import email_connection, sms_backend, wechat_backend
from .models import (
    Channel,
    ContactAttempt,
    ContactPermission,
    ContactProfile,
    EmailSuppression,
    Purpose,
    SkipReason,
)

DEFAULT_CAPS = {
    "window_days": 30,
    "email": 4,
    "sms": 2,
    "phone": 2,
    "post": 2,
    "wechat": 4,
    "total": 8,
}
# Allowed sending windows (local time) per channel for promotions and greetings.
DEFAULT_WINDOWS = {"sms": ("08:00", "21:00"), "phone": ("09:00", "20:00")}
NEWS_WINDOW_DAYS = {"monthly": 30, "quarterly": 90}
CAPPED_PURPOSES = (Purpose.MARKETING, Purpose.GREETING)


def caps() -> dict:
    return {**DEFAULT_CAPS, **getattr(settings, "GUANXI_CONTACT_CAPS", {})}


def windows() -> dict:
    return {**DEFAULT_WINDOWS, **getattr(settings, "GUANXI_CONTACT_WINDOWS", {})}


def fingerprint_of(material: str) -> str:
    """The same brochure named with different spacing or case is the same material."""
    key = " ".join(material.split()).casefold()
    return hashlib.sha256(key.encode()).hexdigest() if key else ""


def address_of(customer, channel: str) -> str:
    addresses: dict[str, str] = {
        Channel.EMAIL: customer.email,
        Channel.SMS: customer.primary_phone,
        Channel.PHONE: customer.primary_phone,
        Channel.WECHAT: customer.wechat_id,
        Channel.POST: customer.address,
    }
    return addresses.get(channel, "")


def _parse(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(channel: str, purpose: str, at: datetime, tz_name: str) -> datetime | None:
    """None inside the channel's sending window; else when the window next opens."""
    window = windows().get(channel)
    if not window or purpose not in CAPPED_PURPOSES:
        return None
    start, end = _parse(window[0]), _parse(window[1])
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        tz = ZoneInfo(settings.TIME_ZONE)
    local = at.astimezone(tz)
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz)


@dataclass
class Verdict:
    reason: str = ""
    not_before: datetime | None = None

    @property
    def allowed(self) -> bool:
        return not self.reason


def evaluate(
    customers,
    *,
    channel: str,
    purpose: str,
    fingerprint: str = "",
    at: datetime | None = None,
) -> dict[int, Verdict]:
    """The policy's verdict for each customer, in a fixed number of queries."""
    at = at or timezone.now()
    customers = list(customers)
    ids = [c.pk for c in customers]
    permissions = dict(
        ((cid, ch), granted)
        for cid, ch, granted in ContactPermission.objects.filter(
            customer_id__in=ids, purpose=purpose
        ).values_list("customer_id", "channel", "granted")
    )
    limits = caps()
    counts: dict[int, dict[str, int]] = {}
    spans: dict[int, int] = {}
    if purpose in CAPPED_PURPOSES:
        since = at - timedelta(days=max(limits["window_days"], *NEWS_WINDOW_DAYS.values()))
        rows = (
            ContactAttempt.objects.filter(
                customer_id__in=ids,
                outcome=ContactAttempt.Outcome.SENT,
                purpose__in=CAPPED_PURPOSES,
                at__gte=since,
            )
            .values_list("customer_id", "channel", "at")
            .order_by()
        )
        window_start = at - timedelta(days=limits["window_days"])
        for cid, ch, sent_at in rows:
            if sent_at >= window_start:
                per = counts.setdefault(cid, {})
                per[ch] = per.get(ch, 0) + 1
                per["total"] = per.get("total", 0) + 1
            age = (at - sent_at).days
            spans[cid] = min(spans.get(cid, age), age)
    already = (
        set(
            ContactAttempt.objects.filter(
                customer_id__in=ids, fingerprint=fingerprint, outcome=ContactAttempt.Outcome.SENT
            ).values_list("customer_id", flat=True)
        )
        if fingerprint
        else set()
    )
    zones = (
        dict(
            ContactProfile.objects.filter(customer_id__in=ids).values_list(
                "customer_id", "time_zone"
            )
        )
        if channel in windows()
        else {}
    )
    # Hard bounces: the address itself refuses mail, whatever the purpose.
    bounced = (
        set(
            EmailSuppression.objects.filter(
                address__in={c.email.strip().lower() for c in customers if c.email}
            ).values_list("address", flat=True)
        )
        if channel == Channel.EMAIL
        else set()
    )
    opt_in = getattr(settings, "GUANXI_CONTACT_REQUIRE_OPT_IN", False)
    verdicts: dict[int, Verdict] = {}
    for c in customers:
        verdicts[c.pk] = _one(
            c,
            channel=channel,
            purpose=purpose,
            permission=permissions.get((c.pk, channel)),
            opt_in=opt_in,
            counts=counts.get(c.pk, {}),
            last_days=spans.get(c.pk),
            limits=limits,
            duplicate=c.pk in already,
            bounced=bool(bounced) and c.email.strip().lower() in bounced,
            at=at,
            tz_name=zones.get(c.pk, settings.TIME_ZONE),
        )
    return verdicts


def _one(
    c,
    *,
    channel,
    purpose,
    permission,
    opt_in,
    counts,
    last_days,
    limits,
    duplicate,
    bounced,
    at,
    tz_name,
):
    if c.archived_at or c.merged_into_id:
        return Verdict(SkipReason.ARCHIVED)
    if c.do_not_contact:
        return Verdict(SkipReason.DO_NOT_CONTACT)
    if not getattr(c, f"consent_{channel}", True):
        return Verdict(SkipReason.NO_CONSENT)
    if permission is False:
        return Verdict(SkipReason.WITHDRAWN)
    if permission is None and opt_in and purpose == Purpose.MARKETING:
        return Verdict(SkipReason.NO_CONSENT)
    if not address_of(c, channel):
        return Verdict(SkipReason.NO_ADDRESS)
    if bounced:
        return Verdict(SkipReason.BOUNCED)
    if purpose == Purpose.MARKETING:
        if c.news_frequency == "never":
            return Verdict(SkipReason.NEWS_NEVER)
        span = NEWS_WINDOW_DAYS.get(c.news_frequency)
        if span and last_days is not None and last_days < span:
            return Verdict(SkipReason.TOTAL_CAP)
    if purpose in CAPPED_PURPOSES:
        if counts.get(channel, 0) >= limits.get(channel, 10**6):
            return Verdict(SkipReason.CHANNEL_CAP)
        if counts.get("total", 0) >= limits["total"]:
            return Verdict(SkipReason.TOTAL_CAP)
    if duplicate:
        return Verdict(SkipReason.DUPLICATE_MATERIAL)
    opens = quiet_until(channel, purpose, at, tz_name)
    if opens is not None:
        return Verdict(SkipReason.QUIET_HOURS, opens)
    return Verdict()


def record_sent(
    *,
    customer_id: int,
    channel: str,
    purpose: str,
    fingerprint: str = "",
    material: str = "",
    org_unit_id: int | None = None,
    campaign_id: int | None = None,
    source: str = "",
    at: datetime | None = None,
) -> bool:
    """Log a message as sent. False when this material already reached the customer: the
    unique index on (fingerprint, customer) settles two departments sending at once."""
    try:
        with transaction.atomic():
            ContactAttempt.objects.create(
                customer_id=customer_id,
                channel=channel,
                purpose=purpose,
                outcome=ContactAttempt.Outcome.SENT,
                fingerprint=fingerprint,
                material=material[:200],
                org_unit_id=org_unit_id,
                campaign_id=campaign_id,
                source=source[:60],
                at=at or timezone.now(),
            )
    except IntegrityError:
        return False
    return True


def record_skips(
    rows, *, channel, purpose, material="", org_unit_id=None, campaign_id=None, source="", at=None
):
    """Log refusals: rows of (customer_id, reason)."""
    at = at or timezone.now()
    ContactAttempt.objects.bulk_create(
        ContactAttempt(
            customer_id=cid,
            channel=channel,
            purpose=purpose,
            outcome=ContactAttempt.Outcome.SKIPPED,
            reason=reason,
            material=material[:200],
            org_unit_id=org_unit_id,
            campaign_id=campaign_id,
            source=source[:60],
            at=at,
        )
        for cid, reason in rows
    )


def policy_decide(
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
    """`customers.contact.contact_decide` for one message outside a campaign."""
    at = at or timezone.now()
    fingerprint = fingerprint_of(material)
    verdict = evaluate(
        [customer], channel=channel, purpose=purpose, fingerprint=fingerprint, at=at
    )[customer.pk]
    if not record:
        return ContactDecision(verdict.allowed, verdict.reason, verdict.not_before)
    common: dict[str, Any] = {
        "channel": channel,
        "purpose": purpose,
        "material": material,
        "org_unit_id": org_unit_id,
        "source": source,
        "at": at,
    }
    if verdict.allowed:
        if record_sent(customer_id=customer.pk, fingerprint=fingerprint, **common):
            return ContactDecision(True)
        verdict = Verdict(SkipReason.DUPLICATE_MATERIAL)
    record_skips([(customer.pk, verdict.reason)], **common)
    return ContactDecision(False, verdict.reason, verdict.not_before)


def policy_send(
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
    """`customers.contact.contact_send`: the policy's decision (reserving the material, so
    two senders at once reach the customer once), then the channel's provider. A delivery
    that fails gives the reservation back and raises."""

    at = timezone.now()
    decision = policy_decide(
        customer=customer,
        channel=channel,
        purpose=purpose,
        material=material,
        org_unit_id=org_unit_id,
        source=source,
        at=at,
    )
    if not decision:
        return decision
    reference = f"<gx.direct.{customer.pk}.{int(at.timestamp() * 1000)}@{_domain()}>"
    try:
        if channel == Channel.EMAIL:
            from django.core.mail import EmailMessage

            EmailMessage(
                subject=subject or text.splitlines()[0][:60],
                body=text,
                from_email=getattr(settings, "GUANXI_MARKETING_FROM", None),
                to=[customer.email],
                headers={"Message-ID": reference},
                connection=email_connection(),
            ).send()
        else:
            backend = sms_backend() if channel == Channel.SMS else wechat_backend()
            backend.send(address_of(customer, channel), text, reference)
    except Exception:
        ContactAttempt.objects.filter(
            customer_id=customer.pk, outcome=ContactAttempt.Outcome.SENT, at=at, source=source[:60]
        ).delete()
        raise
    return decision


def _domain() -> str:
    return getattr(settings, "GUANXI_MARKETING_MESSAGE_DOMAIN", "guanxi.local")
