"""Fast multi-row inserts for imports: one prepared INSERT, executemany, tuples in.

Django's bulk_create builds and prepares every field of every object in Python; for a
million customers with ~60 columns that alone costs more than the whole import may take
(docs/performance.md). Here the column list and the defaults come from the model's own
metadata once, so the statement stays in step with the model; each row supplies only the
columns the import sets, already in database form (`prep` below).

Customer ids are allocated up front, so phones, tags and import keys can point at them
without reading anything back: on PostgreSQL from the table's sequence; on SQLite as
max(id, sqlite_sequence) + 1…, which is safe because the caller holds the write lock
(`BEGIN IMMEDIATE`) for the whole transaction.
"""

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, models


class Inserter:
    def __init__(self, model: type[models.Model], columns: Sequence[str], with_pk: bool = False):
        """`columns`: attnames the caller supplies per row, in this order; every other
        concrete field gets its default."""
        meta = model._meta
        self.model = model
        self.table = meta.db_table
        by_attname = {f.attname: f for f in meta.concrete_fields}
        unknown = [c for c in columns if c not in by_attname]
        if unknown:
            raise ValueError(f"{model.__name__} has no column {unknown}")
        self.supplied = list(columns)
        rest = [
            f
            for f in meta.concrete_fields
            if f.attname not in columns and not (f.primary_key and not with_pk)
        ]
        if with_pk and meta.pk.attname not in columns:
            raise ValueError("with_pk needs the primary key among the columns")
        # Constant defaults go into the statement as literals, not as parameters bound again
        # for every row; anything else (a callable default's value) stays a parameter.
        placeholders, defaults = ["%s"] * len(columns), []
        for f in rest:
            value = _prep(f, f.get_default())
            literal = _literal(value)
            if literal is None:
                placeholders.append("%s")
                defaults.append(value)
            else:
                placeholders.append(literal)
        self.defaults = tuple(defaults)
        names = [by_attname[c].column for c in columns] + [f.column for f in rest]
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(self.table), ", ".join(quote(n) for n in names), ", ".join(placeholders)
        )
        self.fields = {c: by_attname[c] for c in columns}

    def prep(self, attname: str, value):
        """A Python value in the form the database driver takes for this column."""
        return _prep(self.fields[attname], value)

    def insert(self, rows: Iterable[tuple]) -> int:
        defaults = self.defaults
        params = [row + defaults for row in rows]
        if params:
            with connection.cursor() as cursor:
                # Django's wrapper would %-format the statement: literals carry no %.
                cursor.executemany(self.sql, params)
        return len(params)


def _prep(field: models.Field, value):
    return field.get_db_prep_save(value, connection)


_SAFE_TEXT = re.compile(r"^[\w.\-]*$")


def _literal(value) -> str | None:
    """SQL for a constant default, or None to bind it as a parameter."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str | Decimal) and _SAFE_TEXT.match(str(value)):
        return f"'{value}'"  # only letters, digits, '.', '-', '_': nothing to escape
    return None


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for `model`. Call inside the writing transaction."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise NotImplementedError(connection.vendor)
        quote = connection.ops.quote_name
        cursor.execute(
            f"SELECT COALESCE(MAX({quote(model._meta.pk.column)}), 0) FROM {quote(table)}"
        )
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
    return list(range(start, start + count))


def update_rows(model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
    """UPDATE model SET columns… WHERE pk = …, one executemany; each row is (values…, pk)."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(meta.get_field(c).column)} = %s" for c in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def lookup(model: type[models.Model], key: str, values: str | tuple[str, ...], keys) -> list[tuple]:
    """[(key, value…)] for rows of `model` whose `key` column is in `keys`: one plain query,
    without the ORM preparing each of thousands of parameters (measurably slower here).

    Filter further in Python, not in SQL: beside an `IN` list, SQLite without statistics
    may choose another index, e.g. `merged_into_id IS NULL`, and walk a million rows.
    """
    keys = list(keys)
    if not keys:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    key_col = quote(meta.get_field(key).column)
    names = (values,) if isinstance(values, str) else values
    value_cols = ", ".join(quote(meta.get_field(v).column) for v in names)
    sql = (
        f"SELECT {key_col}, {value_cols} FROM {quote(meta.db_table)} "
        f"WHERE {key_col} IN ({', '.join(['%s'] * len(keys))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, keys)
        return cursor.fetchall()


def delete_rows(model: type[models.Model], ids: Sequence[int]) -> int:
    """DELETE model WHERE pk IN ids, one statement, no cascade collected: for rows only a
    load wrote, whose dependants the caller deletes first (a foreign key the caller missed
    fails the transaction: SQLite and PostgreSQL check them at commit)."""
    if not ids:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    sql = (
        f"DELETE FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} "
        f"IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids))
        return cursor.rowcount
