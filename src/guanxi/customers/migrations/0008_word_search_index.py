"""The word and substring search index (customers/search_index.py; decision record
docs/decisions/0006-word-and-substring-search.md).

SQLite: two FTS5 tables (trigram, unicode61). PostgreSQL: the pg_trgm extension and a table
with GIN indexes on its document (trigrams) and its short grams. Filled from the customers
already there; `guanxi rebuild_search_index` builds it again at any time.
"""

from django.db import migrations

SQLITE = (
    "CREATE VIRTUAL TABLE customers_search USING fts5(doc, tokenize='trigram')",
    "CREATE VIRTUAL TABLE customers_search_short USING fts5(grams, tokenize='unicode61')",
)
SQLITE_DROP = ("DROP TABLE customers_search", "DROP TABLE customers_search_short")
POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE customers_search ("
    " customer_id integer PRIMARY KEY, doc text NOT NULL, grams text[] NOT NULL)",
    "CREATE INDEX customers_search_doc ON customers_search USING gin (doc gin_trgm_ops)",
    "CREATE INDEX customers_search_grams ON customers_search USING gin (grams)",
)
POSTGRES_DROP = ("DROP TABLE customers_search",)


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in POSTGRES if vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)
    from guanxi.customers.search_index import rebuild_search_index

    rebuild_search_index()


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in POSTGRES_DROP if vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_partial_time_indexes")]

    operations = [migrations.RunPython(create, drop)]
