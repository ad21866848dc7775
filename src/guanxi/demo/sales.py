"""Demo products, a building's units and deals across the pipeline."""

import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.sales.models import Deal, InventoryUnit, PipelineStage, Product, UnitEvent


def demo_sales(*, owners, seed: int = 11) -> None:
    if Product.objects.exists():
        return
    rng = random.Random(seed)
    with transaction.atomic():
        flat = Product.objects.create(
            name="锦绣华庭 三居室",
            sku="JXHT-3R",
            category="住宅",
            list_price=Decimal("2680000.00"),
            has_units=True,
        )
        Product.objects.create(
            name="华为 Mate 手机", sku="HW-MATE", category="手机", list_price=Decimal("5999.00")
        )
        Product.objects.create(
            name="延保服务 2 年", sku="EXT-2Y", category="服务", list_price=Decimal("399.00")
        )
        units = []
        for building in ("1", "2"):
            for floor in range(12, 0, -1):
                for number in range(1, 5):
                    price = Decimal(2_400_000 + floor * 20_000 + number * 15_000)
                    units.append(
                        InventoryUnit(
                            product=flat,
                            code=f"{building}-{floor:02d}{number:02d}",
                            building=building,
                            floor=floor,
                            number=f"{floor:02d}{number:02d}",
                            area=Decimal("118.50") + number,
                            list_price=price,
                            status="held",
                        )
                    )
        InventoryUnit.objects.bulk_create(units)
        stages = [s for s in PipelineStage.Code.values if s != "lost"]
        for owner in owners:
            customers = list(Customer.objects.filter(owner=owner)[:12])
            for index, customer in enumerate(customers):
                stage = stages[index % 5]  # lead … large deposit: consistent without money
                deal = Deal.objects.create(
                    customer=customer,
                    owner=owner,
                    product=flat,
                    title=f"{customer.name} · 三居室",
                    stage=stage,
                    amount=Decimal("0.00"),
                    buyer_name=customer.name,
                )
                if stage in ("small_deposit", "large_deposit"):
                    unit = (
                        InventoryUnit.objects.filter(product=flat, status="held")
                        .order_by("?")
                        .first()
                    )
                    UnitEvent.objects.create(
                        unit=unit, from_status="held", to_status="reserved", deal=deal
                    )
                    unit.status, unit.deal = "reserved", deal
                    unit.save(update_fields=["status", "deal"])
                    deal.unit, deal.amount = unit, unit.list_price
                    deal.save(update_fields=["unit", "amount"])
        for unit in InventoryUnit.objects.filter(product=flat, status="held"):
            status = rng.choice(["available"] * 5 + ["held"])
            if status != "held":
                UnitEvent.objects.create(
                    unit=unit, from_status="held", to_status=status, at=timezone.now()
                )
                unit.status = status
                unit.save(update_fields=["status"])
