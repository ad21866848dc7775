"""Reception desk and customer ownership (C3): registers, the rotation queue, credit
decisions with commission splits, disputes and the public pool."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.calendar import time_zone_for_unit

from .rules import Protection

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ReceptionSettings(models.Model):
    """Per branch (sales office): protection period, commission splits, pool limits.

    Defaults are SPEC.md C3's; a manager or admin changes them.
    """

    branch = models.OneToOneField(
        "core.OrgUnit", on_delete=models.CASCADE, related_name="reception_settings"
    )
    protection_days = models.PositiveSmallIntegerField(_("protection period (days)"), default=60)
    # "2 months" as SPEC C3 means it: calendar months, to the end of the last day (inclusive),
    # in the branch's time zone. The default (SPEC C3): 2 calendar months; 0 counts days.
    protection_months = models.PositiveSmallIntegerField(
        _("protection period (calendar months; 0 counts days)"), default=2
    )
    case2_receiver_pct = models.DecimalField(
        _("case 2: new receiver %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("80"),
        validators=PERCENT,
    )
    case2_previous_pct = models.DecimalField(
        _("case 2: earlier receiver %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=PERCENT,
    )
    case3_owner_pct = models.DecimalField(
        _("case 3: named receiver %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("80"),
        validators=PERCENT,
    )
    case3_assistant_pct = models.DecimalField(
        _("case 3: assistant %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20"),
        validators=PERCENT,
    )
    case7_receiver_pct = models.DecimalField(
        _("case 7: rotation receiver %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=PERCENT,
    )
    case7_previous_pct = models.DecimalField(
        _("case 7: forgotten receiver %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=PERCENT,
    )
    case8_designated_pct = models.DecimalField(
        _("case 8: designated receiver %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=PERCENT,
    )
    case8_earlier_pct = models.DecimalField(
        _("case 8: earlier receivers together %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=PERCENT,
    )
    pool_daily_claims = models.PositiveSmallIntegerField(_("pool claims per day"), default=5)
    pool_max_held = models.PositiveIntegerField(_("pool customers held at most"), default=50)
    pool_cooling_days = models.PositiveSmallIntegerField(
        _("cooling-off before reclaiming (days)"), default=30
    )

    PAIRS = [
        ("case2_receiver_pct", "case2_previous_pct"),
        ("case3_owner_pct", "case3_assistant_pct"),
        ("case7_receiver_pct", "case7_previous_pct"),
        ("case8_designated_pct", "case8_earlier_pct"),
    ]

    class Meta:
        verbose_name = _("reception settings")
        verbose_name_plural = _("reception settings")

    def __str__(self) -> str:
        return f"{self.branch}"

    @property
    def protection(self) -> Protection:
        return Protection(
            days=self.protection_days,
            months=self.protection_months,
            zone=time_zone_for_unit(self.branch) if self.protection_months else "",
        )


class DutyRoster(models.Model):
    """One day's rotation at one sales office: the ordered queue and whose turn it is."""

    branch = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="rosters")
    date = models.DateField(_("date"))
    next_position = models.PositiveSmallIntegerField(default=0)
    event_mode = models.BooleanField(
        _("launch event / open day: the manager assigns"), default=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("duty roster")
        verbose_name_plural = _("duty rosters")
        constraints = [
            models.UniqueConstraint(fields=["branch", "date"], name="unique_roster_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.date}"


class DutySlot(models.Model):
    """A salesperson's place in the day's queue and state at the desk."""

    class State(models.TextChoices):
        ON_DUTY = "on_duty", _("On duty")
        OUT = "out", _("Out on business")
        BUSY = "busy", _("Busy with a customer")
        OFF = "off", _("Off")

    roster = models.ForeignKey(DutyRoster, on_delete=models.CASCADE, related_name="slots")
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="duty_slots"
    )
    position = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ON_DUTY)
    owed_turns = models.PositiveSmallIntegerField(_("make-up turns owed"), default=0)
    turns_taken = models.PositiveSmallIntegerField(_("new visitors received"), default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["roster", "position"], name="unique_slot_position"),
            models.UniqueConstraint(fields=["roster", "salesperson"], name="unique_slot_person"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.salesperson}"

    @property
    def is_available(self) -> bool:
        return self.state == self.State.ON_DUTY


class TurnSkip(models.Model):
    """A turn that passed a salesperson by, and why: the record behind every make-up turn."""

    slot = models.ForeignKey(DutySlot, on_delete=models.CASCADE, related_name="skips")
    visit = models.ForeignKey("Visit", null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=10, choices=DutySlot.State.choices)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.slot} skipped ({self.reason})"


class Visit(models.Model):
    """来人登记 / 来电登记: a walk-in or call at the desk, and who received it under which rule."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("Walk-in visit")
        CALL = "call", _("Phone call")

    class Intention(models.TextChoices):
        A = "A", _("A — strong")
        B = "B", _("B — possible")
        C = "C", _("C — weak")

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        RECEIVED = "received", _("Received")
        DISPUTED = "disputed", _("Disputed")

    branch = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="visits")
    roster = models.ForeignKey(
        DutyRoster, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="visits"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.VISIT)
    registered_at = models.DateTimeField(_("time"), default=timezone.now)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("source"), max_length=20, blank=True)
    intention = models.CharField(
        _("intention"), max_length=1, choices=Intention.choices, blank=True
    )
    party_size = models.PositiveSmallIntegerField(_("people"), default=1)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    is_new_customer = models.BooleanField(default=True)
    visit_number = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_visits",
        verbose_name=_("receiver"),
    )
    assistant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assisted_visits",
    )
    via_rotation = models.BooleanField(default=False)
    received_at = models.DateTimeField(null=True, blank=True)
    case_number = models.PositiveSmallIntegerField(null=True, blank=True)
    explanation = models.TextField(blank=True)
    # The claim this visit gave lapsed to the public pool: it counts for nobody's credit, and
    # the customer's next visit is a new claim (not a return, not case 8).
    lapsed = models.BooleanField(default=False)
    # The phone given belongs to another branch's customer: this visit's customer is a new
    # record of this branch without it, and a dispute asks the managers to settle it.
    phone_elsewhere = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            models.Index(fields=["branch", "registered_at"], name="visit_branch_time"),
            models.Index(fields=["customer", "registered_at"], name="visit_customer_time"),
            models.Index(fields=["receiver", "registered_at"], name="visit_receiver_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.registered_at:%Y-%m-%d %H:%M}"


class CreditDecision(models.Model):
    """Who holds a customer's deal credit, under which case, and how commission splits.

    The newest decision per customer is current; deals settle their commission from it.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="credit_decisions"
    )
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    case_number = models.PositiveSmallIntegerField(null=True, blank=True)
    explanation = models.TextField()
    credit_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credit_department = models.ForeignKey(
        "core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["customer", "is_current"], name="credit_current")]
        constraints = [
            # One current decision per customer, whoever writes one: the database holds it.
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_current=True), name="one_current_credit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} case {self.case_number}"


class CommissionShare(models.Model):
    """One line of the commission ledger: a party's percentage of a customer's deal credit."""

    decision = models.ForeignKey(CreditDecision, on_delete=models.CASCADE, related_name="shares")
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commission_shares",
    )
    department = models.ForeignKey(
        "core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    percent = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT)
    settled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.salesperson or self.department}: {self.percent}%"


class Dispute(models.Model):
    """A conflict the rules cannot decide; the manager decides and the reason is kept."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DECIDED = "decided", _("Decided")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="disputes"
    )
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    branch = models.ForeignKey("core.OrgUnit", on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    description = models.TextField(_("what happened"), max_length=2000)
    parties = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="disputes", blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason for the decision"), blank=True, max_length=2000)
    decision = models.OneToOneField(
        CreditDecision, null=True, blank=True, on_delete=models.PROTECT, related_name="dispute"
    )

    class Meta:
        indexes = [
            models.Index(fields=["branch", "state"], name="dispute_branch_state"),
            # An administrator's open disputes, newest first: the few open among all.
            models.Index(fields=["id"], name="dispute_open", condition=models.Q(state="open")),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.get_state_display()}"


class PoolClaim(models.Model):
    """A salesperson claiming a customer from the public pool (公海)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="pool_claims"
    )
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pool_claims"
    )
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["salesperson", "claimed_at"], name="pool_claim_daily")]

    def __str__(self) -> str:
        return f"{self.salesperson} claimed {self.customer}"
