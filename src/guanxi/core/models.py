"""Organisation, users and roles, the audit trail and API tokens (C8)."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class OrgUnit(models.Model):
    """A node of the organisation tree: head office → branches → departments / teams.

    `path` ("/1/4/9/") makes "everything under this unit" one indexed prefix match.
    """

    class Kind(models.TextChoices):
        HEAD_OFFICE = "head_office", _("Head office")
        BRANCH = "branch", _("Branch")
        DEPARTMENT = "department", _("Department")
        TEAM = "team", _("Team")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent unit"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """Keep `path` (and the paths below, on a move) in step with `parent`."""
        super().save(*args, **kwargs)
        old_path = self.path
        new_path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if new_path != old_path:
            OrgUnit.objects.filter(pk=self.pk).update(path=new_path)
            if old_path:
                for child in OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                    OrgUnit.objects.filter(pk=child.pk).update(
                        path=new_path + child.path[len(old_path) :]
                    )
            self.path = new_path

    def subtree_ids(self) -> list[int]:
        return list(OrgUnit.objects.filter(path__startswith=self.path).values_list("id", flat=True))

    def branch(self) -> "OrgUnit":
        """The branch (or head office) this unit belongs to: the scope of a shared pool."""
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        units = {u.id: u for u in OrgUnit.objects.filter(id__in=ids)}
        for unit_id in reversed(ids):
            if units[unit_id].kind in (self.Kind.BRANCH, self.Kind.HEAD_OFFICE):
                return units[unit_id]
        return self


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Salesperson")
    RECEPTIONIST = "receptionist", _("Receptionist")
    SERVICE = "service", _("Service agent")
    MARKETER = "marketer", _("Marketer")
    FINANCE = "finance", _("Finance")


class User(AbstractUser):
    """A member of staff. Never deleted: deactivated, so that their history stays."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("organisation unit"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    notify_by_email = models.BooleanField(_("also send reminders by e-mail"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @cached_property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return self.is_active and (
            bool(self.role_set.intersection(roles)) or (Role.ADMIN in roles and self.is_superuser)
        )

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.is_superuser or Role.ADMIN in self.role_set)

    @cached_property
    def managed_unit_ids(self) -> frozenset[int]:
        """Units a manager sees into: their own unit and everything below it."""
        if not self.has_role(Role.MANAGER) or self.org_unit is None:
            return frozenset()
        return frozenset(self.org_unit.subtree_ids())

    @cached_property
    def branch_unit_ids(self) -> frozenset[int]:
        """Units of this user's branch: the scope of front-desk and back-office roles."""
        if self.org_unit is None:
            return frozenset()
        return frozenset(self.org_unit.branch().subtree_ids())

    def role_labels(self) -> list[str]:
        return [Role(r).label for r in Role.values if r in self.role_set]


class UserRole(models.Model):
    """One role held by one user; a user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class AuditEntry(models.Model):
    """Who created, changed, archived, merged or revealed what, and when. Append-only."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    actor_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verb = models.CharField(max_length=50, db_index=True)
    target_type = models.CharField(max_length=50)
    target_id = models.BigIntegerField(null=True)
    target_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.verb} {self.target_label}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for scripts. Only its SHA-256 is stored; the raw key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return "gx_" + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def generate_webhook_secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """A URL that receives signed POSTs for the events it subscribes to (C8). Admins only."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=64, default=generate_webhook_secret)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one webhook: the delivery log, and the outbox.

    Written in the transaction of the change that caused the event, so an event is never
    lost to a crash between commit and send; the worker claims due rows and retries them.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERING = "delivering", _("Delivering")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=50)
    event_id = models.UUIDField(_("event ID"))
    payload = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            # The worker's scan: due pending deliveries, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"


class IdempotencyKey(models.Model):
    """One request that must not take effect twice (C8): an API write sent with an
    `Idempotency-Key` header, or a web form's one-time token.

    The first request inserts the row (the unique index decides between racing copies) and
    stores its answer; a repeat gets the stored answer instead of running again.
    """

    owner = models.CharField(max_length=80)  # "user:<id>" or "token:<hash>": keys are per caller
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)  # method, path and body, hashed
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # null: in progress
    content_type = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="unique_idempotency_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


def new_calendar_version() -> str:
    return secrets.token_hex(16)


class BusinessCalendar(models.Model):
    """Working hours and dated exceptions (holidays, 调休 make-up days) in one time zone.

    One calendar has no unit: the default. A branch may have its own; a unit uses the
    nearest calendar up its path (guanxi.core.calendar.calendar_for_unit).
    """

    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    org_unit = models.OneToOneField(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="business_calendar",
        verbose_name=_("organisation unit"),
    )
    # A new random token on every edit of the calendar, its windows or its days: the cache
    # key of the loaded schedule (guanxi.core.calendar.schedule_for).
    version = models.CharField(max_length=32, default=new_calendar_version, editable=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["id"]
        constraints = [
            # Only one default calendar (the one without a unit).
            models.UniqueConstraint(
                fields=["org_unit"],
                condition=models.Q(org_unit__isnull=True),
                name="one_default_business_calendar",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.name


class WorkingWindow(models.Model):
    """One stretch of working time on a weekday, e.g. Monday 09:00–12:00 (a lunch break is
    the gap between two windows)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working window")
        verbose_name_plural = _("working windows")
        ordering = ["calendar", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="window_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class CalendarDay(models.Model):
    """A dated exception: a holiday (no work on a normal working day) or an extra working
    day (调休: a weekend day worked to make up for a holiday, with Monday's windows)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Extra working day (调休)")

    class Source(models.TextChoices):
        LIBRARY = "library", _("Official calendar library")
        ADMIN = "admin", _("Entered by an administrator")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.ADMIN
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_calendar_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"

    @property
    def display_name(self) -> str:
        """A library holiday's name in the reader's language; an administrator's as typed."""
        return gettext(self.name) if self.source == self.Source.LIBRARY and self.name else self.name


class CalendarYear(models.Model):
    """An administrator's confirmation that a year's exceptions match the official notice
    (China publishes next year's holidays and 调休 days each November or December)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="years")
    year = models.PositiveSmallIntegerField(_("year"))
    seeded_at = models.DateTimeField(_("loaded from the library"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["calendar", "year"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "year"], name="unique_calendar_year")
        ]

    def __str__(self) -> str:
        return f"{self.calendar} {self.year}"


class TourDismissal(models.Model):
    """A user has seen (and closed) the first-login tour of one of their roles (core.tour)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tours_dismissed")
    tour = models.CharField(max_length=20)
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tour"], name="unique_tour_dismissal")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.tour}"
