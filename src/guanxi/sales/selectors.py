"""Reads for the pipeline, the sales-control board, approvals and the finance desk."""

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, F, FloatField, Max, Q, Sum, Value, When
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from guanxi.core.errors import NotFound
from guanxi.core.models import User
from guanxi.core.visibility import customer_visibility_q
from guanxi.customers.models import Customer

from .models import ChangeRequest, Deal, Instalment, InventoryUnit, PipelineStage, Product, Quote

CARDS_PER_COLUMN = 20
# What a kanban card shows: not the customer's (wide) row, only its name.
CARD_FIELDS = (
    "id",
    "title",
    "stage",
    "amount",
    "in_default",
    "updated_at",
    "customer__id",
    "customer__name",
    "unit__id",
    "unit__code",
    "owner__id",
    "owner__username",
    "owner__display_name",
    "owner__first_name",
    "owner__last_name",
)


@dataclass
class Column:
    stage: PipelineStage
    count: int = 0
    total: Decimal = Decimal("0.00")
    deals: list = field(default_factory=list)


# A column with more visible deals than this reads its cards by walking the stage's index
# newest first (the first 20 visible ones come quickly); a smaller one from the viewer's
# customers (few deals, sorted at once). Both read the same rows; only the plan differs.
WALK_STAGE_FROM = 1000
LIST_CUSTOMERS_UP_TO = 500


def kanban(*, viewer: User, mine: bool = False) -> list[Column]:
    """One column per stage in use, each with its count and amount over every visible deal
    (one GROUP BY), and the most recently moved cards."""
    stages = list(PipelineStage.objects.filter(active=True).order_by("position"))
    visible = customer_visibility_q(viewer)
    # The viewer's deals as "customer IN (their customers)": the GROUP BY then reads the
    # (customer, stage, amount) index of those customers only, not every deal. A short
    # book goes in as the list of ids: PostgreSQL cannot estimate "owner = me OR shared
    # with me" and would otherwise scan every deal.
    if visible == Q():
        by_customer = Deal.objects.all()
    else:
        customers = Customer.objects.filter(visible).values_list("pk", flat=True)
        ids = list(customers[: LIST_CUSTOMERS_UP_TO + 1])
        by_customer = Deal.objects.filter(
            customer_id__in=ids if len(ids) <= LIST_CUSTOMERS_UP_TO else customers
        )
    by_stage = Deal.objects.visible_to(viewer)
    if mine:
        by_customer, by_stage = by_customer.filter(owner=viewer), by_stage.filter(owner=viewer)
    totals = {
        row["stage"]: row
        for row in by_customer.values("stage").annotate(n=Count("id"), s=Sum("amount")).order_by()
    }
    columns = []
    for stage in stages:
        row = totals.get(stage.code, {})
        count = row.get("n", 0)
        cards = []
        if count:
            source = by_stage if count > WALK_STAGE_FROM else by_customer
            cards = list(
                source.filter(stage=stage.code)
                .select_related("customer", "unit", "owner")
                .only(*CARD_FIELDS)
                .order_by("-updated_at")[:CARDS_PER_COLUMN]
            )
        # SQLite sums decimals as floats (300.300000000000): back to the cent.
        amount = Decimal(row.get("s") or 0).quantize(Decimal("0.01"))
        columns.append(Column(stage, count, amount, cards))
    attach_quote_prices([deal for column in columns for deal in column.deals])
    return columns


def attach_quote_prices(deals) -> None:
    """Set `quote_price` on deals without an amount yet: the live quote's price (standing,
    or waiting for approval), so a quoted deal shows what was offered, not ¥0.00."""
    waiting = {deal.pk: deal for deal in deals if not deal.amount}
    for deal in waiting.values():
        deal.quote_price = None
    if not waiting:
        return
    live = (
        Quote.objects.filter(deal_id__in=waiting, status__in=["pending", "active"])
        .order_by("deal_id", "-id")
        .values_list("deal_id", "price")
    )
    for deal_id, price in live:
        if waiting[deal_id].quote_price is None:
            waiting[deal_id].quote_price = price


def deal_get(*, viewer: User, pk: int) -> Deal:
    deal = (
        Deal.objects.visible_to(viewer)
        .select_related("customer", "owner", "unit", "product")
        .filter(pk=pk)
        .first()
    )
    if deal is None:
        raise NotFound(_("Deal not found."))
    return deal


@dataclass
class Board:
    product: Product | None
    # building → floor → units (light rows: id, code, building, floor, number, status, …)
    buildings: "OrderedDict[str, OrderedDict[int | None, list]]"
    # (status, label, how many) in the order of the statuses
    counts: list[tuple[str, str, int]]
    # What the board showed, for the next poll to ask "anything new?" (board_version)
    version: str = ""


UNIT_FIELDS = ("id", "code", "building", "floor", "number", "status", "deal_id")
STATUS_RANK = {code: rank for rank, code in enumerate(InventoryUnit.Status.values, start=1)}


def board_version(product_id: int) -> str:
    """A fingerprint of a product's board: how many units, a checksum of their statuses
    and prices, and the last change. Polls that find it unchanged get an empty answer
    instead of 5,000 cells; one aggregate over the product's units.

    The status checksum, not only the newest `updated_at`, catches a change committed late
    with an older timestamp than one already seen."""
    rank = Case(
        *(When(status=code, then=Value(n)) for code, n in STATUS_RANK.items()),
        default=Value(0),
    )
    row = InventoryUnit.objects.filter(product_id=product_id).aggregate(
        n=Count("id"),
        statuses=Sum(F("id") * rank),
        prices=Sum("list_price"),
        last=Max("updated_at"),
    )
    last = row["last"].timestamp() if row["last"] else 0
    return f"{row['n']}-{row['statuses'] or 0}-{row['prices'] or 0}-{last:.6f}"


def board_product(product_id: int | None) -> Product | None:
    """The product whose board is shown: the one asked for, else the first by name."""
    products = Product.objects.filter(has_units=True, active=True).order_by("name")
    return products.filter(pk=product_id).first() if product_id else products.first()


def board_units(product_id: int | None):
    """The units of a product's board as model rows, in the board's order (for the API)."""
    product = board_product(product_id)
    if product is None:
        return InventoryUnit.objects.none()
    return InventoryUnit.objects.filter(product=product).order_by("building", "-floor", "number")


def sales_board(product_id: int | None, *, with_version: bool = False) -> Board:
    """销控表: units by building and floor (top floor first), coloured by status.

    Rows, not model instances: a board of 5,000 units is read in a few milliseconds."""
    product = board_product(product_id)
    buildings: OrderedDict = OrderedDict()
    tally: dict[str, int] = {}
    version = ""
    if product:
        # Taken before the units are read: at worst the next poll redraws once too often.
        version = board_version(product.pk) if with_version else ""
        # Price and area only for the cell's tooltip: as floats, printed to the cent, they
        # skip the Decimal conversion of 10,000 values (a third of the read).
        units = (
            InventoryUnit.objects.filter(product=product)
            .order_by("building", "-floor", "number")
            .annotate(price=Cast("list_price", FloatField()), size=Cast("area", FloatField()))
            .values_list(*UNIT_FIELDS, "price", "size", named=True)
        )
        for unit in units:
            buildings.setdefault(unit.building or "—", OrderedDict()).setdefault(
                unit.floor, []
            ).append(unit)
            tally[unit.status] = tally.get(unit.status, 0) + 1
    counts = [
        (code, str(label), tally[code])
        for code, label in InventoryUnit.Status.choices
        if code in tally
    ]
    return Board(product, buildings, counts, version)


def pending_quotes(viewer: User):

    if not (viewer.is_admin or viewer.managed_unit_ids):
        return Quote.objects.none()
    return (
        Quote.objects.filter(status=Quote.Status.PENDING)
        .filter(customer_visibility_q(viewer, prefix="customer__"))
        .select_related("customer", "product", "quoted_by")
    )


def pending_changes(viewer: User):
    changes = ChangeRequest.objects.filter(status=ChangeRequest.Status.PENDING).select_related(
        "deal__customer", "requested_by"
    )
    if viewer.is_admin:
        return changes
    return changes.filter(deal__customer__org_unit_id__in=viewer.managed_unit_ids)


def finance_queue(viewer: User, limit: int = 200):
    """Instalments waiting for money, oldest due first; overdue ones first of all."""
    return (
        Instalment.objects.filter(status=Instalment.Status.DUE)
        .filter(deal__in=Deal.objects.visible_to(viewer))
        .select_related("deal__customer")
        .order_by("due_date", "id")[:limit]
    )
