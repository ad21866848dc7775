"""The default tiers (普通 / 银卡 / 金卡) and earning rules; all editable in the admin."""

from decimal import Decimal

from django.db import migrations

# code, Chinese, English, rank, qualifies at, keeps (保级) at, multiplier (CNY over the window)
TIERS = [
    ("regular", "普通会员", "Regular", 0, "0", "0", "1.00"),
    ("silver", "银卡", "Silver", 1, "10000", "6000", "1.20"),
    ("gold", "金卡", "Gold", 2, "50000", "30000", "1.50"),
]
# kind, name, points, per amount
RULES = [
    ("spend", "每消费10元积1分", 1, "10.00"),
    ("visit", "到店积分", 10, None),
]


def create(apps, schema_editor):
    Tier = apps.get_model("loyalty", "Tier")
    EarningRule = apps.get_model("loyalty", "EarningRule")
    for code, zh, en, rank, threshold, keep, multiplier in TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "rank": rank,
                "threshold": Decimal(threshold),
                "keep_threshold": Decimal(keep),
                "multiplier": Decimal(multiplier),
            },
        )
    if not EarningRule.objects.exists():
        for kind, name, points, per_amount in RULES:
            EarningRule.objects.create(
                kind=kind,
                name=name,
                points=points,
                per_amount=Decimal(per_amount) if per_amount else None,
            )


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_points_ledger_and_tiers")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
