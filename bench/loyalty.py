"""Loyalty (C6) benchmark: the points ledger at N customers and M order lines.

    .venv/bin/python bench/loyalty.py --customers 1000000 --lines 10000000 \
        [--engines sqlite postgresql] [--requests 200]

The purchases are bench/insights.py's load (customers from the demo generator's raw loader,
orders, items and payments by raw bulk inserts). On top of them, in SQL (INSERT … SELECT,
no Python per row): one earning entry and its lot per payment (1 point per ¥10, expiring
700 days after it: the oldest few percent are due), each buyer's balance row (the sum of
the lots), and a silver tier whose period ended yesterday on every twentieth account.

Measured: the incremental operations as the services run them — earning at a payment (with
the tier check), a redemption, a refund, a customer's summary — each p50/p95 over sampled
customers; the hourly expiry pass (lots per second); the nightly tier review; the balance
against the lots for the sampled customers; the per-event paths' query plans
(core.query_plans); and the points page and API over HTTP beside the bare /healthz.
"""

import argparse
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import common
import insights

SCRIPT = str(Path(__file__).resolve())
# One-row settings, a handful of rules, tiers and rewards, and the import batches (one row
# per import: the visibility filter leaves out the unpublished ones): read whole by design.
SMALL = frozenset(
    {
        "loyalty_loyaltysettings",
        "loyalty_earningrule",
        "loyalty_tier",
        "loyalty_reward",
        "customers_loadbatch",
    }
)


def phase_load(args) -> dict:
    loaded = insights.phase_load(args)
    from django.db import connection, transaction

    from guanxi.loyalty.models import PointsAccount, PointsEntry, PointsLot, Tier
    from guanxi.sales.models import Payment

    started = time.perf_counter()
    p, e, lot, acc = (m._meta.db_table for m in (Payment, PointsEntry, PointsLot, PointsAccount))
    pg = connection.vendor == "postgresql"
    points = "CAST(FLOOR(amount / 10) AS INTEGER)" if pg else "CAST(amount / 10 AS INTEGER)"
    key = "'payment:' || id"
    ref = "'order:' || order_id"
    expires = "at + INTERVAL '700 days'" if pg else "datetime(at, '+700 days')"
    yesterday = "CURRENT_DATE - 1" if pg else "date('now', '-1 day')"
    silver = Tier.objects.filter(code="silver").values_list("pk", flat=True).first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {e} (id, customer_id, kind, points, balance_after, key, ref, amount,"
            f" note, at) SELECT id, customer_id, 'earn', {points}, 0, {key}, {ref}, amount, '',"
            f" received_at FROM {p}"
        )
        cursor.execute(
            f"INSERT INTO {lot} (id, customer_id, entry_id, points, remaining, expires_at)"
            f" SELECT id, customer_id, id, points, points, {expires} FROM {e}"
        )
        cursor.execute(
            f"INSERT INTO {acc} (customer_id, balance, updated_at)"
            f" SELECT customer_id, SUM(remaining), CURRENT_TIMESTAMP FROM {lot}"
            f" GROUP BY customer_id"
        )
        if silver:
            cursor.execute(
                f"UPDATE {acc} SET tier_id = %s, tier_since = {yesterday}, "
                f"tier_until = {yesterday} WHERE customer_id %% 20 = 0",
                [silver],
            )
        if pg:
            for table in (e, lot):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}))"
                )
    if pg:
        with connection.cursor() as cursor:
            for table in (e, lot, acc):
                cursor.execute(f"ANALYZE {table}")
    loaded["ledger_s"] = round(time.perf_counter() - started, 1)
    loaded["entries"] = PointsEntry.objects.count()
    return loaded


def phase_measure(args) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone

    from guanxi.core.models import User
    from guanxi.core.query_plans import full_scans
    from guanxi.loyalty import services
    from guanxi.loyalty.models import PointsAccount, PointsLot
    from guanxi.loyalty.tiers import tiers_review

    if connection.vendor == "sqlite":
        version = connection.Database.sqlite_version
    else:
        version = str(connection.cursor().connection.info.server_version)
    out: dict = {"engine": f"{connection.vendor} {version}"}
    finance = User.objects.get(username="bench")
    rng = random.Random(7)
    ids = list(PointsAccount.objects.filter(balance__gte=200).values_list("customer_id", flat=True))
    sample = rng.sample(ids, min(300, len(ids)))

    def measure(name, call):
        times = []
        for n, cid in enumerate(sample):
            started = time.perf_counter()
            call(n, cid)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = common.summary(times[20:])

    measure(
        "earn_at_payment_ms",
        lambda n, cid: services.points_earn_for_spend(
            customer_id=cid, amount="1000.00", key=f"bench-pay:{n}", ref=f"bench:{n}"
        ),
    )
    measure(
        "redeem_ms",
        lambda n, cid: services.points_redeem(
            actor=finance, customer_id=cid, key=f"bench-redeem:{n}", points=50
        ),
    )
    measure("refund_ms", lambda n, cid: services.points_refund(actor=finance, ref=f"bench:{n}"))
    measure("summary_ms", lambda n, cid: services.account_summary(cid))
    due = PointsLot.objects.filter(remaining__gt=0, expires_at__lte=timezone.now())
    out["lots_due"] = due.count()
    started = time.perf_counter()
    expired = services.points_expire_due()
    seconds = time.perf_counter() - started
    out["expiry_pass"] = {
        "lots": expired,
        "s": round(seconds, 1),
        "lots_per_s": round(expired / seconds) if seconds else None,
    }
    started = time.perf_counter()
    out["tier_review"] = tiers_review()
    out["tier_review_s"] = round(time.perf_counter() - started, 1)
    # The balance row against the lots, for every sampled customer.
    lots = dict(
        PointsLot.objects.filter(customer_id__in=sample)
        .values("customer_id")
        .annotate(s=Sum("remaining"))
        .values_list("customer_id", "s")
    )
    balances = dict(
        PointsAccount.objects.filter(customer_id__in=sample).values_list("customer_id", "balance")
    )
    out["balance_mismatches"] = sum(1 for c in sample if balances.get(c) != lots.get(c))
    cid = sample[0]
    scans = full_scans(
        lambda: services.points_earn_for_spend(
            customer_id=cid, amount="500.00", key="bench-plan", ref="bench:plan"
        ),
        small_tables=SMALL,
    )
    scans += full_scans(
        lambda: services.points_redeem(actor=finance, customer_id=cid, key="plan", points=10),
        small_tables=SMALL,
    )
    scans += full_scans(lambda: services.account_summary(cid), small_tables=SMALL)
    out["full_table_reads"] = [f"{tables}: {sql[:160]}" for sql, tables in scans]
    out["sample"] = sample[:50]
    return out


def serve(workdir: Path, env: dict, sample: list[int], requests: int) -> dict:
    import httpx

    port = common.free_port()
    server = common.start_server(workdir, env, port, workers=2)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        common.wait_until_up(client, server)
        common.log_in(client, "bench")
        out = {
            "api": insights.timed_over(
                client, [f"/api/v1/loyalty/customers/{c}" for c in sample], requests
            ),
            "page": insights.timed_over(
                client, [f"/loyalty/customers/{c}/" for c in sample], requests
            ),
            "healthz": insights.timed_over(client, ["/healthz"], requests),
        }
    finally:
        common.stop_server(server)
    base = out["healthz"]["p95"] or 0.1
    out["api_to_healthz_p95"] = round(out["api"]["p95"] / base, 1)
    return out


PHASES = {"load": phase_load, "measure": phase_measure}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--engines", nargs="+", default=["sqlite"])
    parser.add_argument("--requests", type=int, default=200, help="timed GETs per URL")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--phase")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if common.serve_phase(args, PHASES, ensure_ascii=False):
        return
    print(f"cpu: {common.cpu_model()}, load average {os.getloadavg()[0]:.1f}")
    for engine in args.engines:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-loyalty-{engine}-"))
        pg = None
        try:
            if engine == "postgresql":
                pg = common.ThrowawayPostgres(workdir, shared_buffers="512MB")
                url = pg.start()
            else:
                url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            env = common.server_env(workdir, url, secrets.token_hex(16), src_on_path=True)
            opts = {"customers": args.customers, "lines": args.lines}
            loaded = common.run_phase(SCRIPT, "load", workdir, env, **opts)
            print(engine, "loaded", loaded, flush=True)
            measured = common.run_phase(SCRIPT, "measure", workdir, env, **opts)
            measured["load_average"] = round(os.getloadavg()[0], 1)
            sample = measured.pop("sample")
            print(engine, "measured", measured, flush=True)
            served = serve(workdir, env, sample, args.requests)
            print(engine, "served", served, flush=True)
            print(
                f"{engine}: {loaded['entries']:,} ledger lines for {loaded['customers']:,} "
                f"customers; earn p95 {measured['earn_at_payment_ms']['p95']} ms, redeem p95 "
                f"{measured['redeem_ms']['p95']} ms, refund p95 {measured['refund_ms']['p95']} "
                f"ms; expiry {measured['expiry_pass']['lots_per_s']} lots/s; points API p95 "
                f"{served['api']['p95']} ms ({served['api_to_healthz_p95']}× /healthz); "
                f"balance ≠ lots: {measured['balance_mismatches']}; full table reads: "
                f"{len(measured['full_table_reads'])}"
            )
        finally:
            if pg is not None:
                pg.stop()
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
