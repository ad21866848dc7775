"""Interactions and follow-up (C2): every touch, the promises made, cadence rules, plans,
greeting templates, notifications and calendar feeds."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Interaction(models.Model):
    """One touch with a customer: a call, a visit, a message, a gift…"""

    class Kind(models.TextChoices):
        CALL_IN = "call_in", _("Incoming call")
        CALL_OUT = "call_out", _("Outgoing call")
        VISIT = "visit", _("Visit")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        NOTE = "note", _("Note")
        CARD = "card", _("Card sent")
        GIFT = "gift", _("Gift sent")

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        ANSWERED = "answered", _("Answered")
        NO_ANSWER = "no_answer", _("No answer")
        CALL_BACK = "call_back", _("Asked to call back later")

    CALLS = (Kind.CALL_IN, Kind.CALL_OUT)
    # A note is written about the customer, not with them: it is not a contact.
    NOT_CONTACT = (Kind.NOTE,)

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="interactions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interactions"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    summary = models.TextField(_("summary"), max_length=4000)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_customer"),
            models.Index(fields=["actor", "-occurred_at"], name="interaction_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"

    @property
    def is_contact(self) -> bool:
        return self.kind not in self.NOT_CONTACT


class PromiseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(done_at__isnull=True)


class Promise(models.Model):
    """承诺: what we promised a customer, by when. It stays with the customer, not the
    salesperson, so the next owner reads what the previous ones promised."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="promises"
    )
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.PROTECT, related_name="promises"
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promises_made"
    )
    text = models.CharField(_("promise"), max_length=300)
    due_date = models.DateField(_("due"))
    done_at = models.DateTimeField(_("kept on"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PromiseQuerySet.as_manager()

    class Meta:
        verbose_name = _("promise")
        verbose_name_plural = _("promises")
        indexes = [
            models.Index(fields=["customer", "due_date"], name="promise_customer"),
            models.Index(fields=["done_at", "due_date"], name="promise_open_due"),
        ]

    def __str__(self) -> str:
        return self.text


class CadenceRule(models.Model):
    """A follow-up interval an admin can change; defaults come from SPEC.md C2."""

    class Code(models.TextChoices):
        UNSIGNED_DEAL = "unsigned_deal", _("Deal not yet signed")
        ABOUT_TO_SIGN = "about_to_sign", _("Deal about to sign (deposit or negotiating)")
        LONG_TERM = "long_term", _("Long-term customer")
        QUOTED_SILENT = "quoted_silent", _("Quoted, no reply")
        RETURN_VISIT = "return_visit", _("Return visit after a deal")
        INTERESTED = "rel_interested", _("Relationship: interested")
        HESITANT = "rel_hesitant", _("Relationship: hesitant")
        NOT_NOW = "rel_not_now", _("Relationship: not now")
        NEVER = "rel_never", _("Relationship: never")
        DEFAULT = "default", _("Anyone else with an owner")

    code = models.CharField(max_length=20, choices=Code.choices, unique=True)
    days = models.PositiveSmallIntegerField(
        _("days"), null=True, blank=True, help_text=_("Empty: no automatic follow-up.")
    )
    deliveries = models.PositiveSmallIntegerField(_("or every N deliveries"), null=True, blank=True)
    next_step = models.CharField(_("suggested next step"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("cadence rule")
        verbose_name_plural = _("cadence rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.get_code_display()


class GreetingTemplate(models.Model):
    """A greeting for an occasion, in one language; {name} and {salesperson} are filled in."""

    class Occasion(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        ANNIVERSARY = "anniversary", _("Anniversary or important date")
        SPRING_FESTIVAL = "spring_festival", _("Spring Festival")
        LANTERN = "lantern", _("Lantern Festival")
        DRAGON_BOAT = "dragon_boat", _("Dragon Boat Festival")
        MID_AUTUMN = "mid_autumn", _("Mid-Autumn Festival")
        NATIONAL_DAY = "national_day", _("National Day")
        NEW_YEAR = "new_year", _("New Year")

    occasion = models.CharField(max_length=20, choices=Occasion.choices)
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="greeting_templates",
        help_text=_("Empty: the company's default."),
    )
    text = models.TextField(_("text"), max_length=1000)

    class Meta:
        verbose_name = _("greeting template")
        verbose_name_plural = _("greeting templates")
        constraints = [
            models.UniqueConstraint(
                fields=["occasion", "language", "owner"], name="unique_greeting_template"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_occasion_display()} ({self.language})"


class Plan(models.Model):
    """A salesperson's morning plan, evening summary or weekly plan."""

    class Kind(models.TextChoices):
        MORNING = "morning", _("Morning plan")
        EVENING = "evening", _("Evening summary")
        WEEKLY = "weekly", _("Weekly plan")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    date = models.DateField(_("date"))
    text = models.TextField(_("text"), max_length=4000)
    figures = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "date"], name="unique_plan_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.date}"


class CalendarFeed(models.Model):
    """A secret iCalendar URL for one user; only the token's hash is kept."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar of {self.user}"
