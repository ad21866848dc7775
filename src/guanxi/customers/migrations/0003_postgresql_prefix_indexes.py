"""PostgreSQL answers LIKE 'x%' from an index only with *_pattern_ops under a non-C collation.

SQLite has no operator classes; there the search uses range conditions on the plain indexes.
"""

from django.db import migrations

COLUMNS = [
    ("customers_customer", "name"),
    ("customers_customer", "name_pinyin"),
    ("customers_customer", "name_initials"),
    ("customers_customer", "company_key"),
    ("customers_customer", "email_key"),
    ("customers_customerphone", "national"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_{column}_like ON {table} "
            f"({column} varchar_pattern_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_like")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_default_segments")]
    operations = [migrations.RunPython(create, drop)]
