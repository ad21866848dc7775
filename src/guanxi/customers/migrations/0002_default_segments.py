from django.db import migrations

DEFAULT_SEGMENTS = [
    ("retail", "零售", "Retail", 1),
    ("wholesale", "批发", "Wholesale", 2),
    ("government", "政府", "Government", 3),
    ("other", "其他", "Other", 9),
]


def add_segments(apps, schema_editor):
    Segment = apps.get_model("customers", "Segment")
    for code, zh, en, position in DEFAULT_SEGMENTS:
        Segment.objects.get_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(add_segments, migrations.RunPython.noop)]
