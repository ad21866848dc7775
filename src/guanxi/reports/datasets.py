"""What a report or pivot can group and measure, declared once per kind of record.

A dataset is a visibility-filtered queryset (the reader's records only) with named
dimensions (a field path, or a month of a date) and measures (count, sums). The pivot, the
revenue report and exports all read these declarations; other apps (service tickets,
loyalty points) add theirs with `register_dataset` from their AppConfig.ready().
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OrgUnit, User
from guanxi.customers.models import Customer
from guanxi.interactions.models import Interaction
from guanxi.sales.models import Deal, Order, OrderItem, Payment, PipelineStage, Product

from . import rollup


@dataclass(frozen=True)
class Dimension:
    label: str | Promise
    path: str  # the field the rows are grouped by
    month: bool = False  # group a datetime by its calendar month (in the current time zone)
    display: str = ""  # a field read for the label (e.g. a user's name beside owner_id)
    choices: dict = field(default_factory=dict)  # stored code → label
    # After the database grouped by `path`, merge groups: the keys found → {key: (new key,
    # label)}. Branches are not stored on a record (a record belongs to a department), so
    # records are grouped by unit in the database and the few hundred units rolled up here.
    regroup: Callable[[set], dict] | None = None


@dataclass(frozen=True)
class Measure:
    label: str | Promise
    aggregate: Callable[[], object]  # a fresh aggregate expression
    money: bool = False
    cents: bool = False  # the aggregate counts cents (an exact integer on every engine)


@dataclass(frozen=True)
class Summary:
    """A table kept in step with a dataset's records that answers the pivots it covers
    without scanning them: its dimensions and measures under the dataset's names, and the
    reader's scope as (summary rows, records to add, records to subtract) — the records
    being the dataset's, grouped as the scan would. Its `date_field` holds a month: a period
    is served when it is whole months; `serves()` says whether it serves now at all."""

    dimensions: dict[str, Dimension]
    measures: dict[str, Measure]
    date_field: str
    parts: Callable[[User], tuple[QuerySet, QuerySet, QuerySet]]
    serves: Callable[[], bool] = lambda: True


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str | Promise
    queryset: Callable[[User], QuerySet]  # already limited to what the reader may see
    dimensions: dict[str, Dimension]
    measures: dict[str, Measure]
    date_field: str  # the field the period filter applies to
    summary: Summary | None = None


_DATASETS: dict[str, Dataset] = {}


def register_dataset(dataset: Dataset) -> None:
    _DATASETS[dataset.name] = dataset


def datasets() -> dict[str, Dataset]:
    return dict(_DATASETS)


def dataset(name: str) -> Dataset | None:
    return _DATASETS.get(name)


def group_expression(dimension: Dimension):
    return TruncMonth(dimension.path) if dimension.month else F(dimension.path)


COUNT = Measure(_("Count"), lambda: Count("id"))


def units_to_branches(unit_ids: set) -> dict:
    """Each unit's branch (or head office), with its name."""

    units = OrgUnit.objects.filter(pk__in=[u for u in unit_ids if u is not None])
    result = {}
    for unit in units:
        branch = unit.branch()
        result[unit.pk] = (branch.pk, branch.name)
    return result


def months_labelled(months: set) -> dict:
    """A summary's months (first instants, office time) with the scan's labels."""
    return {m: (m, timezone.localtime(m).strftime("%Y-%m")) for m in months if m is not None}


def products_named(product_ids: set) -> dict:
    names = Product.objects.filter(pk__in=product_ids).values_list("pk", "name")
    return {pk: (pk, name) for pk, name in names}


def branch_of(path: str) -> "Dimension":
    return Dimension(_("Branch"), path, regroup=units_to_branches)


def register_builtin() -> None:
    """Customers, deals, payments (revenue) and interactions: the data that exists in every
    installation."""
    stage_labels = dict(PipelineStage.Code.choices)
    owner = Dimension(_("Salesperson"), "owner_id", display="owner__display_name")
    register_dataset(
        Dataset(
            "customers",
            _("Customers"),
            lambda user: Customer.objects.visible_to(user).filter(archived_at__isnull=True),
            {
                "owner": owner,
                "unit": Dimension(_("Unit"), "org_unit_id", display="org_unit__name"),
                "branch": branch_of("org_unit_id"),
                "stage": Dimension(_("Stage"), "stage", choices=dict(Customer.Stage.choices)),
                "relationship": Dimension(
                    _("Relationship"), "relationship", choices=dict(Customer.Relationship.choices)
                ),
                "province": Dimension(_("Province"), "province"),
                "city": Dimension(_("City"), "city"),
                "source": Dimension(_("Source"), "source", choices=dict(Customer.Source.choices)),
                "created_month": Dimension(_("Month created"), "created_at", month=True),
            },
            {
                "count": COUNT,
                "revenue": Measure(_("Revenue"), lambda: Sum("revenue"), money=True),
                "orders": Measure(_("Orders"), lambda: Sum("order_count")),
            },
            "created_at",
        )
    )
    register_dataset(
        Dataset(
            "deals",
            _("Deals"),
            lambda user: Deal.objects.visible_to(user),
            {
                "owner": owner,
                "stage": Dimension(_("Stage"), "stage", choices=stage_labels),
                "product": Dimension(_("Product"), "product_id", display="product__name"),
                "unit": Dimension(
                    _("Unit"), "customer__org_unit_id", display="customer__org_unit__name"
                ),
                "branch": branch_of("customer__org_unit_id"),
                "created_month": Dimension(_("Month opened"), "created_at", month=True),
                "closed_month": Dimension(_("Month closed"), "closed_at", month=True),
            },
            {
                "count": COUNT,
                "amount": Measure(_("Amount"), lambda: Sum("amount"), money=True),
            },
            "created_at",
        )
    )
    register_dataset(
        Dataset(
            "revenue",
            _("Payments received (revenue)"),
            lambda user: Payment.objects.filter(customer__in=Customer.objects.visible_to(user)),
            {
                "month": Dimension(_("Month"), "received_at", month=True),
                "owner": Dimension(
                    _("Salesperson"), "deal__owner_id", display="deal__owner__display_name"
                ),
                "product": Dimension(
                    _("Product"), "deal__product_id", display="deal__product__name"
                ),
                "unit": Dimension(
                    _("Unit"), "customer__org_unit_id", display="customer__org_unit__name"
                ),
                "branch": branch_of("customer__org_unit_id"),
                "province": Dimension(_("Province"), "customer__province"),
                "customer": Dimension(_("Customer"), "customer_id", display="customer__name"),
                "method": Dimension(_("Method"), "method", choices=dict(Payment.Method.choices)),
            },
            {
                "count": COUNT,
                "amount": Measure(_("Amount"), lambda: Sum("amount"), money=True),
            },
            "received_at",
        )
    )
    visible_customers = Customer.objects.visible_to
    register_dataset(
        Dataset(
            "orders",
            _("Retail orders"),
            lambda user: Order.objects.filter(customer__in=visible_customers(user)),
            {
                "month": Dimension(_("Month"), "created_at", month=True),
                "branch": branch_of("customer__org_unit_id"),
                "unit": Dimension(
                    _("Unit"), "customer__org_unit_id", display="customer__org_unit__name"
                ),
                "status": Dimension(_("Status"), "status", choices=dict(Order.Status.choices)),
                "province": Dimension(_("Province"), "customer__province"),
            },
            {
                "count": COUNT,
                "total": Measure(_("Amount"), lambda: Sum("total"), money=True),
            },
            "created_at",
        )
    )
    register_dataset(
        Dataset(
            "order_lines",
            _("Order lines"),
            lambda user: OrderItem.objects.filter(order__customer__in=visible_customers(user)),
            {
                "month": Dimension(_("Month"), "order__created_at", month=True),
                "branch": branch_of("order__customer__org_unit_id"),
                "product": Dimension(_("Product"), "product_id", display="product__name"),
            },
            {
                "count": COUNT,
                "quantity": Measure(_("Quantity"), lambda: Sum("quantity")),
                "amount": Measure(
                    _("Amount"), lambda: Sum(F("quantity") * F("unit_price")), money=True
                ),
            },
            "order__created_at",
            summary=Summary(
                {
                    "month": Dimension(_("Month"), "month", regroup=months_labelled),
                    "branch": branch_of("unit_id"),
                    "product": Dimension(_("Product"), "product_id", regroup=products_named),
                },
                {
                    "count": Measure(_("Count"), lambda: Sum("lines")),
                    "quantity": Measure(_("Quantity"), lambda: Sum("quantity")),
                    "amount": Measure(
                        _("Amount"), lambda: Sum("amount_cents"), money=True, cents=True
                    ),
                },
                "month",
                rollup.summary_parts,
                rollup.serves_zone,
            ),
        )
    )
    register_dataset(
        Dataset(
            "interactions",
            _("Interactions"),
            lambda user: Interaction.objects.filter(customer__in=Customer.objects.visible_to(user)),
            {
                "actor": Dimension(_("Logged by"), "actor_id", display="actor__display_name"),
                "kind": Dimension(_("Kind"), "kind", choices=dict(Interaction.Kind.choices)),
                "month": Dimension(_("Month"), "occurred_at", month=True),
            },
            {"count": COUNT},
            "occurred_at",
        )
    )
