"""Computing the value figures: all customers (nightly, idempotent) or one (at each payment).

Purchases are read from the payments finance records (sales), one purchase per order or
deal (its payments summed, dated by the first), leaving out deals that were refunded
(lost). The full run streams them ordered by customer in one query, computes each
customer's history, then the breakpoints (RFM quintiles, the medians that scale the value
score, the A/B cut-offs) over everyone, then writes every row in batches. It replaces the
table's contents in one transaction: running it twice gives the same table.

The incremental update recomputes one customer's history and scores them against the
last full run's breakpoints (stored in InsightsSettings), in the payment's transaction.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from guanxi.core.bulkload import deferred_indexes
from guanxi.customers.models import Customer
from guanxi.interactions.models import Interaction
from guanxi.sales.models import Deal, Payment

from .models import CustomerValue, InsightsSettings
from .rules import (
    DAY,
    NO_CUT,
    NO_HISTORY,
    ChurnRule,
    History,
    abc_class,
    abc_cuts,
    amount_dropped,
    churn_threshold,
    history_of,
    lifecycle_stage,
    quintile_breaks,
    rfm_segment,
    score_high_better,
    score_low_better,
    value_score,
)

CENT = Decimal("0.01")


def _purchases_sql(one_customer: bool, before: bool = False) -> str:
    p, d = Payment._meta.db_table, Deal._meta.db_table
    where = "WHERE p.customer_id = %s AND p.amount > 0" if one_customer else "WHERE p.amount > 0"
    if before:
        where += " AND p.received_at < %s"
    return f"""
        SELECT p.customer_id, {_epoch_sql("MIN(p.received_at)")}, SUM(p.amount)
        FROM {p} p LEFT JOIN {d} d ON d.id = p.deal_id
        {where} AND (d.id IS NULL OR d.stage <> 'lost')
        GROUP BY p.customer_id, p.order_id, p.deal_id
        ORDER BY p.customer_id, MIN(p.received_at)
    """


def _epoch_sql(expression: str) -> str:
    """`expression` (a datetime) as epoch seconds, computed by the database: parsing a
    text or datetime per purchase in Python was most of the read's CPU time."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {expression}) AS DOUBLE PRECISION)"
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]': whole seconds, plus the fraction.
    return (
        f"(CAST(strftime('%%s', {expression}) AS REAL)"
        f" + CAST(COALESCE(NULLIF(substr({expression}, 20), ''), '0') AS REAL))"
    )


def _dt(epoch: float | None):
    return datetime.fromtimestamp(epoch, tz=UTC) if epoch is not None else None


def _stream_histories(customer_id: int | None = None, before: datetime | None = None):
    """(customer_id, History) for every customer with a purchase, in id order; only the
    purchases before `before` when given (the back-test)."""
    params: list = [customer_id] if customer_id else []
    if before is not None:
        params.append(before)
    with connection.cursor() as cursor:
        cursor.execute(_purchases_sql(customer_id is not None, before is not None), params)
        current: int | None = None
        rows: list[tuple[float, Decimal]] = []
        while batch := cursor.fetchmany(20000):
            for cid, at, amount in batch:
                if cid != current:
                    if rows:
                        yield current, history_of(rows)
                    current, rows = cid, []
                rows.append((at, Decimal(amount)))
        if rows:
            yield current, history_of(rows)


def _counts() -> tuple[dict, dict, dict]:
    """Interactions per customer; referrals made and the referred customers' revenue."""

    inter = Interaction.objects.all()
    referred = Customer.objects.filter(referred_by__isnull=False)

    interactions = dict(
        inter.order_by()
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    referrals, referral_revenue = {}, {}
    for cid, n, revenue in (
        referred.order_by()
        .values("referred_by_id")
        .annotate(n=Count("id"), revenue=Sum("revenue"))
        .values_list("referred_by_id", "n", "revenue")
    ):
        referrals[cid], referral_revenue[cid] = n, Decimal(revenue or 0)
    return interactions, referrals, referral_revenue


@dataclass(slots=True)
class Figures:
    """Everything of one customer before scoring (slots: a million of them are held at
    once by the full run)."""

    customer_id: int
    history: History
    created_at: float
    interactions: int
    referrals: int
    referral_revenue: Decimal
    value: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    years: float = 0.0


@dataclass(frozen=True)
class Params:
    """The settings as the per-customer arithmetic uses them, converted once per run."""

    margin: Decimal
    share: Decimal
    acquisition: Decimal
    per_interaction: Decimal
    rule: ChurnRule
    weights: dict
    high_from: int

    @classmethod
    def of(cls, config: InsightsSettings) -> "Params":
        return cls(
            margin=config.margin_pct / 100,
            share=config.referral_share_pct / 100,
            acquisition=config.acquisition_cost,
            per_interaction=config.cost_per_interaction,
            rule=config.churn_rule(),
            weights=config.weights(),
            high_from=config.rfm_high_from,
        )


def _money_figures(fig: Figures, params: Params, now: float) -> None:
    fig.value = (
        fig.history.revenue * params.margin + fig.referral_revenue * params.share
    ).quantize(CENT)
    fig.cost = (params.acquisition + fig.interactions * params.per_interaction).quantize(CENT)
    fig.years = max(0.0, (now - fig.created_at) / (365.25 * DAY))


def _values(fig: Figures, params: Params, breaks: dict, now: float) -> dict:
    """One CustomerValue row as {attname: value}: the incremental update makes the model
    instance of it, the full run writes it as a tuple (no instance per customer)."""
    h = fig.history
    rule = params.rule
    days_since = (now - h.last_at) / DAY if h.last_at is not None else None
    row = dict(
        customer_id=fig.customer_id,
        purchases=h.count,
        revenue=h.revenue.quantize(CENT),
        first_purchase_at=_dt(h.first_at),
        last_purchase_at=_dt(h.last_at),
        median_gap_days=h.median_gap,
        spread_days=h.spread,
        last_amount=h.last_amount.quantize(CENT),
        usual_amount=Decimal(h.usual_amount).quantize(CENT),
        interactions=fig.interactions,
        referrals=fig.referrals,
        referral_revenue=fig.referral_revenue.quantize(CENT),
        value=fig.value,
        cost=fig.cost,
        stage=lifecycle_stage(h, days_since, rule),
        computed_at=_dt(now),
        r=None,
        f=None,
        m=None,
        segment="",
        score=None,
        abc="C",
        churn_rule="",
        churn_threshold_days=None,
        churn_due_at=None,
    )
    if h.count and days_since is not None and (last_at := h.last_at) is not None:
        r = score_low_better(days_since, breaks.get("r", []))
        f = score_high_better(h.count, breaks.get("f", []))
        m = score_high_better(float(h.revenue), breaks.get("m", []))
        score = value_score(
            revenue=float(h.revenue),
            profit=float(fig.value - fig.cost),
            cost=float(fig.cost),
            years=fig.years,
            weights=params.weights,
            medians=breaks.get("medians", {}),
        )
        threshold, kind = churn_threshold(h, rule)
        if amount_dropped(h, rule):
            kind = "drop"
        row.update(
            r=r,
            f=f,
            m=m,
            segment=rfm_segment(r, f, m, params.high_from),
            score=score,
            abc=abc_class(score, tuple(breaks.get("abc", (NO_CUT, NO_CUT)))),
            churn_rule=kind,
            churn_threshold_days=threshold,
            churn_due_at=_dt(now) if kind == "drop" else _dt(last_at + threshold * DAY),
        )
    return row


def _write_all(rows) -> None:
    """Every customer's row (dicts from `_values`) into the emptied table: COPY on
    PostgreSQL; on SQLite executemany of tuples with the secondary indexes built once at
    the end (core.bulkload). Datetimes as SQLite keeps them: naive UTC text."""

    fields = [f.attname for f in CustomerValue._meta.concrete_fields]
    q = connection.ops.quote_name
    table = q(CustomerValue._meta.db_table)
    names = ", ".join(q(f.column or f.attname) for f in CustomerValue._meta.concrete_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[f] for f in fields])
            return
        times = {
            f.attname
            for f in CustomerValue._meta.concrete_fields
            if f.get_internal_type() == "DateTimeField"
        }

        def plain(row: dict) -> tuple:
            for name in times:
                if (value := row[name]) is not None:
                    row[name] = value.replace(tzinfo=None).isoformat(" ")
            return tuple(row[f] for f in fields)

        marks = ", ".join("?" for _f in fields)
        with deferred_indexes((CustomerValue._meta.db_table,)):
            cursor.cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", (plain(r) for r in rows)
            )


def _median(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _customers():
    """(id, created as epoch seconds) of every customer not merged away, streamed."""

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {_epoch_sql('created_at')} FROM {Customer._meta.db_table}"
            " WHERE merged_into_id IS NULL",
            [],
        )
        while batch := cursor.fetchmany(20000):
            yield from batch


def recompute_all(now: datetime | None = None) -> dict:
    """Every customer's figures from the source records; idempotent. Returns counts and
    timings."""

    started, cpu_started = time.perf_counter(), time.process_time()
    now_ts = (now or timezone.now()).timestamp()
    config = InsightsSettings.current()
    params = Params.of(config)
    interactions, referrals, referral_revenue = _counts()
    histories = dict(_stream_histories())
    read, cpu_read = time.perf_counter(), time.process_time()
    figures: list[Figures] = []
    for cid, created in _customers():
        fig = Figures(
            customer_id=cid,
            history=histories.pop(cid, None) or NO_HISTORY,
            created_at=created,
            interactions=interactions.get(cid, 0),
            referrals=referrals.get(cid, 0),
            referral_revenue=referral_revenue.get(cid, Decimal(0)),
        )
        _money_figures(fig, params, now_ts)
        figures.append(fig)
    buyers = [f for f in figures if f.history.count]
    breaks: dict = {
        "r": quintile_breaks([(now_ts - (f.history.last_at or now_ts)) / DAY for f in buyers]),
        "f": quintile_breaks([f.history.count for f in buyers]),
        "m": quintile_breaks([float(f.history.revenue) for f in buyers]),
        "medians": {
            "revenue": _median([float(f.history.revenue) for f in buyers]),
            "profit": _median([float(f.value - f.cost) for f in buyers if f.value > f.cost]),
            "cost": _median([float(f.cost) for f in buyers]),
            # At least a year: a young base's median of days would make a week's age count
            # as much as revenue.
            "years": max(1.0, _median([f.years for f in buyers])),
        },
    }
    scores = [
        value_score(
            revenue=float(f.history.revenue),
            profit=float(f.value - f.cost),
            cost=float(f.cost),
            years=f.years,
            weights=params.weights,
            medians=breaks["medians"],
        )
        for f in buyers
    ]
    breaks["abc"] = list(abc_cuts(scores, config.a_share_pct / 100, config.b_share_pct / 100))
    computed, cpu_computed = time.perf_counter(), time.process_time()
    with transaction.atomic():
        CustomerValue.objects.all().delete()
        _write_all(_values(f, params, breaks, now_ts) for f in figures)
        InsightsSettings.objects.filter(pk=config.pk).update(
            breakpoints=breaks, computed_at=_dt(now_ts)
        )
    written, cpu_written = time.perf_counter(), time.process_time()
    # Wall and CPU seconds of this process (SQLite works in it; PostgreSQL's server does not).
    return {
        "customers": len(figures),
        "buyers": len(buyers),
        "read_s": round(read - started, 2),
        "compute_s": round(computed - read, 2),
        "write_s": round(written - computed, 2),
        "read_cpu_s": round(cpu_read - cpu_started, 2),
        "compute_cpu_s": round(cpu_computed - cpu_read, 2),
        "write_cpu_s": round(cpu_written - cpu_computed, 2),
    }


@cache
def _inputs_sql() -> str:
    """One customer's creation date, interactions and referrals in one statement (each an
    index range: interactions by customer, customers by referrer)."""

    c, i = Customer._meta.db_table, Interaction._meta.db_table
    return f"""
        SELECT {_epoch_sql("c.created_at")},
            (SELECT COUNT(*) FROM {i} i WHERE i.customer_id = c.id),
            (SELECT COUNT(*) FROM {c} r WHERE r.referred_by_id = c.id),
            (SELECT SUM(r.revenue) FROM {c} r WHERE r.referred_by_id = c.id)
        FROM {c} c WHERE c.id = %s AND c.merged_into_id IS NULL
    """


@cache
def _upsert_sql() -> tuple[str, list]:
    """INSERT … ON CONFLICT DO UPDATE of one CustomerValue row (both engines), and the
    fields in its column order."""
    fields = list(CustomerValue._meta.concrete_fields)
    q = connection.ops.quote_name
    names = [q(f.column or f.attname) for f in fields]
    updates = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
    marks = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {q(CustomerValue._meta.db_table)} ({', '.join(names)}) VALUES ({marks})"
        f" ON CONFLICT ({names[0]}) DO UPDATE SET {updates}"
    )
    return sql, fields


def recompute_one(customer_id: int, now: datetime | None = None) -> CustomerValue | None:
    """One customer's figures against the last full run's breakpoints (at each payment).

    Four statements whatever the customer's history: the settings row, the customer's
    inputs, their purchases (one index range), the upsert of their row. Built as SQL, not
    through the ORM: compiling the queries cost more than running them."""
    now_ts = (now or timezone.now()).timestamp()
    config = InsightsSettings.current()
    with connection.cursor() as cursor:
        cursor.execute(_inputs_sql(), [customer_id])
        found = cursor.fetchone()
    if found is None:
        CustomerValue.objects.filter(customer_id=customer_id).delete()
        return None
    created, interactions, referrals, referral_revenue = found
    history = next((h for _cid, h in _stream_histories(customer_id)), None)
    fig = Figures(
        customer_id=customer_id,
        history=history or history_of([]),
        created_at=created,
        interactions=interactions or 0,
        referrals=referrals or 0,
        referral_revenue=Decimal(referral_revenue or 0),
    )
    params = Params.of(config)
    _money_figures(fig, params, now_ts)
    row = CustomerValue(**_values(fig, params, config.breakpoints or {}, now_ts))
    sql, fields = _upsert_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields]
        )
    return row


def churn_backtest(*, as_of: datetime, horizon_days: int = 120) -> dict:
    """The warning's precision on history: warn as the rules would have on `as_of` (from
    the purchases before it), then look at the next `horizon_days`: a warned customer who
    bought nothing in them really stopped. Recall: of the active customers who stopped,
    how many were warned."""

    config = InsightsSettings.current()
    rule = config.churn_rule()
    now_ts = as_of.timestamp()
    end = as_of + timedelta(days=horizon_days)

    bought_after = set(
        Payment.objects.filter(received_at__gte=as_of, received_at__lt=end, amount__gt=0)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    warned = stopped = warned_stopped = 0
    for cid, h in _stream_histories(before=as_of):
        assert h.last_at is not None
        days_since = (now_ts - h.last_at) / DAY
        threshold, _kind = churn_threshold(h, rule)
        if days_since > threshold * rule.loss_factor:
            continue  # already lost before the date: not a warning, not a loss to catch
        is_warned = days_since > threshold or amount_dropped(h, rule)
        did_stop = cid not in bought_after
        warned += is_warned
        stopped += did_stop
        warned_stopped += is_warned and did_stop
    return {
        "as_of": as_of.date().isoformat(),
        "horizon_days": horizon_days,
        "warned": warned,
        "warned_and_stopped": warned_stopped,
        "precision": round(warned_stopped / warned, 3) if warned else None,
        "stopped": stopped,
        "recall": round(warned_stopped / stopped, 3) if stopped else None,
    }
