"""Two years of demo retail orders, so that every value, churn and recommendation view
shows something real: regular buyers, seasonal buyers (Spring Festival and Mid-Autumn),
one-time buyers, customers slipping away (regular, then silent for months) and customers
whose orders shrink. Products come in families customers buy together (an air conditioner
and its extended warranty, a phone and its case).

Written in bulk for speed (demo data only; real orders go through the services). Each
customer's pattern is returned so the churn warning's precision can be measured against
what really happened.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from guanxi.sales.models import Order, OrderItem, Payment, Product

CATALOGUE = [
    # sku, name, category, price, companions (sku, probability)
    ("DEMO-AC", "美的 空调 1.5 匹", "空调", "3299.00", [("DEMO-EXT", 0.6), ("DEMO-FILTER", 0.4)]),
    ("DEMO-FRIDGE", "海尔 冰箱 对开门", "冰箱", "4599.00", [("DEMO-EXT", 0.5)]),
    ("DEMO-TV", "海信 电视 65 寸", "电视", "3999.00", [("DEMO-MOUNT", 0.7), ("DEMO-EXT", 0.3)]),
    (
        "DEMO-PHONE",
        "华为 手机 nova",
        "手机",
        "2699.00",
        [("DEMO-CASE", 0.8), ("DEMO-CHARGER", 0.4)],
    ),
    ("DEMO-WASHER", "小天鹅 洗衣机", "洗衣机", "2199.00", [("DEMO-EXT", 0.4)]),
    ("DEMO-EXT", "延保服务 2 年", "服务", "399.00", []),
    ("DEMO-FILTER", "空调 滤网", "配件", "89.00", []),
    ("DEMO-MOUNT", "电视 挂架", "配件", "199.00", []),
    ("DEMO-CASE", "手机 保护壳", "配件", "59.00", []),
    ("DEMO-CHARGER", "快充 充电器", "配件", "129.00", []),
    ("DEMO-RICE", "五常 大米 10kg", "食品", "129.00", [("DEMO-OIL", 0.6)]),
    ("DEMO-OIL", "鲁花 花生油 5L", "食品", "159.00", []),
]
PATTERNS = ("regular", "seasonal", "one_time", "slipping", "shrinking", "none")
WEIGHTS = (30, 15, 20, 15, 5, 15)


def _products() -> dict[str, Product]:
    found = {p.sku: p for p in Product.objects.filter(sku__in=[c[0] for c in CATALOGUE])}
    for sku, name, category, price, _companions in CATALOGUE:
        if sku not in found:
            found[sku] = Product.objects.create(
                sku=sku, name=name, category=category, list_price=Decimal(price)
            )
    return found


def _dates(pattern: str, rng: random.Random, now) -> list:
    start = now - timedelta(days=730)
    if pattern == "regular" or pattern == "shrinking":
        cycle = rng.choice([21, 30, 45, 60])
        day, out = start + timedelta(days=rng.randint(0, cycle)), []
        while day < now:
            out.append(day)
            day += timedelta(days=max(5, round(rng.gauss(cycle, cycle * 0.15))))
        return out
    if pattern == "slipping":
        cycle = rng.choice([21, 30, 45])
        stop = now - timedelta(days=rng.randint(120, 300))
        day, out = start + timedelta(days=rng.randint(0, cycle)), []
        while day < stop:
            out.append(day)
            day += timedelta(days=max(5, round(rng.gauss(cycle, cycle * 0.15))))
        return out
    if pattern == "seasonal":
        out = []
        for year in (now.year - 2, now.year - 1, now.year):
            for month, day in ((1, 20), (9, 10)):  # before Spring Festival and Mid-Autumn
                at = now.replace(year=year, month=month, day=day) + timedelta(
                    days=rng.randint(-7, 7)
                )
                if start <= at < now:
                    out.append(at)
        return out
    if pattern == "one_time":
        return [start + timedelta(days=rng.randint(0, 720))]
    return []


def demo_order_history(*, customers, actor, seed: int = 16) -> dict[int, str]:
    """Orders, items and payments for `customers` over two years; returns their patterns."""
    rng = random.Random(seed)
    now = timezone.now()
    products = _products()
    mains = [c for c in CATALOGUE if c[4] or c[2] == "食品"]
    patterns: dict[int, str] = {}
    orders, items, payments = [], [], []
    number = Order.objects.count()
    with transaction.atomic():
        for customer in customers:
            pattern = rng.choices(PATTERNS, WEIGHTS)[0]
            patterns[customer.pk] = pattern
            dates = _dates(pattern, rng, now)
            favourite = rng.choice(mains)
            for index, at in enumerate(dates):
                main = favourite if rng.random() < 0.7 else rng.choice(mains)
                lines = [(products[main[0]], Decimal(main[3]))]
                for companion, chance in main[4]:
                    if rng.random() < chance:
                        product = products[companion]
                        lines.append((product, product.list_price))
                if pattern == "shrinking" and index >= len(dates) - 2:
                    lines = [(products["DEMO-CASE"], Decimal("59.00"))]
                total = sum((price for _p, price in lines), Decimal(0))
                number += 1
                order = Order(
                    customer_id=customer.pk,
                    number=f"DEMO{number:07d}",
                    status=Order.Status.DELIVERED,
                    created_by=actor,
                    ship_method=Order.ShipMethod.PICKUP,
                    receiver_name=customer.name,
                    payer=customer.name,
                    total=total,
                    paid=total,
                    created_at=at,
                    delivered_at=at,
                )
                orders.append((order, lines, at))
        Order.objects.bulk_create([o for o, _l, _a in orders], batch_size=2000)
        for order, lines, at in orders:
            for product, price in lines:
                items.append(OrderItem(order=order, product=product, quantity=1, unit_price=price))
            payments.append(
                Payment(
                    order=order,
                    customer_id=order.customer_id,
                    amount=order.total,
                    method=Payment.Method.WECHAT,
                    receipt_number=f"R-{order.number}",
                    received_at=at,
                    recorded_by=actor,
                )
            )
        OrderItem.objects.bulk_create(items, batch_size=5000)
        Payment.objects.bulk_create(payments, batch_size=5000)
    return patterns
