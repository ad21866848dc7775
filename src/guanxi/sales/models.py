"""Sales process (C4): products and prices, inventory units and sales control, deals in a
pipeline, quotes, subscription agreements, payment schedules and payments, changes,
retail orders and deliveries, and the commission ledger."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.visibility import customer_visibility_q

MONEY = {"max_digits": 14, "decimal_places": 2}
POSITIVE = [MinValueValidator(Decimal("0.01"))]


def not_negative(field: str, model: str) -> models.CheckConstraint:
    """Money the database itself keeps at zero or above, whatever code writes it (C4)."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}), name=f"{model}_{field}_not_negative"
    )


class SalesSettings(models.Model):
    """Company-wide sales rules; one row."""

    discount_approval_pct = models.DecimalField(
        _("discounts above this % need a manager"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
    )
    default_after_days = models.PositiveSmallIntegerField(
        _("days overdue before a deal is in default"), default=60
    )
    commission_rate_pct = models.DecimalField(
        # xgettext:no-python-format
        _("commission (% of deal amount)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
    )
    name_change_fee = models.DecimalField(
        _("default name-change (换名) fee"), **MONEY, default=Decimal("0.00")
    )

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "SalesSettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()


class Product(models.Model):
    """Something we sell: a flat type in a project, a phone model, a service."""

    name = models.CharField(_("name"), max_length=100)
    sku = models.CharField(_("code"), max_length=40, unique=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    list_price = models.DecimalField(_("list price (CNY)"), **MONEY, validators=POSITIVE)
    has_units = models.BooleanField(
        _("sold as individual units (房源 / serial numbers)"), default=False
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [not_negative("list_price", "product")]

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def __str__(self) -> str:
        return self.name


class PriceListEntry(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    price = models.DecimalField(_("price (CNY)"), **MONEY, validators=POSITIVE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="unique_price_per_list")
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.price}"


class InventoryUnit(models.Model):
    """A flat (building / floor / number) or a serial-numbered item, and its sales status.

    Status only moves through the services; `deal` is the deal holding it from reservation.
    """

    class Status(models.TextChoices):
        HELD = "held", _("Held back (预销控)")
        AVAILABLE = "available", _("Available")
        RESERVED = "reserved", _("Reserved")
        SUBSCRIBED = "subscribed", _("Subscribed")
        SIGNED = "signed", _("Signed")
        SOLD = "sold", _("Sold")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="units")
    code = models.CharField(_("unit"), max_length=40, unique=True)
    building = models.CharField(_("building"), max_length=20, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=20, blank=True)
    area = models.DecimalField(
        _("area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    list_price = models.DecimalField(_("price (CNY)"), **MONEY, validators=POSITIVE)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.HELD
    )
    deal = models.ForeignKey(
        "Deal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["building", "-floor", "number"]
        constraints = [not_negative("list_price", "unit")]
        # In the board's order (building, top floor first, number): read without a sort.
        indexes = [
            models.Index(
                fields=["product", "building", "-floor", "number"], name="unit_board_order"
            )
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        # Any edit (the admin's too) is a change the sales-control board must redraw.
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


class UnitEvent(models.Model):
    """Every status change of a unit: its whole history, one row each."""

    unit = models.ForeignKey(InventoryUnit, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    deal = models.ForeignKey(
        "Deal", null=True, blank=True, on_delete=models.PROTECT, related_name="unit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.unit} {self.from_status}→{self.to_status}"


class PipelineStage(models.Model):
    """A column of the pipeline. Codes are fixed (the services' stage rules refer to them);
    names, order, probability and whether a stage is used are configurable."""

    class Code(models.TextChoices):
        LEAD = "lead", _("Lead")
        NEEDS = "needs_confirmed", _("Needs confirmed")
        QUOTED = "quoted", _("Quoted")
        SMALL_DEPOSIT = "small_deposit", _("Small deposit (小定)")
        LARGE_DEPOSIT = "large_deposit", _("Large deposit (大定)")
        SUBSCRIPTION = "subscription", _("Subscription (认购)")
        CONTRACT = "contract", _("Contract (签约)")
        PAID = "paid", _("Paid")
        DELIVERED = "delivered", _("Delivered")
        LOST = "lost", _("Lost")

    code = models.CharField(max_length=20, choices=Code.choices, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=30)
    name_en = models.CharField(_("English name"), max_length=30)
    position = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(_("win probability %"), default=0)
    active = models.BooleanField(_("used"), default=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


def stage_label(code: str) -> str:
    """A stage code as its label in the active language (an unknown code as it is)."""
    return str(PipelineStage.Code(code).label) if code in PipelineStage.Code.values else code


STAGE_ORDER = [c for c in PipelineStage.Code.values]
OPEN_STAGES = STAGE_ORDER[: STAGE_ORDER.index("paid")]
DEPOSIT_STAGES = ("small_deposit", "large_deposit")
ABOUT_TO_SIGN = ("small_deposit", "large_deposit", "subscription")


class DealQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(customer_visibility_q(user, prefix="customer__"))

    def open(self):
        return self.filter(stage__in=OPEN_STAGES)


class Deal(models.Model):
    """An opportunity with one customer, moving through the pipeline."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="deals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("owner"),
    )
    title = models.CharField(_("title"), max_length=120)
    stage = models.CharField(
        _("stage"),
        max_length=20,
        choices=PipelineStage.Code.choices,
        default=PipelineStage.Code.LEAD,
    )
    amount = models.DecimalField(_("amount (CNY)"), **MONEY, default=Decimal("0.00"))
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("product"),
    )
    unit = models.ForeignKey(
        InventoryUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("unit"),
    )
    buyer_name = models.CharField(_("buyer's name on the contract"), max_length=100, blank=True)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    lost_reason = models.CharField(_("lost because"), max_length=300, blank=True)
    in_default = models.BooleanField(_("in default (违约)"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = DealQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [not_negative("amount", "deal")]
        indexes = [
            models.Index(fields=["stage", "-updated_at"], name="deal_board"),
            models.Index(fields=["owner", "stage"], name="deal_owner_stage"),
            # Covers the kanban's per-stage count and amount over a viewer's customers.
            models.Index(fields=["customer", "stage", "amount"], name="deal_customer_totals"),
            # Everyone's pipeline by stage (an administrator's home) from the index alone (the
            # customer for visibility's "not an unpublished load").
            models.Index(fields=["stage", "amount", "customer"], name="deal_stage_totals"),
            # The few deals in default, counted on the finance desk.
            models.Index(fields=["customer"], name="deal_in_default", condition=Q(in_default=True)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.stage in ("paid", "delivered", "lost")


class DealEvent(models.Model):
    """What happened to a deal: stage moves, deposits, agreements, changes, payments."""

    # `kind` and the stages are stored as codes; people read these labels.
    KIND_LABELS = {
        "created": _("Deal opened"),
        "stage": _("Deal moved"),
        "payment": _("Payment received"),
        "amendment": _("Agreement amended"),
        "schedule": _("Payment schedule set"),
        "change_requested": _("Change requested"),
        "unit_change": _("Unit changed (换房)"),
        "name_change": _("Name changed (换名)"),
    }

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30)
    from_stage = models.CharField(max_length=20, blank=True)
    to_stage = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.deal} {self.kind}"

    def get_kind_display(self) -> str:
        return str(self.KIND_LABELS.get(self.kind, self.kind))

    def get_from_stage_display(self) -> str:
        return stage_label(self.from_stage)

    def get_to_stage_display(self) -> str:
        return stage_label(self.to_stage)


class Quote(models.Model):
    """One authoritative price per customer and product at a time (partial unique index)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        ACTIVE = "active", _("Standing")
        SUPERSEDED = "superseded", _("Superseded")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="quotes"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="quotes")
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.PROTECT, related_name="quotes"
    )
    list_price = models.DecimalField(**MONEY)
    price = models.DecimalField(_("quoted price"), **MONEY, validators=POSITIVE)
    discount_pct = models.DecimalField(max_digits=5, decimal_places=2)
    status = models.CharField(max_length=12, choices=Status.choices)
    quoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quotes"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            # A customer never holds two live quotes for one product (SPEC C4).
            models.UniqueConstraint(
                fields=["customer", "product"],
                condition=Q(status__in=["pending", "active"]),
                name="one_live_quote_per_customer_product",
            ),
            not_negative("price", "quote"),
            not_negative("list_price", "quote"),
        ]
        # The quotes waiting for a manager's approval: a few among all quotes ever made.
        indexes = [
            models.Index(fields=["customer"], name="quote_pending", condition=Q(status="pending"))
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.product}: {self.price}"


class Agreement(models.Model):
    """认购书 (or an amendment to one): numbered, printed in four copies, never altered.

    `content` is the snapshot printed; a change is a new amendment row, never an update.
    """

    class Kind(models.TextChoices):
        AGREEMENT = "agreement", _("Subscription agreement")
        AMENDMENT = "amendment", _("Amendment")

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    content = models.JSONField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("subscription agreement")
        verbose_name_plural = _("subscription agreements")

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if self.pk and Agreement.objects.filter(pk=self.pk).exists():
            raise ValueError("An issued agreement is never altered; issue an amendment.")
        super().save(*args, **kwargs)


class NumberSequence(models.Model):
    """Gap-free numbers per prefix and year, taken under a row lock."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="unique_sequence")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.year}:{self.last}"


class Instalment(models.Model):
    """One expected payment of a deal (deposit, down payment, instalment)."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="instalments")
    label = models.CharField(_("what"), max_length=60)
    due_date = models.DateField(_("due"))
    amount = models.DecimalField(_("amount (CNY)"), **MONEY, validators=POSITIVE)
    paid_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date"], name="instalment_due")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
            not_negative("paid_amount", "instalment"),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.amount}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.paid_amount, Decimal("0.00"))


class Payment(models.Model):
    """Money received (or refunded) — recorded by finance only, with a receipt number."""

    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        CARD = "card", _("Card (POS)")
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        CASH = "cash", _("Cash")

    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    order = models.ForeignKey(
        "Order", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    instalment = models.ForeignKey(
        Instalment, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(_("amount (CNY)"), **MONEY)  # negative for a refund
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    receipt_number = models.CharField(_("receipt number"), max_length=40, unique=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_at"]
        # A receipt or a refund (negative), never nothing.
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="payment_not_zero")]
        # Today's receipts on the finance desk: one day's range, not every payment.
        indexes = [models.Index(fields=["received_at"], name="payment_received")]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.amount}"


class ChangeRequest(models.Model):
    """换房 / 换名 / 退房: requested by sales, decided by a manager, then carried out."""

    class Kind(models.TextChoices):
        UNIT_CHANGE = "unit_change", _("Unit change (换房)")
        NAME_CHANGE = "name_change", _("Name change (换名)")
        REFUND = "refund", _("Refund (退房)")
        PRICE_CHANGE = "price_change", _("Price change (改价)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        DONE = "done", _("Approved and done")
        REJECTED = "rejected", _("Rejected")

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    data = models.JSONField(default=dict)
    reason = models.CharField(_("reason"), max_length=500)
    fee = models.DecimalField(_("fee (CNY)"), **MONEY, default=Decimal("0.00"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        # The requests waiting for a manager: a few among all ever made.
        indexes = [
            models.Index(fields=["deal"], name="change_pending", condition=Q(status="pending"))
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.deal}"


class Order(models.Model):
    """A retail order: what, who ships and how, who receives, who pays."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    class ShipMethod(models.TextChoices):
        PICKUP = "pickup", _("Customer picks up")
        OWN = "own", _("Our delivery")
        COURIER = "courier", _("Courier")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    number = models.CharField(_("order number"), max_length=30, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ship_method = models.CharField(_("delivery"), max_length=10, choices=ShipMethod.choices)
    shipper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who ships"),
    )
    receiver_name = models.CharField(_("who receives"), max_length=100)
    receiver_phone = models.CharField(_("receiver's phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    payer = models.CharField(_("who pays"), max_length=100)
    total = models.DecimalField(_("total (CNY)"), **MONEY, default=Decimal("0.00"))
    paid = models.DecimalField(**MONEY, default=Decimal("0.00"))
    carrier = models.CharField(_("carrier"), max_length=50, blank=True)
    tracking = models.CharField(_("tracking number"), max_length=60, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    received_by = models.CharField(_("signed for by"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["customer", "delivered_at"], name="order_deliveries")]
        constraints = [not_negative("total", "order"), not_negative("paid", "order")]

    def __str__(self) -> str:
        return self.number


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        InventoryUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(**MONEY, validators=POSITIVE)

    class Meta:
        constraints = [not_negative("unit_price", "order_item")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"


class CommissionEntry(models.Model):
    """The commission ledger: one line per party of a paid deal, from C3's split."""

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="commissions")
    salesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commissions",
    )
    department = models.ForeignKey(
        "core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    amount = models.DecimalField(**MONEY)
    case_number = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "salesperson", "department"], name="one_commission_line_per_party"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deal}: {self.salesperson or self.department} {self.amount}"
