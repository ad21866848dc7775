"""Customer service and care (C5): tickets with an append-only status (clock) log, SLA
policies and the SLA events a scan has acted on, agent skills for assignment, the knowledge
base, satisfaction surveys and return visits (回访)."""

from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .permissions import ticket_visibility_q

# The `due_at` of a ticket whose clock is not running (paused, resolved, closed): it sorts
# after every real deadline, so the queue's (due_at, id) keyset needs no NULL handling.
# Far enough to read as "never", near enough to convert to any local zone.
NO_DEADLINE = datetime(9000, 1, 1, tzinfo=UTC)


class TicketType(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    REPAIR = "repair", _("Repair / after-sales")
    INQUIRY = "inquiry", _("Inquiry")
    REQUEST = "request", _("Request")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Load weight of an open ticket, by priority (assignment by load).
PRIORITY_WEIGHT = {Priority.LOW: 1, Priority.NORMAL: 2, Priority.HIGH: 3, Priority.URGENT: 5}


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit")
    WEB = "web", _("Web form")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING)
# The status machine: status → statuses it may move to. Reopening a resolved or closed
# ticket takes it back to "in progress" (the clock resumes where it stopped).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED),
    Status.ASSIGNED: (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED),
    Status.IN_PROGRESS: (Status.WAITING, Status.RESOLVED),
    Status.WAITING: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (Status.IN_PROGRESS,),
}


class OpenStatus(models.Lookup):
    """`status__open=True`: `status IN ('new', 'assigned', …)` with the statuses written
    into the SQL, not bound as parameters. SQLite uses a partial index only when it can see
    that the query's WHERE implies the index's, which it cannot through bound parameters:
    with them the queue sorted every open ticket of the agent's branch instead of reading
    one page of `ticket_open_queue` (tests/service/test_query_plans.py). The values are
    the code's own constants, never input."""

    lookup_name = "open"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        assert all(s.isidentifier() for s in OPEN_STATUSES)
        values = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
        return f"{lhs} {'IN' if self.rhs else 'NOT IN'} ({values})", params


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TicketQuerySet":
        return self.filter(ticket_visibility_q(user))

    def open(self) -> "TicketQuerySet":
        return self.filter(status__open=True)


class Ticket(models.Model):
    """A customer's complaint, repair, inquiry or request, from first contact to closure.

    The deadlines and `due_at` are derived from the status log (services.recompute_sla);
    they are stored so that the queue and the SLA scan read one index, not the history.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    org_unit = models.ForeignKey(
        "core.OrgUnit",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("handling unit"),
    )
    type = models.CharField(_("type"), max_length=12, choices=TicketType.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    product = models.ForeignKey(
        "sales.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("product"),
    )
    order_ref = models.CharField(_("order or contract number"), max_length=60, blank=True)
    # Who wrote in through the public form when no customer record matched (an agent links
    # the customer later); shown masked to those who do not work the ticket.
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), max_length=254, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        verbose_name=_("assigned to"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    resolution = models.TextField(_("resolution"), max_length=5000, blank=True)
    # SLA, derived from the status log (services.recompute_sla):
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    response_breached = models.BooleanField(_("first response late"), default=False)
    resolution_breached = models.BooleanField(_("resolution late"), default=False)
    # The nearest running deadline (NO_DEADLINE when the clock stands): the queue's order.
    due_at = models.DateTimeField(default=NO_DEADLINE)
    # When the SLA scan must next look at this ticket (a warning or a breach), else NULL.
    sla_check_at = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    # (OpenStatus is registered on this field below the class.)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The agent's queue: a unit's tickets in one status, most urgent first.
            models.Index(fields=["org_unit", "status", "due_at", "id"], name="ticket_unit_queue"),
            # The open queue most urgent first, walked in order: the first page of a unit's
            # (or everyone's) open tickets reads a page of this index, never sorts them all.
            models.Index(
                fields=["due_at", "id"],
                name="ticket_open_queue",
                condition=Q(status__in=["new", "assigned", "in_progress", "waiting"]),
            ),
            models.Index(fields=["status", "due_at", "id"], name="ticket_status_queue"),
            # The queue's "all statuses" and "late only" filters, walked in the same order.
            models.Index(fields=["due_at", "id"], name="ticket_due_queue"),
            models.Index(
                fields=["due_at", "id"],
                name="ticket_breached_queue",
                condition=Q(response_breached=True) | Q(resolution_breached=True),
            ),
            models.Index(fields=["assignee", "status", "due_at", "id"], name="ticket_assignee"),
            # A customer's tickets (customer page, warnings) newest first.
            models.Index(fields=["customer", "-id"], name="ticket_customer"),
            # The SLA scan: tickets with a warning or breach due, and nothing else, walked
            # in (sla_check_at, id) keyset order.
            models.Index(
                fields=["sla_check_at", "id"],
                name="ticket_sla_check_due",
                condition=Q(sla_check_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("service:ticket", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def clock_running(self) -> bool:
        return self.due_at != NO_DEADLINE

    @property
    def is_breached(self) -> bool:
        return self.response_breached or self.resolution_breached


Ticket._meta.get_field("status").register_lookup(OpenStatus)


class TicketStatusLog(models.Model):
    """One status change of a ticket: the append-only clock log the SLA is computed from."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_log")
    at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        ordering = ["ticket", "at", "id"]
        indexes = [models.Index(fields=["ticket", "at", "id"], name="ticket_log_order")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} → {self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("The status log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("The status log is append-only.")


class TicketMessage(models.Model):
    """A reply to the customer or an internal note on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(_("message"), max_length=5000)
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["ticket", "id"]

    def __str__(self) -> str:
        return self.body[:50]


class SlaPolicy(models.Model):
    """Working hours allowed for the first response and for the resolution, per ticket type
    and priority (defaults: a complaint 24 and 24, SPEC C5 / 投诉24小时内解决)."""

    type = models.CharField(_("type"), max_length=12, choices=TicketType.choices)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    first_response_hours = models.DecimalField(
        _("first response within (working hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    resolution_hours = models.DecimalField(
        _("resolution within (working hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    warn_before_hours = models.DecimalField(
        _("warn this many working hours before"),
        max_digits=6,
        decimal_places=2,
        default=2,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["type", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["type", "priority"], name="unique_sla_policy")
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.get_priority_display()}"


class SlaEvent(models.Model):
    """A warning or breach the SLA scan has acted on. Unique per ticket, kind and clock
    cycle (a reopened ticket can breach again): two scans at once escalate once."""

    class Kind(models.TextChoices):
        RESPONSE_WARNING = "response_warning", _("First response due soon")
        RESPONSE_BREACH = "response_breach", _("First response late")
        RESOLUTION_WARNING = "resolution_warning", _("Resolution due soon")
        RESOLUTION_BREACH = "resolution_breach", _("Resolution late")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    cycle = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField()
    at = models.DateTimeField(default=timezone.now)
    notified = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "cycle"], name="unique_sla_event")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class AgentSkill(models.Model):
    """What a technician or agent can handle: a ticket type, optionally one product."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_skills"
    )
    type = models.CharField(_("type"), max_length=12, choices=TicketType.choices)
    product = models.ForeignKey(
        "sales.Product",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("product"),
    )

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "type", "product"], name="unique_agent_skill", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_type_display()}"


class Survey(models.Model):
    """The customer's satisfaction with a resolved ticket (1–5 and a comment), recorded
    through the signed link or by the agent. One per ticket."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class ReturnVisit(models.Model):
    """A return visit (回访) after a ticket is resolved: closed only with a score or
    "unreachable"."""

    class Outcome(models.TextChoices):
        SCORED = "scored", _("Reached, scored")
        UNREACHABLE = "unreachable", _("Unreachable")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="return_visit")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="return_visits",
        verbose_name=_("assigned to"),
    )
    due_at = models.DateTimeField(_("due"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    note = models.TextField(_("note"), max_length=2000, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        indexes = [models.Index(fields=["assignee", "done_at", "due_at"], name="return_visit_due")]
        constraints = [
            # Closed only with a score or as unreachable (SPEC C5).
            models.CheckConstraint(
                condition=Q(done_at__isnull=True)
                | Q(outcome="scored", score__isnull=False)
                | Q(outcome="unreachable"),
                name="return_visit_closed_with_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.assignee}"


class Article(models.Model):
    """A knowledge-base / FAQ article, in Chinese and English. Published ones show on the
    public FAQ page."""

    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), max_length=20000)
    body_en = models.TextField(_("text (English)"), max_length=20000, blank=True)
    type = models.CharField(
        _("about"), max_length=12, choices=TicketType.choices, default=TicketType.REPAIR
    )
    product = models.ForeignKey(
        "sales.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("product"),
    )
    published = models.BooleanField(_("published on the public FAQ"), default=False)
    # Search keys: lowercase text, and the pinyin (full and initials) of the Chinese title.
    search_text = models.TextField(editable=False, default="")
    helpful_count = models.PositiveIntegerField(default=0)
    not_helpful_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("knowledge-base article")
        verbose_name_plural = _("knowledge-base articles")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title_zh

    def title_for(self, language: str) -> str:
        return self.title_en if language.startswith("en") and self.title_en else self.title_zh

    def body_for(self, language: str) -> str:
        return self.body_en if language.startswith("en") and self.body_en else self.body_zh


class TicketArticle(models.Model):
    """An article an agent linked to a ticket (sent to the customer, or used to solve it)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_links")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "article"], name="unique_ticket_article")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} ↔ {self.article_id}"


class Deflection(models.Model):
    """A visitor of the public FAQ said an article solved their problem: a ticket avoided."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    helpful = models.BooleanField()
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("FAQ feedback")
        verbose_name_plural = _("FAQ feedback")

    def __str__(self) -> str:
        return f"{self.article_id}: {self.helpful}"


class PublicSubmission(models.Model):
    """One accepted or refused submission of the public contact form: the rate limit's
    ledger (by a hash of the address, never the address itself) and the captcha's
    replay guard."""

    address_hash = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)
    challenge = models.CharField(max_length=128, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["address_hash", "at"], name="public_submission_rate")]
        constraints = [
            # A solved captcha is good for one submission.
            models.UniqueConstraint(
                fields=["challenge"], condition=~Q(challenge=""), name="captcha_used_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.address_hash[:8]}"
