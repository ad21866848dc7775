"""Every change marketing makes: consent, segments, templates, campaigns, tracking, leads.

Keyword-only, one transaction, a permission check and an audit entry, as everywhere.
Changes to a customer record itself go through the customers services.
"""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import OrgUnit, User
from guanxi.core.visibility import can_edit, customer_visibility_q, mask_phone
from guanxi.customers.keys import InvalidPhone, normalize_phone
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.sales.models import Order

from . import bounces, policy, segments, templating, tokens
from .channels import email_connection
from .models import (
    Campaign,
    Channel,
    ConsentEvidence,
    ContactPermission,
    EmailSuppression,
    ExportGrant,
    LeadForm,
    MessageTemplate,
    Purpose,
    Recipient,
    Segment,
    SegmentMember,
)
from .permissions import can_grant_export, can_market, may_use_unit, takes_leads, unit_scope_q
from .sending import Renderer

CAMPAIGN_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WECHAT, Channel.POST, Channel.PHONE)
# SMS replies that mean "stop" (China's carriers: 退订 / T / TD; R for 拒收).
STOP_WORDS = {"T", "TD", "R", "N", "退订", "退", "拒收", "STOP", "UNSUBSCRIBE"}


def _require_marketer(actor: User) -> None:
    if not can_market(actor):
        raise Forbidden(_("Only marketers and managers work on marketing."))


# ---- consent ---------------------------------------------------------------------------------


def consent_record(
    *,
    actor: User | None,
    customer_id: int,
    channels: list[str],
    purpose: str,
    granted: bool,
    method: str,
    text_version: str = "",
    evidence: str = "",
    at: datetime | None = None,
) -> list[ConsentEvidence]:
    """Record consent given or withdrawn, with its proof; effective at once for every sender.

    `actor` None is the customer themselves (unsubscribe link, SMS reply, web form).
    """
    errors = []
    if not channels or any(ch not in Channel.values for ch in channels):
        errors.append(FieldError("channels", "invalid_choice", _("Choose the channels.")))
    if purpose not in Purpose.values:
        errors.append(FieldError("purpose", "invalid_choice", _("Choose the purpose.")))
    if method not in ConsentEvidence.Method.values:
        errors.append(FieldError("method", "invalid_choice", _("How was it given?")))
    if errors:
        raise ValidationFailed(errors)
    at = at or timezone.now()
    with transaction.atomic():
        if actor is None:
            customer = Customer.objects.filter(pk=customer_id).first()
            if customer is None:
                raise NotFound(_("Customer not found."))
        else:
            customer = Customer.objects.filter(customer_visibility_q(actor), pk=customer_id).first()
            if customer is None:
                raise NotFound(_("Customer not found."))
            if not (can_edit(actor, customer) or can_market(actor)):
                raise Forbidden(_("You may not record consent for this customer."))
        rows = ConsentEvidence.objects.bulk_create(
            ConsentEvidence(
                customer=customer,
                channel=ch,
                purpose=purpose,
                granted=granted,
                method=method,
                text_version=text_version[:40],
                evidence=evidence[:500],
                recorded_by=actor,
                at=at,
            )
            for ch in dict.fromkeys(channels)
        )
        for ch in dict.fromkeys(channels):
            ContactPermission.objects.update_or_create(
                customer=customer,
                channel=ch,
                purpose=purpose,
                defaults={"granted": granted, "updated_at": at},
            )
        audit_record(
            actor=actor,
            verb="consent.grant" if granted else "consent.withdraw",
            target=customer,
            changes={"channels": list(channels), "purpose": purpose, "method": method},
            note=evidence[:200],
        )
    return rows


def record_consent_change(*, customer, created: bool, changed, now) -> list[str]:
    """Customer hook: a change of the record's own consent flags is kept as evidence too."""
    flags = {f"consent_{ch}": ch for ch in Channel.values}
    touched = [name for name in changed if name in flags or name == "do_not_contact"]
    if created or not touched:
        return []
    ConsentEvidence.objects.bulk_create(
        ConsentEvidence(
            customer=customer,
            channel=flags.get(name, ch),
            purpose=Purpose.MARKETING,
            granted=bool(getattr(customer, name)) if name in flags else not customer.do_not_contact,
            method=ConsentEvidence.Method.STAFF,
            evidence=_("Changed on the customer record (%s).") % name,
            at=now,
        )
        for name in touched
        for ch in ([flags[name]] if name in flags else Channel.values)
    )
    return []


CONSENT_EXPORT_HEADER = (
    "when",
    "channel",
    "purpose",
    "granted",
    "how",
    "text version",
    "recorded by",
    "evidence",
)


def consent_export_rows(*, viewer: User, customer_id: int) -> list[tuple]:
    """The consent history of one customer, as proof (PIPL): one row per decision."""
    customer = Customer.objects.filter(customer_visibility_q(viewer), pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    rows = (
        ConsentEvidence.objects.filter(customer=customer)
        .select_related("recorded_by")
        .order_by("at", "id")
    )
    return [
        (
            timezone.localtime(e.at).isoformat(timespec="seconds"),
            e.channel,
            e.purpose,
            "yes" if e.granted else "no",
            e.method,
            e.text_version,
            str(e.recorded_by) if e.recorded_by else "customer",
            e.evidence,
        )
        for e in rows
    ]


def unsubscribe(*, token: str, all_channels: bool = False, one_click: bool = False) -> dict:
    """The POST behind an unsubscribe link: withdraw that purpose on that channel (or all)."""
    data = tokens.read_unsubscribe(token)
    channels = list(Channel.values) if all_channels else [data["ch"]]
    consent_record(
        actor=None,
        customer_id=data["c"],
        channels=channels,
        purpose=data["p"],
        granted=False,
        method=ConsentEvidence.Method.LINK,
        evidence=("one-click (RFC 8058)" if one_click else "unsubscribe page")
        + (f", campaign {data['k']}" if data.get("k") else ""),
    )
    return data


def _customer_by_phone(raw: str) -> Customer | None:
    try:
        number = normalize_phone(raw).e164
    except InvalidPhone:
        return None
    match = CustomerPhone.objects.select_related("customer").filter(number=number).first()
    customer = match.customer if match else None
    while customer is not None and customer.merged_into_id:
        customer = customer.merged_into
    return customer


def sms_inbound(*, sender: str, text: str) -> str:
    """An SMS reply from the provider's callback. 退订 / T / TD / R: promotions stop at once,
    on every channel; anything else counts as a response to the latest SMS campaign."""
    customer = _customer_by_phone(sender)
    if customer is None:
        return "unknown"
    word = text.strip().strip("。.!！ ").upper()
    if word in STOP_WORDS:
        consent_record(
            actor=None,
            customer_id=customer.pk,
            channels=list(Channel.values),
            purpose=Purpose.MARKETING,
            granted=False,
            method=ConsentEvidence.Method.REPLY,
            evidence=_("SMS reply “%s”") % text.strip()[:50],
        )
        return "unsubscribed"
    latest = (
        Recipient.objects.filter(
            customer=customer, campaign__channel=Channel.SMS, status=Recipient.Status.SENT
        )
        .order_by("-sent_at")
        .first()
    )
    if latest and latest.responded_at is None:
        Recipient.objects.filter(pk=latest.pk).update(responded_at=timezone.now())
    return "response"


def bounce_process(*, raw: bytes) -> dict:
    """Apply one delivery status notification (RFC 3464) from the mail server.

    Each failed recipient marks the campaign's recipient row bounced (found by our Message-ID,
    else by the address's latest message); a hard bounce (5.x.x) also stops every further
    e-mail to that address, from any department (the contact policy's `bounced`). Delayed and
    delivered reports change nothing. Safe to apply the same report twice.
    """
    try:
        found = bounces.parse_dsn(raw)
    except bounces.NotADsn:
        return {"result": "not_a_dsn", "bounced": 0, "hard": 0}
    now = timezone.now()
    bounced = hard = 0
    with transaction.atomic():
        for b in found:
            if not b.failed:
                continue
            rid = b.recipient_id()
            recipient = Recipient.objects.filter(pk=rid).first() if rid else None
            if recipient is None:
                recipient = (
                    Recipient.objects.filter(
                        address__iexact=b.address, status=Recipient.Status.SENT
                    )
                    .order_by("-sent_at", "-id")
                    .first()
                )
            if recipient is not None:
                bounced += Recipient.objects.filter(
                    pk=recipient.pk, bounced_at__isnull=True
                ).update(bounced_at=now, bounce_status=b.status, error=b.diagnostic[:300])
            if not b.hard:
                continue
            address = (recipient.address if recipient is not None else b.address).lower()
            customer_id = (
                recipient.customer_id
                if recipient is not None
                else Customer.objects.filter(email_key=address).values_list("id", flat=True).first()
            )
            made = EmailSuppression.objects.bulk_create(
                [
                    EmailSuppression(
                        address=address[:254],
                        customer_id=customer_id,
                        recipient=recipient,
                        status=b.status,
                        diagnostic=b.diagnostic[:300],
                        at=now,
                    )
                ],
                ignore_conflicts=True,
            )
            suppression = EmailSuppression.objects.filter(address=address[:254]).first()
            if suppression is not None and made and suppression.at == now:
                hard += 1
                audit_record(
                    actor=None,
                    verb="email.bounce",
                    target=suppression,
                    changes={"status": b.status, "customer": customer_id},
                    note=b.diagnostic[:200],
                )
    return {"result": "processed", "bounced": bounced, "hard": hard}


# ---- segments --------------------------------------------------------------------------------


def _unit_for(actor: User, org_unit_id: int | None) -> OrgUnit:
    unit = OrgUnit.objects.filter(pk=org_unit_id).first() if org_unit_id else actor.org_unit
    if unit is None or not may_use_unit(actor, unit.pk):
        raise ValidationFailed.single("org_unit", "invalid_choice", _("Choose your department."))
    return unit


def segment_get(*, viewer: User, pk: int) -> Segment:
    segment = Segment.objects.filter(unit_scope_q(viewer), pk=pk).select_related("org_unit").first()
    if segment is None or not can_market(viewer):
        raise NotFound(_("Segment not found."))
    return segment


def segment_save(
    *,
    actor: User,
    name: str,
    kind: str = Segment.Kind.DYNAMIC,
    rules: dict | None = None,
    segment_id: int | None = None,
    org_unit_id: int | None = None,
    rebuild: bool = True,
) -> Segment:
    _require_marketer(actor)
    name = name.strip()
    if not name:
        raise ValidationFailed.single("name", "required", _("Give the segment a name."))
    if kind not in Segment.Kind.values:
        raise ValidationFailed.single("kind", "invalid_choice", _("Dynamic or static?"))
    rules = rules or {"all": []}
    if kind == Segment.Kind.DYNAMIC:
        segments.rules_q(rules)
    with transaction.atomic():
        if segment_id:
            segment = segment_get(viewer=actor, pk=segment_id)
            segment.name, segment.rules = name[:100], rules
            segment.save(update_fields=["name", "rules"])
            verb = "segment.update"
        else:
            segment = Segment.objects.create(
                name=name[:100],
                kind=kind,
                rules=rules,
                org_unit=_unit_for(actor, org_unit_id),
                created_by=actor,
            )
            verb = "segment.create"
        audit_record(actor=actor, verb=verb, target=segment, changes={"rules": rules})
    if rebuild and segment.kind == Segment.Kind.DYNAMIC:
        segment = segments.segment_rebuild(segment_id=segment.pk)
    return segment


def segment_add_customers(*, actor: User, segment_id: int, customer_ids: list[int]) -> int:
    """A static list: add the visible customers among `customer_ids`."""
    segment = segment_get(viewer=actor, pk=segment_id)
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationFailed.single(
            "kind", "not_static", _("Only a static list takes customers by hand.")
        )
    with transaction.atomic():
        ids = list(
            segments.base_queryset(segment)
            .filter(customer_visibility_q(actor), pk__in=customer_ids)
            .values_list("pk", flat=True)
        )
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=segment, customer_id=i) for i in ids], ignore_conflicts=True
        )
        count = SegmentMember.objects.filter(segment=segment).count()
        Segment.objects.filter(pk=segment.pk).update(member_count=count)
        audit_record(actor=actor, verb="segment.add", target=segment, changes={"added": len(ids)})
    return len(ids)


def segment_preview(
    *, viewer: User, rules: dict, org_unit_id: int | None = None, limit: int = 10
) -> dict:
    """Live count and the first customers of a filter being edited (masked for marketers)."""
    _require_marketer(viewer)
    unit = _unit_for(viewer, org_unit_id)
    qs = segments.base_queryset(unit).filter(segments.rules_q(rules))
    rows = list(qs.order_by("-id")[:limit])
    return {"count": qs.count(), "rows": rows}


def export_grant(
    *, actor: User, segment_id: int, grantee: User, reason: str, days: int = 7
) -> ExportGrant:
    """A manager allows one marketer to export a segment with phones, for a few days."""
    if not can_grant_export(actor):
        raise Forbidden(_("Only a manager grants exports of sensitive fields."))
    segment = segment_get(viewer=actor, pk=segment_id)
    if not reason.strip():
        raise ValidationFailed.single("reason", "required", _("Say why the export is needed."))
    with transaction.atomic():
        grant = ExportGrant.objects.create(
            segment=segment,
            grantee=grantee,
            granted_by=actor,
            reason=reason.strip()[:300],
            expires_at=timezone.now() + timedelta(days=max(1, min(days, 30))),
        )
        audit_record(
            actor=actor,
            verb="segment.export_grant",
            target=segment,
            changes={"grantee": grantee.pk},
            note=reason,
        )
    return grant


def segment_export_rows(*, actor: User, segment_id: int, sensitive: bool = False):
    """Rows of a segment export. Phones only with a manager's live grant (or for admins)."""

    segment = segment_get(viewer=actor, pk=segment_id)
    if sensitive and not actor.is_admin:
        grant = ExportGrant.objects.filter(
            segment=segment, grantee=actor, expires_at__gt=timezone.now()
        ).exists()
        if not grant:
            raise Forbidden(_("Exporting phones needs a manager's grant."), code="grant_required")
    audit_record(
        actor=actor, verb="segment.export", target=segment, changes={"sensitive": sensitive}
    )
    members = (
        Customer.objects.filter(
            pk__in=SegmentMember.objects.filter(segment=segment).values("customer_id")
        )
        .filter(customer_visibility_q(actor))
        .order_by("id")
    )
    header = ["id", "name", "city", "stage", "email", "phone"]
    yield header
    for c in members.iterator(chunk_size=2000):
        phone = (
            c.primary_phone if sensitive else mask_phone(c.primary_phone) if c.primary_phone else ""
        )
        yield [c.pk, c.name, c.city, c.stage, c.email, phone]


# ---- templates and campaigns ------------------------------------------------------------------


TEMPLATE_FIELDS = ("name", "channel", "subject_zh", "body_zh", "subject_en", "body_en")


def template_save(*, actor: User, data: dict, template_id: int | None = None) -> MessageTemplate:
    """Save a message template; code or unknown placeholders are refused here, not at send."""
    _require_marketer(actor)
    data = {k: (data.get(k) or "").strip() for k in TEMPLATE_FIELDS}
    errors = []
    if not data["name"]:
        errors.append(FieldError("name", "required", _("Give the template a name.")))
    if data["channel"] not in CAMPAIGN_CHANNELS:
        errors.append(FieldError("channel", "invalid_choice", _("Choose a channel.")))
    if not data["body_zh"]:
        errors.append(FieldError("body_zh", "required", _("The Chinese text is required.")))
    if data["channel"] == Channel.EMAIL and not data["subject_zh"]:
        errors.append(FieldError("subject_zh", "required", _("An e-mail needs a subject.")))
    if errors:
        raise ValidationFailed(errors)
    templating.validate_template_fields(
        {k: data[k] for k in TEMPLATE_FIELDS if k not in ("name", "channel")}
    )
    with transaction.atomic():
        if template_id:
            template = MessageTemplate.objects.filter(pk=template_id).first()
            if template is None:
                raise NotFound(_("Template not found."))
            for k, v in data.items():
                setattr(template, k, v)
            template.save()
        else:
            template = MessageTemplate.objects.create(created_by=actor, **data)
        audit_record(actor=actor, verb="template.save", target=template)
    return template


def campaign_get(*, viewer: User, pk: int) -> Campaign:
    campaign = (
        Campaign.objects.filter(unit_scope_q(viewer), pk=pk)
        .select_related("template", "segment", "org_unit")
        .first()
    )
    if campaign is None or not can_market(viewer):
        raise NotFound(_("Campaign not found."))
    return campaign


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value or "0")).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValidationFailed.single(field, "invalid", _("An amount in CNY.")) from exc
    if amount < 0:
        raise ValidationFailed.single(field, "negative", _("Not below zero."))
    return amount


def campaign_create(
    *,
    actor: User,
    name: str,
    template_id: int,
    segment_id: int,
    purpose: str = Purpose.MARKETING,
    material: str = "",
    org_unit_id: int | None = None,
    cost_per_message="0",
    fixed_cost="0",
    attribution_days: int = 30,
) -> Campaign:
    _require_marketer(actor)
    errors = []
    if not name.strip():
        errors.append(FieldError("name", "required", _("Give the campaign a name.")))
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        errors.append(FieldError("template", "invalid_choice", _("Choose a template.")))
    segment = Segment.objects.filter(unit_scope_q(actor), pk=segment_id).first()
    if segment is None:
        errors.append(FieldError("segment", "invalid_choice", _("Choose an audience.")))
    if purpose not in Purpose.values:
        errors.append(FieldError("purpose", "invalid_choice", _("Choose the purpose.")))
    if not 1 <= int(attribution_days or 0) <= 365:
        errors.append(FieldError("attribution_days", "out_of_range", _("Between 1 and 365 days.")))
    if errors or template is None or segment is None:
        raise ValidationFailed(errors)
    unit = _unit_for(actor, org_unit_id)
    material = material.strip()
    # Blank material: the template's own text is the material (same text, same fingerprint).
    key = material or f"template:{template.channel}:{template.subject_zh}\n{template.body_zh}"
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name.strip()[:100],
            channel=template.channel,
            purpose=purpose,
            template=template,
            segment=segment,
            org_unit=unit,
            material=material[:200],
            fingerprint=policy.fingerprint_of(key),
            cost_per_message=_money(cost_per_message, "cost_per_message"),
            fixed_cost=_money(fixed_cost, "fixed_cost"),
            attribution_days=int(attribution_days),
            created_by=actor,
        )
        audit_record(actor=actor, verb="campaign.create", target=campaign)
    return campaign


def campaign_schedule(*, actor: User, campaign_id: int, at: datetime | None = None) -> Campaign:
    """Send at `at` (now when empty): the worker's scan picks it up."""
    with transaction.atomic():
        campaign = campaign_get(viewer=actor, pk=campaign_id)
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            raise ValidationFailed.single(
                "status", "not_draft", _("This campaign has already been sent.")
            )
        if at is not None and timezone.is_naive(at):
            at = timezone.make_aware(at)
        campaign.status, campaign.scheduled_at = Campaign.Status.SCHEDULED, at or timezone.now()
        campaign.save(update_fields=["status", "scheduled_at"])
        audit_record(
            actor=actor,
            verb="campaign.schedule",
            target=campaign,
            changes={"at": str(campaign.scheduled_at)},
        )
    return campaign


def campaign_cancel(*, actor: User, campaign_id: int) -> Campaign:
    with transaction.atomic():
        campaign = campaign_get(viewer=actor, pk=campaign_id)
        updated = Campaign.objects.filter(
            pk=campaign.pk,
            status__in=[Campaign.Status.DRAFT, Campaign.Status.SCHEDULED, Campaign.Status.SENDING],
        ).update(status=Campaign.Status.CANCELLED)
        if not updated:
            raise ValidationFailed.single("status", "finished", _("This campaign has finished."))
        audit_record(actor=actor, verb="campaign.cancel", target=campaign)
    campaign.refresh_from_db()
    return campaign


def campaign_test_send(*, actor: User, campaign_id: int, to: str) -> None:
    """A test e-mail to a colleague's address, personalised with sample values."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    campaign = campaign_get(viewer=actor, pk=campaign_id)
    if campaign.channel != Channel.EMAIL:
        raise ValidationFailed.single(
            "channel", "not_email", _("Test sends are for e-mail campaigns.")
        )
    try:
        validate_email(to)
    except ValidationError as exc:
        raise ValidationFailed.single(
            "to", "invalid_email", _("Not a valid e-mail address.")
        ) from exc
    sample = Customer(
        pk=0,
        name=templating.SAMPLE["name"],
        gender="m",
        kind="person",
        company="华强电子",
        city="北京",
    )
    recipient = Recipient(
        pk=0,
        campaign=campaign,
        customer=sample,
        address=to,
        message_id=f"<gx.test.{campaign.pk}@guanxi.local>",
    )
    message = Renderer(campaign).email(recipient, "zh-hans")
    message.subject = "[TEST] " + message.subject
    with email_connection() as conn:
        conn.send_messages([message])
    audit_record(actor=actor, verb="campaign.test_send", target=campaign, note=to)


# ---- tracking --------------------------------------------------------------------------------


def track_open(*, token: str) -> None:
    recipient_id = tokens.read_open(token)
    Recipient.objects.filter(pk=recipient_id, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


def track_click(*, token: str) -> str:
    """The signed address to redirect to; a click also proves the message was opened."""
    recipient_id, url = tokens.read_click(token)
    now = timezone.now()
    Recipient.objects.filter(pk=recipient_id, clicked_at__isnull=True).update(clicked_at=now)
    Recipient.objects.filter(pk=recipient_id, opened_at__isnull=True).update(opened_at=now)
    return url


def attribute_conversions(*, campaign_id: int) -> int:
    """Orders placed by a recipient within the window after the message: converted, with
    their total as attributed revenue. Idempotent (recomputed from the orders)."""

    campaign = Campaign.objects.get(pk=campaign_id)
    window = timedelta(days=campaign.attribution_days)
    converted = 0
    sent = Recipient.objects.filter(
        campaign=campaign, status=Recipient.Status.SENT, sent_at__isnull=False
    )
    for r in sent.iterator(chunk_size=2000):
        assert r.sent_at is not None  # filtered above
        orders = Order.objects.filter(
            customer_id=r.customer_id, created_at__gte=r.sent_at, created_at__lte=r.sent_at + window
        ).exclude(status=Order.Status.CANCELLED)
        first = orders.order_by("created_at").values_list("created_at", flat=True).first()
        revenue = orders.aggregate(s=Sum("total"))["s"] or Decimal("0.00")
        if first != r.converted_at or revenue != r.revenue:
            Recipient.objects.filter(pk=r.pk).update(converted_at=first, revenue=revenue)
        converted += first is not None
    return converted


def campaign_figures(campaign: Campaign) -> dict:
    """Sent / bounced / opened / clicked / responded / converted, cost and revenue."""
    from django.db.models import Count

    qs = Recipient.objects.filter(campaign=campaign)
    status = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
    agg = qs.aggregate(
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        responded=Count("id", filter=Q(responded_at__isnull=False)),
        converted=Count("id", filter=Q(converted_at__isnull=False)),
        revenue=Sum("revenue"),
    )
    sent = status.get(Recipient.Status.SENT, 0)
    cost = campaign.fixed_cost + campaign.cost_per_message * sent
    revenue = agg["revenue"] or Decimal("0.00")
    skips = dict(
        qs.filter(status=Recipient.Status.SKIPPED)
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    deferred = qs.filter(status=Recipient.Status.PENDING, reason="quiet_hours").count()
    return {
        "total": sum(status.values()),
        "pending": status.get(Recipient.Status.PENDING, 0),
        "sent": sent,
        "skipped": status.get(Recipient.Status.SKIPPED, 0),
        "failed": status.get(Recipient.Status.FAILED, 0),
        "unconfirmed": status.get(Recipient.Status.UNCONFIRMED, 0),
        "deferred": deferred,
        "skips": skips,
        **{k: agg[k] for k in ("opened", "clicked", "bounced", "responded", "converted")},
        "cost": cost.quantize(Decimal("0.01")),
        "revenue": revenue,
        "roi": ((revenue - cost) / cost * 100).quantize(Decimal("0.1")) if cost else None,
    }


def call_done(*, actor: User, recipient_id: int, note: str = "") -> Recipient:
    """A salesperson made the campaign call: it counts as a response."""
    with transaction.atomic():
        recipient = (
            Recipient.objects.select_for_update().filter(pk=recipient_id, assignee=actor).first()
        )
        if recipient is None:
            raise NotFound(_("Call not found."))
        if recipient.responded_at is None:
            recipient.responded_at = timezone.now()
            recipient.error = note[:300]
            recipient.save(update_fields=["responded_at", "error"])
        audit_record(
            actor=actor, verb="campaign.call_done", target=recipient.campaign, note=note[:200]
        )
    return recipient


def lead_form_create(
    *,
    actor: User,
    name: str,
    key: str,
    intake_user_id: int,
    response_hours: int = 4,
    consent_text: str = "",
    campaign_id: int | None = None,
):
    """A lead form of the actor's branch; its leads are registered at that branch's desk by
    `intake_user` (a receptionist) and must be answered within `response_hours`."""
    import re

    _require_marketer(actor)
    errors = []
    key = key.strip().lower()
    if not name.strip():
        errors.append(FieldError("name", "required", _("Give the form a name.")))
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{2,39}", key):
        errors.append(FieldError("key", "invalid", _("3–40 lowercase letters, digits or dashes.")))
    elif LeadForm.objects.filter(key=key).exists():
        errors.append(FieldError("key", "taken", _("This address is taken.")))
    if not 1 <= response_hours <= 72:
        errors.append(FieldError("response_hours", "out_of_range", _("Between 1 and 72 hours.")))
    if actor.org_unit is None:
        errors.append(FieldError("branch", "no_branch", _("You belong to no branch.")))
    intake = User.objects.filter(pk=intake_user_id, is_active=True).first()
    branch = actor.org_unit.branch() if actor.org_unit else None
    if (
        intake is None
        or branch is None
        or not takes_leads(intake)
        or intake.org_unit_id not in branch.subtree_ids()
    ):
        errors.append(
            FieldError("intake_user", "invalid_choice", _("Choose a receptionist of your branch."))
        )
    if errors or intake is None or branch is None:
        raise ValidationFailed(errors)
    with transaction.atomic():
        form = LeadForm.objects.create(
            name=name.strip()[:100],
            key=key,
            branch=branch,
            intake_user=intake,
            response_hours=response_hours,
            consent_text=consent_text.strip()[:300],
            campaign_id=campaign_id,
        )
        audit_record(actor=actor, verb="leadform.create", target=form)
    return form
