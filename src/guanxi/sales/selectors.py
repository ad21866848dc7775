"""Reads for the pipeline, the sales-control board, approvals and the finance desk."""

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from guanxi.core.errors import NotFound
from guanxi.core.models import User

from .models import ChangeRequest, Deal, Instalment, InventoryUnit, PipelineStage, Product, Quote

CARDS_PER_COLUMN = 20


@dataclass
class Column:
    stage: PipelineStage
    count: int = 0
    total: Decimal = Decimal("0.00")
    deals: list = field(default_factory=list)


def kanban(*, viewer: User, mine: bool = False) -> list[Column]:
    """One column per stage in use, each with its count and amount over every visible deal
    (one GROUP BY), and the most recently moved cards."""
    stages = list(PipelineStage.objects.filter(active=True).order_by("position"))
    deals = Deal.objects.visible_to(viewer)
    if mine:
        deals = deals.filter(owner=viewer)
    totals = {
        row["stage"]: row
        for row in deals.values("stage").annotate(n=Count("id"), s=Sum("amount")).order_by()
    }
    columns = []
    for stage in stages:
        row = totals.get(stage.code, {})
        cards = list(
            deals.filter(stage=stage.code)
            .select_related("customer", "unit", "owner")
            .order_by("-updated_at")[:CARDS_PER_COLUMN]
        )
        # SQLite sums decimals as floats (300.300000000000): back to the cent.
        amount = Decimal(row.get("s") or 0).quantize(Decimal("0.01"))
        columns.append(Column(stage, row.get("n", 0), amount, cards))
    return columns


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
    buildings: "OrderedDict[str, OrderedDict[int | None, list[InventoryUnit]]]"
    counts: dict


def sales_board(product_id: int | None) -> Board:
    """销控表: units by building and floor (top floor first), coloured by status."""
    products = Product.objects.filter(has_units=True, active=True).order_by("name")
    product = products.filter(pk=product_id).first() if product_id else products.first()
    buildings: OrderedDict = OrderedDict()
    counts: dict[str, int] = {}
    if product:
        units = (
            InventoryUnit.objects.filter(product=product)
            .only(
                "id",
                "code",
                "building",
                "floor",
                "number",
                "status",
                "list_price",
                "area",
                "deal_id",
            )
            .order_by("building", "-floor", "number")
        )
        for unit in units:
            buildings.setdefault(unit.building or "—", OrderedDict()).setdefault(
                unit.floor, []
            ).append(unit)
            counts[unit.status] = counts.get(unit.status, 0) + 1
    return Board(product, buildings, counts)


def pending_quotes(viewer: User):
    from guanxi.core.visibility import customer_visibility_q

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
