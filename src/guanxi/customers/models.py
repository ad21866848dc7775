"""Customer master data (C1): people and organisations, their phones, contacts, households,
preferences and important dates. Running figures live on the customer row (ARCHITECTURE.md)."""

from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.visibility import MASKED, customer_visibility_q, mask_id_number, mask_phone

from .keys import split_extension


class Segment(models.Model):
    """Customer segment: retail 零售, wholesale 批发, government 政府, other — configurable."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=50)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """A family: members count as one customer for ownership (C3 case 11)."""

    name = models.CharField(_("household name"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.name


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user) -> "CustomerQuerySet":
        return self.filter(customer_visibility_q(user))

    def active(self) -> "CustomerQuerySet":
        return self.filter(archived_at__isnull=True)


class Customer(models.Model):
    """A person or an organisation the business has a relationship with.

    Never hard-deleted: archived, or merged into another record (`merged_into`).
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        MALE = "m", _("Male")
        FEMALE = "f", _("Female")

    class Source(models.TextChoices):
        WALK_IN = "walk_in", _("Walk-in")
        PHONE = "phone", _("Phone call")
        WEB_FORM = "web_form", _("Web form")
        REFERRAL = "referral", _("Referral")
        EXHIBITION = "exhibition", _("Exhibition")
        CAMPAIGN = "campaign", _("Campaign")
        OTHER = "other", _("Other")

    class Stage(models.TextChoices):
        POTENTIAL = "potential", _("Potential")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        LOYAL = "loyal", _("Loyal")

    class Relationship(models.TextChoices):
        NONE = "", _("Not assessed")
        INTERESTED = "interested", _("Interested")
        HESITANT = "hesitant", _("Hesitant")
        NOT_NOW = "not_now", _("Not now")
        NEVER = "never", _("Never")
        QUOTED_SILENT = "quoted_silent", _("Quoted, no reply")

    class Channel(models.TextChoices):
        NONE = "", _("No preference")
        PHONE = "phone", _("Phone")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("E-mail")
        POST = "post", _("Post")
        VISIT = "visit", _("Visit")

    class NewsFrequency(models.TextChoices):
        NORMAL = "normal", _("As it comes")
        MONTHLY = "monthly", _("At most monthly")
        QUARTERLY = "quarterly", _("At most quarterly")
        NEVER = "never", _("Never")

    class HouseholdRole(models.TextChoices):
        NONE = "", _("—")
        HEAD = "head", _("Head")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        OTHER = "other", _("Other relative")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=50, blank=True)
    id_number = models.CharField(_("ID number"), max_length=30, blank=True)
    annual_income = models.DecimalField(
        _("annual income (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    assets_note = models.CharField(_("assets"), max_length=200, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address = models.CharField(_("street address"), max_length=200, blank=True)
    company = models.CharField(_("company"), max_length=100, blank=True)
    title = models.CharField(_("job title"), max_length=60, blank=True)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("segment")
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.WALK_IN
    )
    referred_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        verbose_name=_("referred by"),
        db_index=False,  # partial index in Meta: most customers were not referred
    )
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("household"),
        db_index=False,  # partial index in Meta: most customers have no household
    )
    household_role = models.CharField(
        _("role in household"), max_length=10, choices=HouseholdRole.choices, blank=True
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.POTENTIAL
    )
    relationship = models.CharField(
        _("relationship"), max_length=20, choices=Relationship.choices, blank=True
    )

    # Preferences and consent, honoured by every department (C7).
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True
    )
    contact_window_start = models.TimeField(_("best contact from"), null=True, blank=True)
    contact_window_end = models.TimeField(_("best contact until"), null=True, blank=True)
    news_frequency = models.CharField(
        _("news frequency"),
        max_length=10,
        choices=NewsFrequency.choices,
        default=NewsFrequency.NORMAL,
    )
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    consent_phone = models.BooleanField(_("consents to calls"), default=True)
    consent_sms = models.BooleanField(_("consents to SMS"), default=True)
    consent_email = models.BooleanField(_("consents to e-mail"), default=True)
    consent_wechat = models.BooleanField(_("consents to WeChat"), default=True)
    consent_post = models.BooleanField(_("consents to post"), default=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        verbose_name=_("owner"),
        db_index=False,  # cust_owner_keyset leads with owner
    )
    org_unit = models.ForeignKey(
        "core.OrgUnit",
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("organisation unit"),
        db_index=False,  # cust_unit_keyset leads with org_unit
    )

    # Ownership (C3): first registration owns for a protection period; a deal settles it.
    protected_until = models.DateTimeField(_("protected until"), null=True, blank=True)
    ownership_settled_at = models.DateTimeField(
        _("ownership settled by a deal"), null=True, blank=True
    )
    in_pool_since = models.DateTimeField(_("in the public pool since"), null=True, blank=True)
    pool_previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # partial index in Meta
    )
    pool_cooling_until = models.DateTimeField(null=True, blank=True)
    # Who holds the deal credit now (C3): commission is settled for them. Nobody while the
    # customer is in the public pool or the credit went to the department. A credit decision
    # of the desk (reception) older than `credit_since` no longer holds: the credit passed
    # since (redistribution, reassignment, pool). Written only by customers/ownership.py.
    credit_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("credit holder"),
        db_index=False,  # nothing lists customers by credit holder; users are never deleted
    )
    credit_since = models.DateTimeField(_("credit held since"), null=True, blank=True)

    # Search keys, kept in step with name / company / email by the services.
    name_pinyin = models.CharField(max_length=300, editable=False, default="")
    name_initials = models.CharField(max_length=100, editable=False, default="")
    company_key = models.CharField(max_length=100, editable=False, default="")
    email_key = models.CharField(max_length=254, editable=False, default="")
    primary_phone = models.CharField(_("phone"), max_length=32, editable=False, default="")

    # Running figures, updated in the transaction of the event that changes them.
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    follow_up_rule = models.CharField(_("follow-up rule"), max_length=20, blank=True)
    follow_up_step = models.CharField(_("next step"), max_length=300, blank=True)
    last_purchase_at = models.DateTimeField(_("last purchase"), null=True, blank=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    revenue = models.DecimalField(
        _("revenue (CNY)"), max_digits=16, decimal_places=2, default=Decimal("0.00")
    )

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # no query looks customers up by their creator; users are never deleted
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        db_index=False,  # partial index in Meta: few customers are merged away
    )
    # Written by a bulk load (an import) in many short transactions: hidden from every
    # visibility-aware read while its LoadBatch is unpublished, shown all at once after.
    load_batch = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = CustomerQuerySet.as_manager()

    # Masked for anyone who is not owner or manager (SPEC Roles); see core.visibility.
    SENSITIVE_FIELDS = ("phone", "id_number", "annual_income")

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            # Keyset pagination for each visibility scope walks one of these in id order.
            models.Index(fields=["owner", "archived_at", "id"], name="cust_owner_keyset"),
            models.Index(fields=["org_unit", "archived_at", "id"], name="cust_unit_keyset"),
            models.Index(fields=["archived_at", "id"], name="cust_keyset"),
            # "My day" and the reminder scan read follow-ups due by owner and by time; the
            # public pool per unit, and the sweep for lapsed protection. Only rows with the
            # time set enter these (every query compares the time, which implies it is set):
            # smaller indexes, and nothing to maintain for customers without one.
            *(
                models.Index(
                    fields=fields, name=name, condition=Q(**{f"{fields[-1]}__isnull": False})
                )
                for name, fields in (
                    ("cust_followup_due", ["next_follow_up_at"]),
                    ("cust_pool", ["org_unit", "in_pool_since"]),
                    ("cust_protection", ["protected_until"]),
                )
            ),
            # A salesperson's live follow-ups by time, and a manager's counts per salesperson
            # read from the index alone (every such query leaves archived customers out): at a
            # million customers the team's counts take 0.1 s instead of 2 – 10 s.
            models.Index(
                fields=["owner", "next_follow_up_at"],
                name="cust_live_owner_followup",
                condition=Q(archived_at__isnull=True, next_follow_up_at__isnull=False),
            ),
            # The customers of an unpublished bulk load, which visibility leaves out: only
            # loaded rows enter.
            models.Index(
                fields=["load_batch"],
                name="cust_load_batch",
                condition=Q(load_batch__isnull=False),
            ),
            # Search-as-you-type: prefix range scans.
            models.Index(fields=["name"], name="cust_name"),
            models.Index(fields=["name_pinyin"], name="cust_pinyin"),
            models.Index(fields=["name_initials"], name="cust_initials"),
            models.Index(fields=["company_key"], name="cust_company"),
            models.Index(fields=["email_key"], name="cust_email"),
            # Links most customers do not have: indexed only where set (a condition such as
            # referred_by_id = 5 implies IS NOT NULL, so both engines use these).
            *(
                models.Index(
                    fields=[name], name=f"cust_{name}", condition=Q(**{f"{name}__isnull": False})
                )
                for name in ("referred_by", "household", "merged_into", "pool_previous_owner")
            ),
        ]
        constraints = [
            # One live customer per e-mail (C1): the database decides between racing creates
            # (services map the IntegrityError to a field error, as for phones). Merged-away
            # records keep their address for the history; archived ones still hold it.
            models.UniqueConstraint(
                fields=["email_key"],
                condition=~Q(email_key="") & Q(merged_into__isnull=True),
                name="unique_live_customer_email",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def follow_up_overdue(self) -> bool:
        """Overdue is shown the same everywhere: the follow-up time has passed."""
        return self.next_follow_up_at is not None and self.next_follow_up_at < timezone.now()

    def claim_is_valid(self, at=None) -> bool:
        """Whether the owner's claim still stands: settled by a deal, or within protection."""
        if self.ownership_settled_at:
            return True
        return bool(self.protected_until and self.protected_until >= (at or timezone.now()))

    # Display values honour masking. `viewer_unmasked` is set by the selectors for the viewer;
    # a code path that forgets it shows masked values — the safe default.
    viewer_unmasked = False
    # Set for marketers (core.visibility.hides_contact_details): e-mail, WeChat, address and
    # notes read masked too.
    viewer_contact_hidden = False

    def contact_display(self, name: str) -> str:
        value = getattr(self, name) or ""
        return MASKED if value and self.viewer_contact_hidden else value

    @property
    def email_display(self) -> str:
        return self.contact_display("email")

    @property
    def wechat_id_display(self) -> str:
        return self.contact_display("wechat_id")

    @property
    def address_display(self) -> str:
        return self.contact_display("address")

    @property
    def notes_display(self) -> str:
        return self.contact_display("notes")

    # Set by the list's search (selectors.mark_matches): the typed term, to highlight, and
    # (label, text) of a field outside the name and company where it matched.
    search_term = ""
    search_match = None

    @property
    def phone_display(self) -> str:
        if not self.primary_phone:
            return ""
        return (
            display_phone(self.primary_phone)
            if self.viewer_unmasked
            else mask_phone(self.primary_phone)
        )

    @property
    def id_number_display(self) -> str:
        if not self.id_number:
            return ""
        return self.id_number if self.viewer_unmasked else mask_id_number(self.id_number)

    @property
    def annual_income_display(self) -> str:
        if self.annual_income is None:
            return ""
        return f"¥{self.annual_income:,.2f}" if self.viewer_unmasked else MASKED


def display_phone(e164: str, compact: bool = False) -> str:
    """A number as people dial it: mainland mobiles 138 1234 5678, landlines with their area
    code 010-8888 6666, 400 810 8888, others with their + prefix; an extension after it the
    way the reader's language writes it (转 801, ext. 801). `compact`: no spaces in the number
    (an export's cell)."""
    number, extension = split_extension(e164)
    if number.startswith("+86"):
        national = number[3:]
        if len(national) == 11 and national.startswith("1"):
            shown = f"{national[:3]} {national[3:7]} {national[7:]}"
        else:
            shown = _national_format(number)
    else:
        shown = number
    if compact:
        shown = shown.replace(" ", "")
    if extension:
        return _("%(number)s ext. %(extension)s") % {"number": shown, "extension": extension}
    return shown


def _national_format(number: str) -> str:
    """+861088886666 → 010-8888 6666 (area code, dash); 400 and 800 numbers as 400 810 8888."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return number
    shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    if shown.startswith("0") and " " in shown:
        shown = shown.replace(" ", "-", 1)
    return shown


class LoadBatch(models.Model):
    """Customers a bulk load writes in short transactions, invisible until published.

    A big import must not hold the database's write lock for its whole run (on SQLite that
    locks every other user out), yet all-or-nothing must stay all-or-nothing. So its rows
    carry `Customer.load_batch`, and every visibility-aware read leaves out the rows of an
    unpublished batch (core.visibility.hidden_load_q). Publishing is one tiny UPDATE of this
    row; a failed or killed load's rows are deleted (docs/decisions/0004-imports-in-steps.md).
    """

    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.label or f"#{self.pk}"


class CustomerPhone(models.Model):
    """A normalised phone of a customer. One number belongs to one customer record."""

    class Label(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        HOME = "home", _("Home")
        WORK = "work", _("Work")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    # E.164, +86 by default; a switchboard line with its extension the RFC 3966 way
    # (+861088886666;ext=801), so two people on one switchboard are two numbers.
    number = models.CharField(max_length=32, unique=True)
    extension = models.CharField(max_length=8, blank=True, default="")
    national = models.CharField(max_length=20)  # digits as dialled at home, for prefix search
    last4 = models.CharField(max_length=4)
    label = models.CharField(max_length=10, choices=Label.choices, default=Label.MOBILE)
    is_primary = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["national"], name="phone_national"),
            models.Index(fields=["last4"], name="phone_last4"),
        ]

    def __str__(self) -> str:
        return self.number

    viewer_unmasked = False

    @property
    def display(self) -> str:
        return display_phone(self.number) if self.viewer_unmasked else mask_phone(self.number)


class CustomerShare(models.Model):
    """A customer shared with another salesperson, who then sees it (masked)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_customers"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "user"], name="unique_customer_share")
        ]
        indexes = [models.Index(fields=["user", "customer"], name="share_user")]

    def __str__(self) -> str:
        return f"{self.customer} → {self.user}"


class ContactPerson(models.Model):
    """A person to talk to at an organisation customer."""

    organisation = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="contacts",
        limit_choices_to={"kind": Customer.Kind.ORGANISATION},
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=50, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name

    viewer_unmasked = False

    @property
    def phone_display(self) -> str:
        if not self.phone:
            return ""
        return display_phone(self.phone) if self.viewer_unmasked else mask_phone(self.phone)


class ImportantDate(models.Model):
    """A date to remember: anniversary, a child starting university, a long holiday…"""

    class Kind(models.TextChoices):
        ANNIVERSARY = "anniversary", _("Anniversary")
        FAMILY = "family", _("Family event")
        HOLIDAY = "holiday", _("Holiday or trip")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="dates")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    label = models.CharField(_("what"), max_length=100)
    date = models.DateField(_("date"))
    yearly = models.BooleanField(_("every year"), default=True)

    class Meta:
        verbose_name = _("important date")
        verbose_name_plural = _("important dates")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.label} {self.date}"


class SavedView(models.Model):
    """A user's named set of list filters."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="unique_saved_view_name")
        ]

    def __str__(self) -> str:
        return self.name


class ListPreference(models.Model):
    """How one user likes the customer list: its columns in their order, and its sort.

    Remembered between visits; a column or sort the product no longer offers is ignored
    when read (customers.list_columns)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_list_pref"
    )
    columns = models.JSONField(default=list)
    sort = models.CharField(max_length=30, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {','.join(self.columns)} / {self.sort}"
