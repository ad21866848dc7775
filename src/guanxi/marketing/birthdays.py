"""Automatic birthday greetings: every customer whose birthday is today in their branch's
time zone gets the configured greeting, through the one contact policy, once a year.

`birthday_greetings_run` is called by the scheduler every hour (a greeting held back by
quiet hours goes out in a later run, once the sending window opens). Each greeting is
claimed first — a row unique per customer × year, committed before the provider is called —
then sent, then confirmed: running twice sends once, two workers at once send once, and a
run that dies mid-send leaves at most the one greeting it was handing over `sending`; after
the lease that row is marked `unconfirmed` and never resent by itself. 29 February
birthdays are greeted on 28 February in other years. Every refusal is logged with its
reason (ContactAttempt, on the customer's timeline) and kept on the greeting's row.
"""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.calendar import time_zone_for_unit
from guanxi.core.errors import FieldError, Forbidden, ValidationFailed
from guanxi.core.models import OrgUnit, User
from guanxi.customers.models import Customer
from guanxi.interactions.models import GreetingTemplate
from guanxi.interactions.occasions import DEFAULT_GREETINGS

from . import policy, templating
from .models import (
    BirthdayGreeting,
    BirthdayGreetingSettings,
    ContactProfile,
    MessageTemplate,
    Purpose,
    SkipReason,
)

LEASE = timedelta(minutes=10)
SOURCE = "greeting:birthday:auto"
CHANNELS = ("sms", "wechat", "email")
Status = BirthdayGreeting.Status


def birthday_settings() -> BirthdayGreetingSettings:
    found = BirthdayGreetingSettings.objects.select_related("template").order_by("id").first()
    return found or BirthdayGreetingSettings()


def birthday_settings_save(
    *, actor: User, enabled: bool, channel: str = "", template_id: int | None = None
) -> BirthdayGreetingSettings:
    """An administrator turns the automatic greeting on or off and picks its channel and
    template (none: the company's birthday greeting text, else the built-in one)."""
    if not actor.is_admin:
        raise Forbidden(_("Only an administrator changes the automatic birthday greeting."))
    errors = []
    if channel not in ("", *CHANNELS):
        errors.append(FieldError("channel", "invalid_choice", _("Choose SMS, WeChat or e-mail.")))
    template = None
    if template_id:
        template = MessageTemplate.objects.filter(pk=template_id).first()
        if template is None:
            errors.append(FieldError("template", "not_found", _("Choose a template.")))
        elif channel and template.channel != channel:
            errors.append(
                FieldError("template", "wrong_channel", _("The template is for another channel."))
            )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row = BirthdayGreetingSettings.objects.select_for_update().order_by("id").first()
        row = row or BirthdayGreetingSettings()
        before = {"enabled": row.enabled, "channel": row.channel, "template": row.template_id}
        row.enabled, row.channel, row.template = bool(enabled), channel, template
        row.updated_at = timezone.now()
        row.save()
        after = {"enabled": row.enabled, "channel": row.channel, "template": row.template_id}
        audit_record(
            actor=actor,
            verb="birthday_greetings.settings",
            target=row,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
    return row


def birthday_on(day: date) -> Q:
    """Customers whose birthday falls on `day` (29 February on the 28th in other years)."""
    q = Q(birthday__month=day.month, birthday__day=day.day)
    if day.month == 2 and day.day == 28:
        try:
            date(day.year, 2, 29)
        except ValueError:
            q |= Q(birthday__month=2, birthday__day=29)
    return q


def _units_by_zone() -> dict[str, list[int | None]]:
    """Units grouped by the time zone of their branch's calendar (None: no unit)."""
    zones: dict[str, list[int | None]] = {settings.TIME_ZONE: [None]}
    for unit in OrgUnit.objects.all():
        zones.setdefault(time_zone_for_unit(unit), []).append(unit.pk)
    return zones


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _channel(customer: Customer, chosen: str) -> str:
    """The settings' channel, else the customer's preferred one, as manual greetings do."""
    if chosen:
        return chosen
    if customer.preferred_channel in CHANNELS:
        return customer.preferred_channel
    if customer.primary_phone:
        return "sms"
    return "wechat" if customer.wechat_id and not customer.email else "email"


def _text(customer: Customer, config: BirthdayGreetingSettings, lang: str) -> tuple[str, str]:
    """(subject, text) of the customer's greeting, in their language."""
    owner = customer.owner
    template = config.template
    if template is not None:
        english = lang == "en" and template.body_en
        context = templating.context_for(customer, str(owner) if owner else "")
        body = templating.render(template.body_en if english else template.body_zh, context)
        subject = templating.render(
            template.subject_en if english else template.subject_zh, context
        )
        return subject.strip(), body.strip()
    texts: dict[int | None, str] = dict(
        GreetingTemplate.objects.filter(occasion=GreetingTemplate.Occasion.BIRTHDAY, language=lang)
        .filter(Q(owner=owner) | Q(owner__isnull=True) if owner else Q(owner__isnull=True))
        .values_list("owner_id", "text")
    )
    source = (
        (texts.get(owner.pk) if owner else None)
        or texts.get(None)
        or DEFAULT_GREETINGS[("birthday", lang)]
    )
    signature = str(owner) if owner else (str(customer.org_unit) if customer.org_unit else "")
    text = source.replace("{name}", customer.name).replace("{salesperson}", signature)
    with translation.override(lang):
        subject = str(GreetingTemplate.Occasion.BIRTHDAY.label)
    return subject, text


def material_of(year: int) -> str:
    """The same material as a salesperson's manual birthday greeting of that year
    (interactions.greeting_send): whichever goes first, the customer gets one."""
    with translation.override("zh-hans"):
        return f"{GreetingTemplate.Occasion.BIRTHDAY.label} {year}"


def _claim(customer_id: int, year: int, token: str, now: datetime) -> BirthdayGreeting | None:
    """This run's claim on the customer's greeting of `year`, or None (another run's, or
    done). New rows by the unique index; waiting rows by a conditional UPDATE."""
    try:
        with transaction.atomic():
            return BirthdayGreeting.objects.create(
                customer_id=customer_id,
                year=year,
                status=Status.SENDING,
                claim=token,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    taken = BirthdayGreeting.objects.filter(
        customer_id=customer_id, year=year, status=Status.WAITING, not_before__lte=now
    ).update(status=Status.SENDING, claim=token, claimed_at=now)
    if not taken:
        return None
    return BirthdayGreeting.objects.get(customer_id=customer_id, year=year)


def _settle(row: BirthdayGreeting, **fields) -> None:
    BirthdayGreeting.objects.filter(pk=row.pk, claim=row.claim).update(**fields)


def _greet(customer: Customer, config: BirthdayGreetingSettings, year: int, now, token) -> str:
    """One customer's greeting: the outcome's status."""
    row = _claim(customer.pk, year, token, now)
    if row is None:
        return ""
    channel = _channel(customer, config.channel)
    material = material_of(year)
    common = {
        "channel": channel,
        "purpose": Purpose.GREETING,
        "material": material,
        "org_unit_id": customer.org_unit_id,
        "source": SOURCE,
        "at": now,
    }
    decision = policy.policy_decide(customer=customer, record=False, **common)
    if decision.not_before is not None:
        # Quiet hours: logged the first time, then it waits for the window to open.
        if row.reason != SkipReason.QUIET_HOURS:
            policy.record_skips([(customer.pk, SkipReason.QUIET_HOURS)], **common)
        _settle(
            row,
            status=Status.WAITING,
            reason=SkipReason.QUIET_HOURS,
            not_before=decision.not_before,
            channel=channel,
        )
        return Status.WAITING
    if not decision:
        policy.record_skips([(customer.pk, decision.reason)], **common)
        _settle(row, status=Status.SKIPPED, reason=decision.reason, channel=channel)
        return Status.SKIPPED
    languages = dict(
        ContactProfile.objects.filter(customer_id=customer.pk).values_list(
            "customer_id", "language"
        )
    )
    lang = "en" if languages.get(customer.pk, "zh-hans").startswith("en") else "zh-hans"
    subject, text = _text(customer, config, lang)
    try:
        sent = policy.policy_send(
            customer=customer,
            channel=channel,
            purpose=Purpose.GREETING,
            text=text,
            subject=subject,
            material=material,
            org_unit_id=customer.org_unit_id,
            source=SOURCE,
        )
    except Exception as exc:  # the provider's own errors: refused, unreachable
        _settle(row, status=Status.FAILED, reason="delivery_failed", error=str(exc)[:300])
        return Status.FAILED
    if not sent:  # decided between the two looks (e.g. a manual greeting just went out)
        _settle(row, status=Status.SKIPPED, reason=sent.reason, channel=channel)
        return Status.SKIPPED
    _settle(row, status=Status.SENT, reason="", channel=channel, sent_at=timezone.now())
    return Status.SENT


def birthday_greetings_run(*, now: datetime | None = None) -> dict[str, int]:
    """Greet today's birthdays (each branch's today) that were not greeted this year."""
    now = now or timezone.now()
    config = birthday_settings()
    if not config.enabled:
        return {}
    # Greetings a dead run was handing over: they may have gone out; never resent blindly.
    BirthdayGreeting.objects.filter(status=Status.SENDING, claimed_at__lt=now - LEASE).update(
        status=Status.UNCONFIRMED
    )
    token = uuid.uuid4().hex
    counts: dict[str, int] = {}
    for zone, unit_ids in _units_by_zone().items():
        today = now.astimezone(_zone(zone)).date()
        units = Q(org_unit_id__in=[u for u in unit_ids if u is not None])
        if None in unit_ids:
            units |= Q(org_unit__isnull=True)
        done = BirthdayGreeting.objects.filter(year=today.year).exclude(
            status=Status.WAITING, not_before__lte=now
        )
        customers = (
            Customer.objects.filter(units, birthday_on(today))
            .filter(archived_at__isnull=True, merged_into__isnull=True)
            .exclude(pk__in=done.values("customer_id"))
            .select_related("owner", "org_unit")
            .order_by("id")
        )
        for customer in list(customers):
            status = _greet(customer, config, today.year, now, token)
            if status:
                counts[status] = counts.get(status, 0) + 1
    return counts
