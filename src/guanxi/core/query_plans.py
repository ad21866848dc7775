"""Which queries of a code path read a whole table instead of an index.

For the per-event paths that must stay fast at a million customers (insights' incremental
update, loyalty's earning, the recommendations): the benchmarks print the finding beside
their times and the tests fail on it. `full_scans(run)` runs `run()`, captures its queries
and asks the database for each one's plan: SQLite's EXPLAIN QUERY PLAN ("SCAN t" without
an index), PostgreSQL's EXPLAIN with sequential scans, hash and merge joins priced out, so a
"Seq Scan" or an index walked without a condition left in the plan means no index could
serve it, whatever the table's size today.
"""

import json
import re
from collections.abc import Callable

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

_SQLITE_SCAN = re.compile(r"^SCAN (\w+)\b(?! USING (?:COVERING )?INDEX)(?! USING INTEGER PRIMARY)")
_PG_INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


_ALIAS = re.compile(r'(?:FROM|JOIN) "(\w+)" (?:AS )?"?(\w+)"?')
_STEP = re.compile(r"^(?:SCAN|SEARCH) (\w+)\b")
_SUBQUERY_START = re.compile(r"\(SELECT\b")
_SUBQUERY_NUMBER = re.compile(r"SUBQUERY (\d+)$")


def _sqlite_scans(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        rows = [(row[0], row[1], row[-1].strip()) for row in cursor.fetchall()]
    # The plan names a subquery's table by its alias, and Django gives every subquery the
    # same one (U0). A step under "LIST SUBQUERY k" reads the k-th subquery of the SQL: its
    # table is the first one the SQL gives that alias from there. Elsewhere, the n-th step
    # on an alias is the n-th table the SQL gives it.
    tables: dict[str, list[str]] = {}
    for table, alias in _ALIAS.findall(sql):
        tables.setdefault(alias, []).append(table)
    starts = [m.start() for m in _SUBQUERY_START.finditer(sql)]
    parents = {row_id: (parent, detail) for row_id, parent, detail in rows}

    def subquery_table(parent: int, name: str) -> str | None:
        while parent in parents:
            parent, detail = parents[parent]
            number = _SUBQUERY_NUMBER.search(detail)
            if number and int(number.group(1)) <= len(starts):
                start = starts[int(number.group(1)) - 1]
                for table, alias in _ALIAS.findall(sql[start:]):
                    if alias == name:
                        return table
                return None
        return None

    seen: dict[str, int] = {}
    found = []
    for _row_id, parent, detail in rows:
        step = _STEP.match(detail)
        if step is None:
            continue
        name = step.group(1)
        n = seen.get(name, 0)
        seen[name] = n + 1
        candidates = tables.get(name, [])
        if _SQLITE_SCAN.match(detail):
            table = subquery_table(parent, name)
            found.append(table or (candidates[n] if n < len(candidates) else name))
    return found


def _pg_scans(sql: str) -> list[str]:
    """Relations read whole: a sequential scan, or an index walked end to end (no index
    condition), which is what the planner picks instead once sequential scans are off."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        document = cursor.fetchone()[0]
    if isinstance(document, str):
        document = json.loads(document)
    found: list[str] = []

    def walk(node: dict, join_filter: str = "") -> None:
        kind = node.get("Node Type", "")
        name = node.get("Relation Name") or node.get("Index Name") or "?"
        if kind == "Seq Scan" or (
            kind in _PG_INDEX_NODES
            and "Index Cond" not in node
            and not _partial(node.get("Index Name", ""))
            and not _servable(node, join_filter)
        ):
            found.append(name)
        # A nested loop's join filter applies to the side it materialises: the test an
        # index of that side could have served as a condition.
        passed = node.get("Join Filter", "") if kind == "Nested Loop" else ""
        if kind == "Materialize":
            passed = join_filter
        for child in node.get("Plans", []):
            walk(child, passed)

    for entry in document:
        walk(entry["Plan"])
    return found


def _partial(index: str) -> bool:
    """A partial index walked end to end reads only the rows its condition selects (the few
    pending, open or flagged ones): the condition is the index's, not the plan's."""
    if not index:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indpred IS NOT NULL FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [index],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _servable(node: dict, join_filter: str) -> bool:
    """Whether an index of the walked table starts with a column the walk filters on, or
    the column the enclosing join matches it by. When one does, an index walked end to end
    is PostgreSQL breaking a tie on a test's handful of rows (its statistics are whatever
    autovacuum last gathered), not a plan that reads the table at size; when none does, no
    index could serve the query."""
    table = node.get("Relation Name")
    if not table:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] "
            "WHERE c.relname = %s",
            [table],
        )
        columns = {row[0] for row in cursor.fetchall()}
    alias = re.escape(node.get("Alias", table))
    own = node.get("Filter", "")
    return any(
        re.search(rf"\b{re.escape(column)}\b", own)
        or re.search(rf"\b{alias}\.{re.escape(column)}\b", join_filter)
        for column in columns
    )


def _scanned(sql: str) -> list[str]:
    return _sqlite_scans(sql) if connection.vendor == "sqlite" else _pg_scans(sql)


def _small(name: str, small_tables: frozenset[str]) -> bool:
    # PostgreSQL names an index walk by its index ("loyalty_tier_rank_key"): its table's
    # name starts it.
    return name in small_tables or any(name.startswith(f"{t}_") for t in small_tables)


def full_scans(run: Callable[[], object], *, small_tables: frozenset[str] = frozenset()) -> list:
    """[(sql, [tables or aliases read whole])] for the queries of `run()` whose plan reads a
    table without an index; tables in `small_tables` (one-row settings, a handful of rules)
    are allowed. `run()`'s writes are rolled back."""
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        run()
        queries = [q["sql"] for q in captured.captured_queries]
        found = []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Hash and merge joins read a side whole by design; at size a per-event
                # query joins by nested loop into an index, so price them out too and
                # what is left walking a table end to end has no index to serve it.
                for method in ("seqscan", "hashjoin", "mergejoin"):
                    cursor.execute(f"SET LOCAL enable_{method} = off")
        for sql in queries:
            head = sql.lstrip().split(None, 1)[0].upper()
            if head not in ("SELECT", "UPDATE", "DELETE", "WITH"):
                continue
            tables = [t for t in _scanned(sql) if not _small(t, small_tables)]
            if tables:
                found.append((sql, tables))
        transaction.set_rollback(True)
    return found
