"""Products and their inventory units (a manager's)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.core.models import User

from ..models import (
    InventoryUnit,
    Product,
)
from .base import Unit, money, require_manager, unit_move


def product_create(
    *, actor: User, name: str, sku: str, list_price, category: str = "", has_units: bool = False
) -> Product:
    require_manager(actor)
    if not name.strip() or not sku.strip():
        raise ValidationFailed.single("name", "required", _("Name and code are required."))
    with transaction.atomic():
        if Product.objects.filter(sku=sku.strip()).exists():
            raise ValidationFailed.single("sku", "duplicate", _("This code is taken."))
        product = Product.objects.create(
            name=name.strip()[:100],
            sku=sku.strip()[:40],
            category=category[:50],
            has_units=has_units,
            list_price=money(list_price, "list_price"),
        )
        audit_record(actor=actor, verb="product.create", target=product)
    return product


def units_create(*, actor: User, product_id: int, units: list[dict]) -> list[InventoryUnit]:
    """Add flats or serial-numbered items; they start held back until a manager releases."""
    require_manager(actor)
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound(_("Product not found."))
    rows = []
    for index, data in enumerate(units):
        code = str(data.get("code", "")).strip()
        if not code:
            raise ValidationFailed.single(
                f"units.{index}.code", "required", _("Each unit needs a code.")
            )
        rows.append(
            InventoryUnit(
                product=product,
                code=code[:40],
                building=str(data.get("building", ""))[:20],
                floor=data.get("floor"),
                number=str(data.get("number", ""))[:20],
                area=data.get("area"),
                list_price=money(
                    data.get("list_price", product.list_price), f"units.{index}.list_price"
                ),
            )
        )
    with transaction.atomic():
        try:
            created = InventoryUnit.objects.bulk_create(rows)
        except IntegrityError as exc:
            raise ValidationFailed.single("units", "duplicate", _("A unit code is taken.")) from exc
        audit_record(
            actor=actor,
            verb="units.create",
            target=product,
            changes={"units": [None, len(created)]},
        )
    return created


def unit_set_release(*, actor: User, unit_id: int, release: bool) -> InventoryUnit:
    """预销控: only a manager releases a held unit for sale, or holds an available one back."""
    require_manager(actor)
    source, target = (Unit.HELD, Unit.AVAILABLE) if release else (Unit.AVAILABLE, Unit.HELD)
    with transaction.atomic():
        unit = InventoryUnit.objects.select_for_update().filter(pk=unit_id).first()
        if unit is None:
            raise NotFound(_("Unit not found."))
        if unit.status != source:
            raise Conflict(_("The unit is %s.") % unit.get_status_display(), code="wrong_status")
        unit_move(unit, target, deal=None, actor=actor, note="release" if release else "hold back")
    return unit
