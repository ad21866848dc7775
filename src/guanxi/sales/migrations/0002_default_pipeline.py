from django.db import migrations

STAGES = [
    ("lead", "线索", "Lead", 5),
    ("needs_confirmed", "需求确认", "Needs confirmed", 15),
    ("quoted", "已报价", "Quoted", 30),
    ("small_deposit", "小定", "Small deposit", 50),
    ("large_deposit", "大定", "Large deposit", 70),
    ("subscription", "认购", "Subscription", 85),
    ("contract", "签约", "Contract", 95),
    ("paid", "已付款", "Paid", 100),
    ("delivered", "已交付", "Delivered", 100),
    ("lost", "已流失", "Lost", 0),
]


def add_stages(apps, schema_editor):
    PipelineStage = apps.get_model("sales", "PipelineStage")
    for position, (code, zh, en, probability) in enumerate(STAGES):
        PipelineStage.objects.get_or_create(code=code, defaults={
            "name_zh": zh, "name_en": en, "position": position, "probability": probability})


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(add_stages, migrations.RunPython.noop)]
