"""The word and substring search index: what the prefix keys cannot find (decision record:
docs/decisions/0006-word-and-substring-search.md).

Each active customer (not archived, not merged) has one entry: its name, company, e-mail,
address and tags, folded and lower-cased, one field a line (`document`), and the Chinese
characters and character pairs of its name, company and tags with its one- and two-letter
Latin words (`short_grams`), for terms too short for trigrams.

- SQLite: two FTS5 tables keyed by the customer id (rowid): `customers_search` with the
  trigram tokenizer (a quoted phrase is a substring match, case-insensitive, any operator
  inside it literal) and `customers_search_short` with unicode61 (each gram one token).
- PostgreSQL: one table `customers_search` (customer_id, doc, grams text[]) with a pg_trgm
  GIN index on `doc` (`LIKE '%term%'`) and a GIN index on `grams` (`grams @> ARRAY[term]`).

The services call `index_customers(ids)` in the transaction of every change to what is
indexed (create, edit, tags, archive, restore, merge, import); `rebuild_search_index()`
(`guanxi rebuild_search_index`) builds it again from the customer rows.
"""

import re
from collections.abc import Iterable

from django.db import connection

from .keys import fold
from .models import Customer

MIN_TRIGRAM = 3  # shorter terms go to the grams
BATCH = 500

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_CJK_ONLY = re.compile(f"[{_CJK}]{{1,2}}")
_LATIN_WORD = re.compile(r"[0-9a-z]+")
_SHORT_LATIN = re.compile(r"[0-9a-z]{1,2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SPACES = re.compile(r"\s+")
_INLINE_SPACES = re.compile(r"[ \t]+")

COLUMNS = (
    "id",
    "name",
    "company",
    "email",
    "province",
    "city",
    "district",
    "address",
)


def normalize_term(q: str) -> str:
    """What the index compares: folded, lower-cased, one space between words."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", fold(q))).strip().lower()


def _address(province: str, city: str, district: str, address: str) -> str:
    parts = [province, city if city != province else "", district, address]
    return "".join(p for p in parts if p)


def document(
    *,
    name: str,
    company: str = "",
    email: str = "",
    province: str = "",
    city: str = "",
    district: str = "",
    address: str = "",
    tags: Iterable[str] = (),
) -> str:
    """The indexed text: one field a line, folded and lower-cased in one pass."""
    fields = [name, company, email, _address(province, city, district, address), *tags]
    doc = fold("\n".join(f for f in fields if f)).lower()
    return _INLINE_SPACES.sub(" ", doc) if "  " in doc or "\t" in doc else doc


def short_grams(*, name: str, company: str = "", tags: Iterable[str] = ()) -> list[str]:
    """The Chinese characters and character pairs, and the Latin words of one or two
    letters, of the name, company and tags."""
    text = fold("\n".join((name, company, *tags))).lower()
    grams: set[str] = set()
    for run in _CJK_RUN.findall(text):
        grams.update(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    grams.update(w for w in _LATIN_WORD.findall(text) if len(w) <= 2)
    return sorted(grams)


def is_short_term(term: str) -> bool:
    """One or two Chinese characters, or a one- or two-letter Latin word: the grams' job."""
    return bool(_CJK_ONLY.fullmatch(term) or _SHORT_LATIN.fullmatch(term))


def searchable(term: str) -> bool:
    return len(term) >= MIN_TRIGRAM or is_short_term(term)


# --- Reads --------------------------------------------------------------------------------


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_sql(term: str) -> tuple[str, list]:
    """SQL selecting the ids of the indexed customers whose entry contains `term`
    (normalised), in no particular order, and its parameters; ("", []) when the term is not one the
    index can answer (a single Latin letter inside a word, punctuation only…)."""
    if not searchable(term):
        return "", []
    short = len(term) < MIN_TRIGRAM
    if connection.vendor == "postgresql":
        if short:
            return (
                "SELECT customer_id FROM customers_search WHERE grams @> ARRAY[%s]::text[]",
                [term],
            )
        return (
            "SELECT customer_id FROM customers_search WHERE doc LIKE %s",
            [_like_pattern(term)],
        )
    table = "customers_search_short" if short else "customers_search"
    return (
        f"SELECT rowid FROM {table} WHERE {table} MATCH %s",
        [_phrase(term)],
    )


def matching_ids(term: str, limit: int) -> list[int]:
    """Up to `limit` ids of indexed customers matching `term` (all of them when fewer)."""
    sql, params = match_sql(term)
    if not sql:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {int(limit)}", params)
        return [row[0] for row in cursor.fetchall()]


def newest_matching_ids(term: str, rows, limit: int) -> list[int]:
    """Ids of the customers in `rows` (a queryset: visibility, filters, cursor) whose entry
    matches `term`, newest first, at most `limit`: read along the index in id order, each
    match tested against `rows` by its primary key — for a term with many matches, where
    walking the customers would test thousands of rows for each one found."""
    if not searchable(term):
        return []
    from django.db.models.expressions import RawSQL

    short = len(term) < MIN_TRIGRAM
    if connection.vendor == "postgresql":
        table, column = "customers_search", "m.customer_id"
        if short:
            condition, params = "m.grams @> ARRAY[%s]::text[]", [term]
        else:
            condition, params = "m.doc LIKE %s", [_like_pattern(term)]
    else:
        table = "customers_search_short" if short else "customers_search"
        column = "m.rowid"
        condition, params = f"m.{table} MATCH %s", [_phrase(term)]
    inner = rows.filter(pk=RawSQL(column, ())).order_by().values("id")
    inner_sql, inner_params = inner.query.sql_with_params()
    sql = (
        f"SELECT {column} FROM {table} m WHERE {condition} AND EXISTS ({inner_sql}) "
        f"ORDER BY {column} DESC LIMIT {int(limit)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        return [row[0] for row in cursor.fetchall()]


# --- Writes -------------------------------------------------------------------------------


def _entries(ids: list[int]) -> list[tuple[int, str, list[str]]]:
    rows = list(
        Customer.objects.filter(pk__in=ids, archived_at__isnull=True, merged_into__isnull=True)
        .values_list(*COLUMNS)
        .order_by()
    )
    tags: dict[int, list[str]] = {}
    if rows:
        through = Customer.tags.through.objects.filter(customer_id__in=[r[0] for r in rows])
        for cid, tag in through.values_list("customer_id", "tag__name").order_by("tag__name"):
            tags.setdefault(cid, []).append(tag)
    return [_entry(row, tags.get(row[0], ())) for row in rows]


def _entry(row: tuple, tags: Iterable[str]) -> tuple[int, str, list[str]]:
    cid, name, company, email, province, city, district, address = row
    tags = list(tags)
    doc = document(
        name=name,
        company=company,
        email=email,
        province=province,
        city=city,
        district=district,
        address=address,
        tags=tags,
    )
    return cid, doc, short_grams(name=name, company=company, tags=tags)


def _write(cursor, ids: list[int], entries: list[tuple[int, str, list[str]]]) -> None:
    marks = ", ".join(["%s"] * len(ids))
    if connection.vendor == "postgresql":
        if ids:
            cursor.execute(f"DELETE FROM customers_search WHERE customer_id IN ({marks})", ids)
        if entries:
            cursor.executemany(
                "INSERT INTO customers_search (customer_id, doc, grams) VALUES (%s, %s, %s)",
                entries,
            )
        return
    if ids:
        cursor.execute(f"DELETE FROM customers_search WHERE rowid IN ({marks})", ids)
        cursor.execute(f"DELETE FROM customers_search_short WHERE rowid IN ({marks})", ids)
    if entries:
        cursor.executemany(
            "INSERT INTO customers_search (rowid, doc) VALUES (%s, %s)",
            [(cid, doc) for cid, doc, _grams in entries],
        )
        cursor.executemany(
            "INSERT INTO customers_search_short (rowid, grams) VALUES (%s, %s)",
            [(cid, " ".join(grams)) for cid, _doc, grams in entries if grams],
        )


def index_customer(customer, tags: Iterable[str]) -> None:
    """`index_customers` for one customer already in hand with its tag names (no re-read)."""
    entries = []
    if customer.archived_at is None and customer.merged_into_id is None:
        entries = [_entry(tuple(getattr(customer, c) for c in COLUMNS), tags)]
    with connection.cursor() as cursor:
        _write(cursor, [customer.pk], entries)


def index_customers(ids: Iterable[int]) -> None:
    """Bring the entries of these customers in step with their rows: written again for an
    active customer, removed for an archived or merged one. Call it inside the transaction
    that changed them, after the change."""
    ids = sorted(set(ids))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            _write(cursor, chunk, _entries(chunk))


def rebuild_search_index() -> int:
    """Empty the index and build it again from every active customer; returns the count."""

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE customers_search")
        else:
            cursor.execute("DELETE FROM customers_search")
            cursor.execute("DELETE FROM customers_search_short")
    return _add(Customer.objects.all())


def index_new_customers(first_id: int, last_id: int) -> int:
    """Add the entries of customers just loaded in bulk (ids first … last, none indexed)."""

    return _add(Customer.objects.filter(id__gte=first_id, id__lte=last_id))


POSTGRES_INDEXES = (
    "CREATE INDEX customers_search_doc ON customers_search USING gin (doc gin_trgm_ops)",
    "CREATE INDEX customers_search_grams ON customers_search USING gin (grams)",
)
BULK_FROM = 100_000  # PostgreSQL: a load of this many entries builds its GIN indexes after


def _add(customers) -> int:
    """Write the entries of the active ones among `customers` (which have none yet)."""

    active = customers.filter(archived_at__isnull=True, merged_into__isnull=True)
    tags: dict[int, list[str]] = {}
    through = Customer.tags.through.objects.filter(customer__in=active.values("id"))
    for cid, tag in through.values_list("customer_id", "tag__name").order_by("tag__name"):
        tags.setdefault(cid, []).append(tag)
    bulk = connection.vendor == "postgresql" and active.count() >= BULK_FROM
    count = 0
    with connection.cursor() as cursor:
        if bulk:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("DROP INDEX IF EXISTS customers_search_doc")
            cursor.execute("DROP INDEX IF EXISTS customers_search_grams")
        # Read in id order, a chunk at a time, each chunk written before the next is read
        # (a COPY in progress leaves its connection no room for another query).
        last = 0
        while True:
            rows = list(active.filter(id__gt=last).order_by("id").values_list(*COLUMNS)[:5000])
            if not rows:
                break
            last = rows[-1][0]
            entries = [_entry(row, tags.get(row[0], ())) for row in rows]
            if bulk:
                with cursor.cursor.copy(
                    "COPY customers_search (customer_id, doc, grams) FROM STDIN"
                ) as copy:
                    for entry in entries:
                        copy.write_row(entry)
            else:
                _write(cursor, [], entries)
            count += len(entries)
        if bulk:
            # One sort per GIN index instead of a pending-list insert per row.
            for sql in POSTGRES_INDEXES:
                cursor.execute(sql)
            cursor.execute("ANALYZE customers_search")
    return count
