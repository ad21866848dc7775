"""Big loads rebuild secondary indexes once, at the end, instead of row by row.

Inserting a million rows into a table with twenty indexes costs twenty random b-tree inserts
per row; building an index afterwards is one sort. Only on SQLite, where DDL is part of the
transaction (a failed load leaves the schema as it was) and readers in WAL mode keep using
the committed indexes meanwhile. On PostgreSQL `DROP INDEX` would lock every reader out of
the table for the whole load, so there the indexes stay.
"""

import contextlib
import re
from collections.abc import Collection

from django.db import connection, transaction

# Worth it when a load adds at least this many rows and at least as many as the table holds.
DEFER_INDEXES_FROM = 100_000
LOAD_CACHE_KIB = -262_144  # SQLite's page cache during a load: 256 MiB
BUILD_CACHE_KIB = -4096  # and while the indexes are built again: 4 MiB


_PARTIAL_ON = re.compile(r' WHERE "(\w+)" IS NOT NULL$')


def _partial_column(sql: str) -> str | None:
    match = _PARTIAL_ON.search(sql)
    return match[1] if match else None


def worth_deferring(rows: int, existing: int) -> bool:
    return connection.vendor == "sqlite" and rows >= DEFER_INDEXES_FROM and rows >= existing


def _droppable(cursor, tables, keep, loaded_columns) -> list[tuple[str, str]]:
    marks = ", ".join(["%s"] * len(tables))
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})",
        list(tables),
    )
    return [
        (name, sql)
        for name, sql in cursor.fetchall()
        if name not in keep
        and not sql.startswith("CREATE UNIQUE")
        and (" WHERE " not in sql or _partial_column(sql) in loaded_columns)
    ]


def drop_indexes(
    tables: tuple[str, ...],
    *,
    keep: tuple[str, ...] = (),
    loaded_columns: Collection[str] = (),
    before_drop=None,
) -> list[str]:
    """For a load in many short transactions (others keep writing meanwhile): drop the same
    indexes as deferred_indexes() in one short transaction of its own and return their
    CREATE statements. `before_drop(statements)` records them first (committed), so a
    killed load's indexes can be built again from the record (build_indexes()). Readers
    keep working meanwhile, without those indexes. (Inside an open transaction, as in
    tests, it is part of that transaction instead.)"""
    with connection.cursor() as cursor:
        dropped = _droppable(cursor, tables, keep, loaded_columns)
    statements = [sql for _name, sql in dropped]
    if before_drop is not None:
        before_drop(statements)
    with transaction.atomic(), connection.cursor() as cursor:
        for name, _sql in dropped:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    return statements


def build_indexes(statements: list[str]) -> None:
    """Build recorded indexes again, each in a transaction of its own (each holds SQLite's
    write lock only for its own sort); one that exists already is left alone."""
    with sqlite_pragmas(cache_size=BUILD_CACHE_KIB):
        for sql in statements:
            statement = re.sub(
                r"^CREATE INDEX (?!IF NOT EXISTS)", "CREATE INDEX IF NOT EXISTS ", sql
            )
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)


@contextlib.contextmanager
def sqlite_pragmas(**values: int):
    """These integer PRAGMAs of the connection for the duration of a block (set in the order
    given), then the connection's own values again."""
    with connection.cursor() as cursor:
        usual = {}
        for name in values:
            cursor.execute(f"PRAGMA {name}")
            usual[name] = cursor.fetchone()[0]
        for name, value in values.items():
            cursor.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in usual.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")


@contextlib.contextmanager
def load_cache():
    """SQLite's page cache at LOAD_CACHE_KIB for the duration of a load."""
    with sqlite_pragmas(cache_size=LOAD_CACHE_KIB):
        yield


@contextlib.contextmanager
def deferred_indexes(
    tables: tuple[str, ...], *, keep: tuple[str, ...] = (), loaded_columns: Collection[str] = ()
):
    """Drop the plain secondary indexes of `tables` (not unique constraints, not `keep` —
    those a load still queries), yield, then build them again. A partial index (`WHERE col
    IS NOT NULL`) stays unless the load fills its column (`loaded_columns`): no new row
    enters it, and building it again would scan the whole table.

    Must run inside the load's transaction, so a failure restores the dropped indexes."""
    if not connection.in_atomic_block:
        raise RuntimeError("deferred_indexes() needs an open transaction")
    with connection.cursor() as cursor:
        dropped = _droppable(cursor, tables, keep, loaded_columns)
        for name, _sql in dropped:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        # The indexes that stay (unique keys, e-mails) take inserts in random order: a page
        # cache that holds them saves a read per insert. Back to the usual size afterwards.
        cursor.execute("PRAGMA cache_size")
        usual_cache = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {LOAD_CACHE_KIB}")
    try:
        yield [name for name, _sql in dropped]
        with connection.cursor() as cursor:
            # A small cache makes SQLite's sorter sort in runs that fit the processor's cache
            # and merge them: about a fifth faster than sorting in a big page cache.
            cursor.execute(f"PRAGMA cache_size = {BUILD_CACHE_KIB}")
            for _name, sql in dropped:
                cursor.execute(sql)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(usual_cache)}")
