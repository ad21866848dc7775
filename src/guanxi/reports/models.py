"""What the reports app keeps: saved pivots and the forecasts it made, so that each month's
actual receipts can be shown beside what was forecast for it."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedPivot(models.Model):
    """A pivot someone built and named; shared ones are listed for everyone (each reader
    still sees only their own records in it)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_pivots"
    )
    name = models.CharField(_("name"), max_length=80)
    dataset = models.CharField(max_length=30)
    rows = models.CharField(max_length=30)
    columns = models.CharField(max_length=30, blank=True)
    measure = models.CharField(max_length=30)
    shared = models.BooleanField(_("shared with colleagues"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved pivot")
        verbose_name_plural = _("saved pivots")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_pivot_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ForecastSnapshot(models.Model):
    """What the forecast said, in `taken_in` (a month), about `month`, for one reader's
    scope. Written once per month and scope; never changed."""

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    taken_in = models.DateField()
    month = models.DateField()
    weighted = models.DecimalField(max_digits=16, decimal_places=2)
    trend = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["viewer", "taken_in", "month"], name="forecast_snapshot_once"
            ),
            models.CheckConstraint(
                condition=models.Q(weighted__gte=0) & models.Q(trend__gte=0),
                name="forecast_snapshot_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_id} {self.taken_in:%Y-%m} → {self.month:%Y-%m}"


class OrderLineMonth(models.Model):
    """Order lines summed per month (in the office's time zone), customer unit, customer
    owner and product: the pivot over ten million lines reads these few hundred thousand rows
    instead (decision 0009). Kept in step in the transaction of every change (rollup.py):
    an order created, a customer passing to another owner or unit, a merge. Keyed by the
    customer's current unit and owner, as visibility is; `guanxi reports_rebuild` recomputes
    it from the lines."""

    month = models.DateTimeField()  # the first instant of the month, office time
    unit = models.ForeignKey("core.OrgUnit", on_delete=models.CASCADE, related_name="+")
    owner = models.PositiveIntegerField()  # the customer's owner's id; 0: nobody (the pool)
    product = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")
    lines = models.IntegerField(default=0)
    quantity = models.BigIntegerField(default=0)
    amount_cents = models.BigIntegerField(default=0)  # exact on SQLite too

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "unit", "owner", "product"], name="order_line_month_key"
            )
        ]
        indexes = [
            models.Index(fields=["unit", "month"], name="order_line_month_unit"),
            models.Index(fields=["owner", "month"], name="order_line_month_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.unit_id}/{self.owner} {self.product_id}: {self.lines}"
