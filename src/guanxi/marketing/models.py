"""Marketing (C7): the contact policy's records, segments, campaigns and lead capture.

Every message to a customer, from any department and channel, passes through
`guanxi.marketing.policy`; what it decided is kept here as proof and as the memory that caps
and material-level dedupe are counted from.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone call")
    POST = "post", _("Post")
    WECHAT = "wechat", _("WeChat")


class Purpose(models.TextChoices):
    MARKETING = "marketing", _("Promotions")
    GREETING = "greeting", _("Greetings and care")
    SERVICE = "service", _("Service notices")


class SkipReason(models.TextChoices):
    """Why the policy held a message back: shown on the campaign and the customer's timeline."""

    DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
    NO_CONSENT = "no_consent", _("No consent for this channel")
    WITHDRAWN = "withdrawn", _("Consent withdrawn for this purpose")
    NEWS_NEVER = "news_never", _("Wants no news")
    NO_ADDRESS = "no_address", _("No address for this channel")
    CHANNEL_CAP = "channel_cap", _("Frequency cap of the channel reached")
    TOTAL_CAP = "total_cap", _("Frequency cap across channels reached")
    QUIET_HOURS = "quiet_hours", _("Quiet hours")
    DUPLICATE_MATERIAL = "duplicate_material", _("Already received this material")
    BOUNCED = "bounced", _("E-mail address bounced")
    ARCHIVED = "archived", _("Archived or merged record")


class ContactProfile(models.Model):
    """Per-customer facts the policy needs that the customer record does not hold."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    language = models.CharField(_("language of messages"), max_length=10, default="zh-hans")
    time_zone = models.CharField(_("time zone"), max_length=40, default="Asia/Shanghai")

    class Meta:
        verbose_name = _("contact profile")
        verbose_name_plural = _("contact profiles")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.language} {self.time_zone}"


class ConsentEvidence(models.Model):
    """One consent given or withdrawn, as proof (PIPL): who, when, how, which text. Append-only."""

    class Method(models.TextChoices):
        FORM = "form", _("Web form")
        IMPORT = "import", _("Import")
        CALL = "call", _("Phone call")
        REPLY = "reply", _("Reply (SMS)")
        LINK = "link", _("Unsubscribe link")
        PAPER = "paper", _("Signed paper")
        STAFF = "staff", _("Recorded by staff")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    granted = models.BooleanField(_("granted"))
    method = models.CharField(_("how"), max_length=10, choices=Method.choices)
    text_version = models.CharField(_("text version"), max_length=40, blank=True)
    evidence = models.CharField(_("evidence"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("consent evidence")
        verbose_name_plural = _("consent evidence")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="mkt_evidence_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}/{self.purpose} {self.granted}"


class ContactPermission(models.Model):
    """The standing answer per customer × channel × purpose, kept with its evidence.

    No row: the customer record's channel consent decides. The policy reads these rows in
    one query per batch; the evidence table is the history behind them.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    granted = models.BooleanField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel", "purpose"], name="mkt_permission_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}/{self.purpose} {self.granted}"


class ContactAttempt(models.Model):
    """Every decision of the contact policy: a message that went out, or one held back.

    Sent rows are what frequency caps count and what material dedupe looks up
    (customer × material fingerprint, whichever department sent it).
    """

    class Outcome(models.TextChoices):
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Held back")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=SkipReason.choices, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    material = models.CharField(_("material"), max_length=200, blank=True)
    org_unit = models.ForeignKey(
        "core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        "Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="attempts"
    )
    source = models.CharField(_("source"), max_length=60, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Caps: a customer's sends since a date; the timeline: a customer's newest.
            models.Index(fields=["customer", "outcome", "at"], name="mkt_attempt_customer"),
        ]
        constraints = [
            # Material dedupe across departments: one material reaches a customer once, even
            # when two campaigns send at the same moment (the second insert fails).
            models.UniqueConstraint(
                fields=["fingerprint", "customer"],
                name="mkt_attempt_material_once",
                condition=Q(outcome="sent") & ~Q(fingerprint=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.outcome} {self.reason}"


class Segment(models.Model):
    """A saved audience: a dynamic filter (rules) kept materialised, or a static list."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic filter")
        STATIC = "static", _("Static list")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    org_unit = models.ForeignKey(
        "core.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    rebuilt_at = models.DateTimeField(_("last rebuilt"), null=True, blank=True)
    rebuild_seconds = models.FloatField(_("rebuild took (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A customer in a segment (materialised for dynamic segments, listed for static ones)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="mkt_member_unique")
        ]
        indexes = [models.Index(fields=["customer"], name="mkt_member_customer")]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.customer_id}"


class MessageTemplate(models.Model):
    """A message in the safe template language, in Chinese and English (marketing.templating)."""

    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), max_length=20000)
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), max_length=20000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """One send of one material to one audience over one channel, by one department."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.MARKETING
    )
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, related_name="+", verbose_name=_("audience")
    )
    org_unit = models.ForeignKey(
        "core.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    material = models.CharField(
        _("material"),
        max_length=200,
        blank=True,
        help_text=_("The brochure or offer this sends; blank: the template's own text."),
    )
    fingerprint = models.CharField(max_length=64, editable=False, default="")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cost_per_message = models.DecimalField(
        _("cost per message (CNY)"), max_digits=8, decimal_places=2, default=Decimal("0.00")
    )
    fixed_cost = models.DecimalField(
        _("fixed cost (CNY)"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    attribution_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=30)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The worker run that holds the campaign, and its last sign of life: a run whose
    # heartbeat is older than the lease is taken over (marketing.sending).
    runner = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="mkt_campaign_due")]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One customer of one campaign: the unit of idempotency (one row, at most one message)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Held back")
        FAILED = "failed", _("Failed")
        UNCONFIRMED = "unconfirmed", _("Interrupted, not resent")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    error = models.CharField(max_length=300, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    address = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # The DSN's status code (RFC 3463): 5.x.x a hard bounce, 4.x.x a soft one.
    bounce_status = models.CharField(max_length=12, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0.00"))
    # Phone campaigns: the salesperson who makes the call.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="mkt_recipient_unique")
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="mkt_recipient_queue"),
            models.Index(fields=["customer"], name="mkt_recipient_customer"),
            models.Index(
                fields=["assignee", "status"],
                name="mkt_recipient_calls",
                condition=Q(assignee__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.customer_id} {self.status}"


class EmailSuppression(models.Model):
    """An e-mail address that bounced hard (RFC 3464 DSN, status 5.x.x): the contact policy
    sends nothing more to it, whichever department asks. Keyed by the lowercased address,
    so a customer who gives a new address can be written to again."""

    address = models.CharField(_("e-mail address"), max_length=254, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    recipient = models.ForeignKey(
        Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status code"), max_length=12)
    diagnostic = models.CharField(_("server's answer"), max_length=300, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("bounced address")
        verbose_name_plural = _("bounced addresses")
        indexes = [models.Index(fields=["customer", "-at"], name="mkt_suppression_customer")]

    def __str__(self) -> str:
        return f"{self.address} {self.status}"


class LeadForm(models.Model):
    """A public, embeddable lead-capture form of one campaign or source."""

    name = models.CharField(_("name"), max_length=100)
    key = models.SlugField(_("address key"), max_length=40, unique=True)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    branch = models.ForeignKey(
        "core.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    intake_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered at the desk as"),
    )
    response_hours = models.PositiveSmallIntegerField(_("answer within (hours)"), default=4)
    consent_text = models.CharField(_("consent text"), max_length=300, blank=True)
    consent_version = models.CharField(_("consent text version"), max_length=40, default="v1")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("lead form")
        verbose_name_plural = _("lead forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Lead(models.Model):
    """One submission of a lead form: the customer it found or created, and who answers."""

    form = models.ForeignKey(LeadForm, on_delete=models.PROTECT, related_name="leads")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    is_new = models.BooleanField(default=True)
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    message = models.CharField(max_length=1000, blank=True)
    answer_by = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    remote_addr = models.GenericIPAddressField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["customer"], name="mkt_lead_customer"),
            models.Index(fields=["remote_addr", "created_at"], name="mkt_lead_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id}:{self.customer_id}"


class ExportGrant(models.Model):
    """A manager's permission for one marketer to export a segment with sensitive fields."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="+")
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    expires_at = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.segment_id} → {self.grantee_id}"


class BirthdayGreetingSettings(models.Model):
    """The automatic birthday greeting (one row): on or off, its channel and its template."""

    class ChannelChoice(models.TextChoices):
        PREFERRED = "", _("The customer's preferred channel")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("E-mail")

    enabled = models.BooleanField(_("send birthday greetings automatically"), default=False)
    channel = models.CharField(
        _("channel"), max_length=10, blank=True, default="", choices=ChannelChoice.choices
    )
    template = models.ForeignKey(
        MessageTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("template"),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("birthday greeting settings")
        verbose_name_plural = _("birthday greeting settings")

    def __str__(self) -> str:
        return f"birthday greetings {'on' if self.enabled else 'off'}"


class BirthdayGreeting(models.Model):
    """One customer's automatic birthday greeting of one year: claimed before it is handed
    to the provider (the unique row makes a second run, or a second worker, skip it)."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Held back")
        WAITING = "waiting", _("Waiting for the sending window")
        UNCONFIRMED = "unconfirmed", _("Unconfirmed (the run stopped mid-send)")
        FAILED = "failed", _("Delivery failed")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices)
    channel = models.CharField(max_length=10, blank=True)
    reason = models.CharField(max_length=30, blank=True)
    error = models.CharField(max_length=300, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "year"], name="one_birthday_greeting_a_year"
            )
        ]
        indexes = [models.Index(fields=["status", "not_before"], name="birthday_greeting_due")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.year} {self.status}"
