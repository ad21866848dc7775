"""Fast generation of realistic customers for the demo and the benchmarks.

A million customers in under 20 seconds on SQLite (2 cores). What makes it fast:

- every random choice of a batch is drawn at once (one `randbytes` call per column, over
  precomputed pools: names with their pinyin keys, birthdays, addresses, amounts), and the
  rows are assembled by `zip` in C — no per-customer Python objects, no per-row pinyin;
- values go in already in the form the database stores (UTC text datetimes, integers for
  booleans and amounts), so no adapter runs per value; constant columns are SQL literals;
  on SQLite not even for NULL: sqlite3 binds None (and bool) through its adapter lookup, 4-5
  times slower than an int, so nullable columns draw a stand-in ('' or 0) that the statement
  turns back into NULL with NULLIF;
- two cores: each batch's phones are copied (INSERT … SELECT) by a helper thread while the
  main thread draws the next batch — the database runs a statement without the GIL;
- SQLite: the raw `sqlite3` connection's `executemany` in one transaction, with a large page
  cache and `synchronous=OFF` while loading; when the load is big compared to the table, the
  secondary indexes are dropped and rebuilt afterwards (a sort instead of a million random
  b-tree inserts) — inside the same transaction, so a failure leaves the schema unchanged.
  The rebuilds run with a 4 MiB cache, so each sort works in runs that fit the processor's
  cache and merges them (a fifth less time than one sort of the whole index); phones go in
  number order, so the unique index on the number grows in runs instead of at random;
- PostgreSQL: `COPY … FROM STDIN` of pre-formatted text, then `ANALYZE`.

Foreign keys stay on, so every row is checked like an ORM insert would be.
"""

import contextlib
import gc
import random
import sqlite3
from array import array
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import product

from django.db import connection, transaction
from django.utils import timezone
from pypinyin import lazy_pinyin

from guanxi.core.bulkload import DEFER_INDEXES_FROM, deferred_indexes, worth_deferring
from guanxi.core.tasks import refresh_planner_statistics_now
from guanxi.customers.models import Customer, CustomerPhone, Household, Segment
from guanxi.customers.search_index import index_new_customers

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕飞鹏辉波宁健俊帆浩宇欣怡子"
    "涵梓轩晨阳佳琪雨萱博文思远嘉诚晓峰建国志明海燕春梅丹凤"
)
LATIN_FIRST = ["John", "Mary", "David", "Anna", "Peter", "Linda", "Tom", "Grace", "Kevin", "Lucy"]
LATIN_LAST = ["Smith", "Brown", "Wilson", "Taylor", "Miller", "Davis", "Clark", "Lewis"]
PLACES = [
    ("北京市", "北京市", ["朝阳区", "海淀区", "东城区", "丰台区"]),
    ("上海市", "上海市", ["浦东新区", "徐汇区", "静安区", "闵行区"]),
    ("广东省", "广州市", ["天河区", "越秀区", "海珠区"]),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区"]),
    ("浙江省", "杭州市", ["西湖区", "滨江区", "余杭区"]),
    ("四川省", "成都市", ["武侯区", "锦江区", "高新区"]),
    ("河南省", "郑州市", ["金水区", "二七区"]),
]
STREETS = ["人民路", "建设路", "解放大道", "中山路", "长安街", "科技园路", "和平里", "花园街"]
COMPANIES = ["华强电子", "恒信贸易", "鼎盛建设", "蓝天物流", "瑞丰科技", "金桥实业", "", "", "", ""]
MOBILE_PREFIXES = ["138", "139", "135", "150", "186", "177", "158", "189"]

LATIN_SHARE = 0.08  # customers with a Latin-script name
PEOPLE_POOL = 2**17
EMAIL_SHARE = 0.4
REFERRAL_SHARE = 0.05
HOUSEHOLD_EVERY = 25  # customers 25k and 25k+1 form a household (head and spouse)
BATCH = 50_000  # a multiple of HOUSEHOLD_EVERY: a household never straddles two batches


def mobile_for(index: int) -> str:
    """A distinct valid mainland mobile for every index below 10^8."""
    body = (index * 7_654_321 + 12_345) % 100_000_000  # multiplier coprime to 10: a bijection
    return f"+86{MOBILE_PREFIXES[index % len(MOBILE_PREFIXES)]}{body:08d}"


def _mobiles(first: int, count: int) -> list[str]:
    """`mobile_for(i)` for `first <= i < first + count`, without the per-call overhead."""
    prefixes = [f"+86{p}" for p in MOBILE_PREFIXES]
    k = len(prefixes)
    return [
        f"{prefixes[i % k]}{(i * 7_654_321 + 12_345) % 100_000_000:08d}"
        for i in range(first, first + count)
    ]


# Columns of customers_customer that vary per row (bound parameters). Every other column
# takes its field's default, the same for every row (SQL literals on SQLite): a field added
# to the model later is filled without touching this module.
VARYING = [
    "id",
    "name",
    "name_pinyin",
    "name_initials",
    "gender",
    "birthday",
    "email",
    "annual_income",
    "province",
    "city",
    "district",
    "address",
    "company",
    "company_key",
    "segment_id",
    "source",
    "referred_by_id",
    "household_id",
    "household_role",
    "stage",
    "relationship",
    "do_not_contact",
    "owner_id",
    "org_unit_id",
    "primary_phone",
    "next_follow_up_at",
    "created_at",
]
# Columns that repeat another one: bound once on SQLite (?NNN), written twice for COPY.
COPIES = {"email_key": "email", "updated_at": "created_at"}
PHONE_VARYING = ["id", "customer_id", "number", "national", "last4"]
PHONE_FIXED = {"label": CustomerPhone.Label.MOBILE.value, "is_primary": True}
HOUSEHOLD_VARYING = ["id", "name", "created_at"]


class _Pools:
    """Everything a row is drawn from, computed once: pinyin runs once per character here."""

    def __init__(
        self, now: datetime, segments: list[int], rng: random.Random, count: int, nulls: dict
    ):
        pinyin = {ch: lazy_pinyin(ch)[0] for ch in SURNAMES + GIVEN}
        surnames = [(c, pinyin[c], pinyin[c][0]) for c in SURNAMES]
        singles = [(c, pinyin[c], pinyin[c][0]) for c in GIVEN]
        doubles = [(a + b, pa + pb, ia + ib) for a, pa, ia in singles for b, pb, ib in singles]
        # One given character a third of the time, two the rest (as rng.choice((1, 2, 2))).
        given = singles * (len(doubles) // (2 * len(singles))) + doubles
        latin = [
            (f"{f} {la}", (f + la).lower(), (f[0] + la[0]).lower())
            for f in LATIN_FIRST
            for la in LATIN_LAST
        ]
        # People (name, pinyin, initials) drawn once into a pool, then drawn from per row:
        # up to 131,072 different names — common names repeat, as they do.
        size = min(PEOPLE_POOL, max(4096, count))
        self.people = [
            latin_name if is_latin else (s[0] + g[0], s[1] + g[1], s[2] + g[2])
            for s, g, latin_name, is_latin in zip(
                _draw(rng, surnames, size),
                _draw(rng, given, size),
                _draw(rng, latin, size),
                _flags(rng, LATIN_SHARE, size),
                strict=True,
            )
        ]
        self.places = [
            (province, city, district)
            for province, city, districts in PLACES
            for district in districts
            for _ in range(12 // len(districts))  # each city equally likely, then its districts
        ]
        self.addresses = [f"{s}{n}号" for s in STREETS for n in range(1, 1000)]
        self.companies = [(c, c.lower()) for c in COMPANIES]
        born = [(date(1950, 1, 1) + timedelta(days=d)).isoformat() for d in range(20001)]
        self.birthdays = born + [nulls.get("birthday")] * (len(born) * 2 // 3)  # 60 % known
        incomes = [n * 10000 for n in range(5, 201)]
        self.incomes = incomes + [nulls.get("annual_income")] * (len(incomes) * 4)  # 20 % known
        self.kinds = list(
            product(
                ["m", "f"],
                Customer.Source.values,
                Customer.Stage.values,
                Customer.Relationship.values,
                segments or [nulls.get("segment_id")],
                [1] + [0] * 49,  # do not contact: 2 % (1/0: a bool binds slower than an int)
            )
        )
        follow_ups = [_db_datetime(now + timedelta(days=d)) for d in range(-10, 31)]
        self.follow_ups = follow_ups + [nulls.get("next_follow_up_at")] * len(follow_ups)  # 50 %
        # Created 0-1500 days and 0-1440 minutes before now (UTC): `day_text[d]` is the date
        # d days back; going back m minutes means (days further back, time of day) below.
        self.no_referrer = nulls.get("referred_by_id")
        self.no_household = nulls.get("household_id")
        self.day_text = [(now.date() - timedelta(days=d)).isoformat() for d in range(1503)]
        self.created_days = range(1501)
        utc = "+00" if connection.vendor == "postgresql" else ""
        minute = now.hour * 60 + now.minute
        self.created_minutes = [
            (
                -((minute - m) // 1440),
                f" {(minute - m) % 1440 // 60:02d}:{(minute - m) % 60:02d}:{now.second:02d}{utc}",
            )
            for m in range(1441)
        ]


def _db_datetime(value: datetime) -> str:
    """An aware datetime as the engine stores it: UTC text on SQLite, with offset for COPY."""
    utc = value.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    if connection.vendor == "postgresql":
        return f"{utc.isoformat(' ')}+00"
    return utc.isoformat(" ")


_UINT = array("I").itemsize


def _draw(rng: random.Random, pool, k: int) -> list:
    """`k` uniform picks from `pool`: one `randbytes` call, no Python call per pick."""
    n = len(pool)
    return [pool[i % n] for i in array("I", rng.randbytes(_UINT * k))]


def _flags(rng: random.Random, share: float, k: int) -> list[bool]:
    """`k` booleans, each true with probability `share` (to 1/1000)."""
    yes = round(share * 1000)
    return _draw(rng, [True] * yes + [False] * (1000 - yes), k)


def _batch(
    rng: random.Random, pools: _Pools, *, made: int, size: int, ids: dict, owners: list
) -> tuple[list, list]:
    """Rows of customers and households for customers `made … made + size - 1`.

    Column by column: each column is one bulk draw; `zip` assembles the rows in C.
    """
    first_id = ids["customer"] + made
    cids = range(first_id, first_id + size)

    names, pinyins, initials = zip(*_draw(rng, pools.people, size), strict=True)
    provinces, cities, districts = zip(*_draw(rng, pools.places, size), strict=True)
    companies, company_keys = zip(*_draw(rng, pools.companies, size), strict=True)
    kinds = _draw(rng, pools.kinds, size)  # (gender, source, stage, relationship, segment, dnc)
    genders, sources, stages, relationships, segments, do_not_contact = zip(*kinds, strict=True)
    emails = [
        f"c{cid}@example.cn" if has else ""
        for cid, has in zip(cids, _flags(rng, EMAIL_SHARE, size), strict=True)
    ]
    no_referrer = pools.no_referrer
    referred_by = [
        cid - 1 - r % min(n, 50) if n > 10 and r % 1000 < REFERRAL_SHARE * 1000 else no_referrer
        for cid, n, r in zip(
            cids, range(made, made + size), array("I", rng.randbytes(_UINT * size)), strict=True
        )
    ]
    # Drawn, not dealt in turn: a dealt owner would follow the index, and so would the
    # phone number — every number ending in the same four digits would have one owner.
    owner_ids, unit_ids = zip(*_draw(rng, owners, size), strict=True)
    phones = _mobiles(ids["phone_index"] + made, size)
    day_text = pools.day_text
    created = [
        day_text[days + back] + time
        for days, (back, time) in zip(
            _draw(rng, pools.created_days, size),
            _draw(rng, pools.created_minutes, size),
            strict=True,
        )
    ]

    # Households: customer 25k is the head, 25k + 1 the spouse, named after the head.
    household_ids: list = [pools.no_household] * size
    roles = [""] * size
    households = []
    for offset in range(1, size, HOUSEHOLD_EVERY):  # `made` is a multiple of 25
        hid = ids["household"] + len(households) + (made // HOUSEHOLD_EVERY)
        households.append((hid, f"{names[offset - 1]}家", created[offset - 1]))
        household_ids[offset - 1] = household_ids[offset] = hid
        roles[offset - 1], roles[offset] = "head", "spouse"

    customers = list(
        zip(
            cids,
            names,
            pinyins,
            initials,
            genders,
            _draw(rng, pools.birthdays, size),
            emails,
            _draw(rng, pools.incomes, size),
            provinces,
            cities,
            districts,
            _draw(rng, pools.addresses, size),
            companies,
            company_keys,
            segments,
            sources,
            referred_by,
            household_ids,
            roles,
            stages,
            relationships,
            do_not_contact,
            owner_ids,
            unit_ids,
            phones,
            _draw(rng, pools.follow_ups, size),
            created,
            strict=True,
        )
    )
    return customers, households


def generate_customers(*, count: int, owners: list, seed: int = 7, batch: int = BATCH) -> int:
    """Insert `count` customers spread over `owners` (users with an org unit); returns count.

    Each customer has one valid, distinct mainland mobile (its primary phone); every 25th
    pair forms a household and about 5 % were referred by an earlier customer.
    """
    if count <= 0:
        return 0
    if not owners:
        raise ValueError("generate_customers needs at least one owner with an org unit.")
    batch = max(HOUSEHOLD_EVERY, batch - batch % HOUSEHOLD_EVERY)
    rng = random.Random(seed)
    segments = list(Segment.objects.values_list("id", flat=True))
    connection.ensure_connection()
    loader = _PostgresLoader() if connection.vendor == "postgresql" else _SqliteLoader()
    pools = _Pools(timezone.now(), segments, rng, count, loader.NULLS)
    owner_rows = [(o.id, o.org_unit_id) for o in owners]

    def next_id(model) -> int:
        return (model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1

    # Millions of short-lived tuples would wake the cyclic garbage collector thousands of
    # times for nothing (they hold no cycles): a third of the run time. Off while loading.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    loader.tune()
    try:
        with transaction.atomic():
            ids = {
                "customer": next_id(Customer),
                "phone": next_id(CustomerPhone),
                "household": next_id(Household),
                # Phones already in the table took the first numbers of the sequence.
                "phone_index": CustomerPhone.objects.count(),
            }
            loader.begin(count)
            made = 0
            # A helper thread copies the phones of a batch while this one draws the next: the
            # copy is one statement, run by sqlite3 / psycopg without the GIL, so the drawing
            # (Python) and the copy (C) use both cores. Leaving the `with` waits for the copy:
            # the transaction never ends with a statement still running.
            with ThreadPoolExecutor(max_workers=1) as helper:
                copying = None
                while made < count:
                    size = min(batch, count - made)
                    customers, households = _batch(
                        rng, pools, made=made, size=size, ids=ids, owners=owner_rows
                    )
                    if copying:
                        copying.result()
                    loader.insert(Household, HOUSEHOLD_VARYING, households)
                    loader.insert(Customer, VARYING, customers, COPIES)
                    first = ids["customer"] + made
                    copying = helper.submit(
                        loader.add_phones, first, first + size - 1, ids["phone"] + made
                    )
                    made += size
                copying.result()
            loader.end()
            # The word and substring index, in the same transaction (search_index.py).
            index_new_customers(ids["customer"], ids["customer"] + made - 1)
    finally:
        loader.restore()
        if gc_was_enabled:
            gc.enable()
    return made


class _Loader:
    """Bulk load of the generated rows; SQLite and PostgreSQL differ only in the transport."""

    TABLES = ("customers_customer", "customers_customerphone")
    TRUE, FALSE = "TRUE", "FALSE"
    # Column → the value drawn instead of None, turned back into NULL by the database.
    NULLS: dict = {}
    RIGHT4 = "right(primary_phone, 4)"

    def literal(self, value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.TRUE if value else self.FALSE
        if isinstance(value, int | Decimal):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    @staticmethod
    def constant_columns(model, varying: list[str], fixed: dict | None = None) -> dict:
        """Column → value for the columns of `model` not in `varying`: the field's default
        (or `fixed`), the same for every row — a field added later is filled without code."""
        fixed = fixed or {}
        columns = {}
        for field in model._meta.concrete_fields:
            if field.column in varying:
                continue
            value = fixed[field.column] if field.column in fixed else field.get_default()
            if isinstance(value, datetime):
                value = _db_datetime(value)
            elif isinstance(value, date | time):
                value = value.isoformat()
            columns[field.column] = value
        return columns

    def add_phones(self, first_customer: int, last_customer: int, first_phone: int) -> None:
        """Each new customer's primary phone as its one CustomerPhone, copied in SQL (phone
        ids follow the customer ids)."""
        constant = self.constant_columns(CustomerPhone, PHONE_VARYING, PHONE_FIXED)
        self.execute(
            f"INSERT INTO customers_customerphone ({', '.join(PHONE_VARYING + list(constant))}) "
            f"SELECT id + %s, id, primary_phone, substr(primary_phone, 4), {self.RIGHT4}, "
            f"{', '.join(map(self.literal, constant.values()))} "
            "FROM customers_customer WHERE id BETWEEN %s AND %s ORDER BY id",
            [first_phone - first_customer, first_customer, last_customer],
        )


class _SqliteLoader(_Loader):
    """executemany on the raw sqlite3 connection (no Django cursor wrapper per batch)."""

    TRUE, FALSE = "1", "0"
    RIGHT4 = "substr(primary_phone, -4)"
    # While loading: 256 MiB of page cache and no fsync. (Sorter threads, PRAGMA threads,
    # barely shorten the index builds and cost a third more CPU: not used.)
    TUNING = {"cache_size": -262_144, "synchronous": 0}
    # sqlite3 binds None through its adapter lookup, several times slower than a value: the
    # nullable columns get a stand-in instead, and NULLIF(?, stand-in) in the statement.
    NULLS = {
        "birthday": "",
        "annual_income": 0,
        "segment_id": 0,
        "referred_by_id": 0,
        "household_id": 0,
        "next_follow_up_at": "",
    }

    def __init__(self):
        self.raw = connection.connection
        self.deferred = contextlib.ExitStack()
        self.saved: dict = {}

    def execute(self, sql: str, params=()):
        return self.raw.execute(sql.replace("%s", "?"), params)

    def tune(self) -> None:
        """Settings for the load, outside any transaction (synchronous cannot change inside)."""
        if connection.in_atomic_block:
            return
        for name, value in self.TUNING.items():
            self.saved[name] = self.pragma(name)
            self.pragma(name, value)
        # WAL would write every new page twice (log, then checkpoint). Leaving WAL needs the
        # database to ourselves; when another connection holds it, WAL it is.
        mode = self.pragma("journal_mode")
        if mode.lower() == "wal":
            with contextlib.suppress(sqlite3.OperationalError):
                if self.pragma("journal_mode", "DELETE") == "delete":
                    self.saved["journal_mode"] = mode

    def begin(self, count: int) -> None:
        """A big load into a smaller table rebuilds the secondary indexes once, at the end:
        a sort instead of a million b-tree inserts (core.bulkload)."""
        if worth_deferring(count, Customer.objects.count()):
            self.deferred.enter_context(
                deferred_indexes(self.TABLES, loaded_columns=VARYING + list(COPIES))
            )

    def add_phones(self, first_customer: int, last_customer: int, first_phone: int) -> None:
        """As on PostgreSQL, but in number order, the ids given in that order (AUTOINCREMENT):
        the unique index on the number and the table both grow in runs, not at random."""
        constant = self.constant_columns(CustomerPhone, PHONE_VARYING, PHONE_FIXED)
        columns = ", ".join(PHONE_VARYING[1:] + list(constant))  # all but the id
        self.execute(
            f"INSERT INTO customers_customerphone ({columns}) "
            f"SELECT id, primary_phone, substr(primary_phone, 4), {self.RIGHT4}, "
            f"{', '.join(map(self.literal, constant.values()))} "
            "FROM customers_customer WHERE id BETWEEN ? AND ? ORDER BY primary_phone",
            [first_customer, last_customer],
        )

    def insert(self, model, varying: list[str], rows: list, copies: dict | None = None) -> None:
        if not rows:
            return
        copies = copies or {}
        constant = self.constant_columns(model, varying + list(copies))
        columns = ", ".join(varying + list(copies) + list(constant))
        values = ", ".join(
            [
                f"NULLIF(?{i}, {self.literal(self.NULLS[column])})"
                if column in self.NULLS
                else f"?{i}"
                for i, column in enumerate(varying, 1)
            ]
            + [f"?{varying.index(source) + 1}" for source in copies.values()]
            + [self.literal(v) for v in constant.values()]
        )
        self.raw.executemany(
            f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({values})", rows
        )

    def end(self) -> None:
        self.deferred.close()  # the dropped indexes back

        refresh_planner_statistics_now()  # what the scheduler would do at its next start

    def restore(self) -> None:
        for name, value in self.saved.items():
            self.pragma(name, value)
        if "journal_mode" in self.saved:
            # Back in WAL, this connection refuses a checkpoint ("table is locked") until its
            # next write; a fresh connection (with the settings' init_command) has no such quirk.
            connection.close()
            connection.ensure_connection()

    def pragma(self, name: str, value=None):
        """Read or set a PRAGMA, reading its answer to the end (a half-read statement stays
        open and would lock the connection for a later checkpoint)."""
        rows = self.raw.execute(f"PRAGMA {name}" if value is None else f"PRAGMA {name}={value}")
        answer = rows.fetchall()
        return answer[0][0] if answer else None


class _PostgresLoader(_Loader):
    """COPY FROM STDIN of text rows built here (the values hold no tab, newline or \\)."""

    def __init__(self):
        self.indexes: list[str] = []
        self.cursor = connection.cursor()

    def execute(self, sql: str, params=()):
        self.cursor.execute(sql, params)
        return self.cursor

    def tune(self) -> None:
        pass

    def begin(self, count: int) -> None:
        """As on SQLite: a big load rebuilds the plain indexes (not constraints) at the end."""
        self.execute("SET LOCAL maintenance_work_mem = '512MB'")
        if count < DEFER_INDEXES_FROM or count < Customer.objects.count():
            return
        rows = self.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN (%s, %s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            self.TABLES,
        ).fetchall()
        for name, sql in rows:
            self.execute(f'DROP INDEX "{name}"')
            self.indexes.append(sql)

    def insert(self, model, varying: list[str], rows: list, copies: dict | None = None) -> None:
        if not rows:
            return
        copies = copies or {}
        constant = self.constant_columns(model, varying + list(copies))
        tail = "".join("\t" + _copy_text(v) for v in constant.values()) + "\n"
        columns = ", ".join(varying + list(copies) + list(constant))
        repeat = [varying.index(source) for source in copies.values()]
        chunk = 10_000
        with self.cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(rows), chunk):
                copy.write(
                    "".join(
                        "\t".join(map(_copy_text, row + tuple(row[i] for i in repeat))) + tail
                        for row in rows[start : start + chunk]
                    )
                )

    def end(self) -> None:
        """Indexes back; sequences past the ids given here; statistics for the planner."""
        # The deferred foreign-key checks of the new rows run now: a table with pending
        # trigger events cannot be indexed.
        self.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.execute("SET CONSTRAINTS ALL DEFERRED")
        for sql in self.indexes:
            self.execute(sql)
        for table in ("customers_customer", "customers_customerphone", "customers_household"):
            self.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )
            self.execute(f"ANALYZE {table}")

    def restore(self) -> None:
        self.cursor.close()


def _copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def demo_lapse_protection(customer_ids: list[int], *, since) -> None:
    """Backdate the protection of some demo customers to `since`, with no contact: as if
    their salesperson had not called them for months, so the real pool sweep returns them
    to the public pool (demo.office). Demo data only, like the rest of this module."""
    Customer.objects.filter(pk__in=customer_ids).update(
        protected_until=since, last_contact_at=None, ownership_settled_at=None
    )
