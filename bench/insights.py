"""Insights (C6) benchmark: the full recompute (RFM, A/B/C, lifecycle, churn threshold) over
N customers and M order lines, the co-purchase rebuild, the incremental update at one
payment, and the recommendations for one customer (in process, and over HTTP beside the
bare /healthz of the same server); it also asks the database for the plan of every query
of the per-event paths and lists any that reads a whole table.

    .venv/bin/python bench/insights.py --customers 1000000 --lines 10000000 \
        [--engines sqlite postgresql] [--requests 200]

Customers come from the demo generator's raw loader (COPY / executemany); orders, items
and payments are raw bulk inserts too (`RawTable`), so the load of 10,000,000 lines is
bounded by the database, not by Django.

Each engine gets a fresh database in a throwaway directory (SQLite file; PostgreSQL cluster
on loopback, shared_buffers 512 MB). An order line here is one retail order with one item
and its payment (a purchase); each customer's orders are spread over two years. Everything
runs in child processes (bench/common.py) so the measuring process holds no database state.
"""

import argparse
import gc
import os
import random
import resource
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common

SCRIPT = str(Path(__file__).resolve())


# --- child phases ---------------------------------------------------------------------------


def _django():
    import django

    django.setup()


class RawTable:
    """Raw bulk inserts into one model's table: COPY on PostgreSQL, executemany on SQLite.

    A row is a tuple of `given` columns, in that order; every other column gets `fixed`'s
    value or the field's default (as the database stores it), once for all rows: no model
    instance, no per-row dictionary. Tables written here must be read by the code as they
    are (no save() logic is skipped that the measured paths rely on).
    """

    def __init__(self, model, given: list[str], **fixed):
        from django.db import connection

        self.connection = connection
        self.table = model._meta.db_table
        rest = [f for f in model._meta.concrete_fields if f.column not in given]
        values = []
        for field in rest:
            if field.column in fixed:
                values.append(fixed[field.column])
            elif field.null and not field.has_default():
                values.append(None)
            else:
                value = field.get_db_prep_save(field.get_default(), connection)
                if connection.vendor == "sqlite" and isinstance(value, datetime):
                    value = value.isoformat(sep=" ")
                values.append(value)
        self.columns = [*given, *(f.column for f in rest)]
        self.rest = tuple(values)

    def write(self, rows) -> None:
        names = ", ".join(f'"{c}"' for c in self.columns)
        rest = self.rest
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with cursor.cursor.copy(f'COPY "{self.table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row + rest)
            else:
                marks = ", ".join("?" for _ in self.columns)
                cursor.cursor.executemany(
                    f'INSERT INTO "{self.table}" ({names}) VALUES ({marks})',
                    (row + rest for row in rows),
                )


def phase_load(args) -> dict:
    """Customers through the demo generator, then orders, items and payments in bulk."""
    _django()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from guanxi.core.models import OrgUnit, Role, User, UserRole
    from guanxi.customers.models import Customer
    from guanxi.demo.customers import generate_customers
    from guanxi.sales.models import Order, OrderItem, Payment, Product

    started = time.perf_counter()
    hq = OrgUnit.objects.create(name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    user = User.objects.create_user(username="bench", password=common.PASSWORD, org_unit=hq)
    UserRole.objects.create(user=user, role=Role.FINANCE)
    UserRole.objects.create(user=user, role=Role.ADMIN)
    # Who sells is not who records the money (separation of duties): a seller of its own.
    seller = User.objects.create_user(username="bench-sales", password=common.PASSWORD, org_unit=hq)
    UserRole.objects.create(user=seller, role=Role.SALES)
    UserRole.objects.create(user=seller, role=Role.ADMIN)
    generate_customers(count=args.customers, owners=[User.objects.get(pk=user.pk)])
    products = [
        Product.objects.create(
            name=f"商品{n}", sku=f"B{n:03d}", category=f"类{n % 12}", list_price=100 + n
        ).pk
        for n in range(200)
    ]
    customers = list(Customer.objects.values_list("id", flat=True))
    rng = random.Random(16)
    now = datetime.now(UTC)
    vendor = connection.vendor

    def fmt(at):
        return at.isoformat(sep=" ") if vendor == "sqlite" else at

    orders = RawTable(
        Order,
        ["id", "customer_id", "number", "total", "paid", "created_at", "delivered_at"],
        status="delivered",
        created_by_id=user.pk,
        ship_method="pickup",
        receiver_name="x",
        payer="x",
    )
    items = RawTable(OrderItem, ["id", "order_id", "product_id", "unit_price"], quantity=1)
    payments = RawTable(
        Payment,
        ["id", "order_id", "customer_id", "amount", "receipt_number", "received_at"],
        method="wechat",
        recorded_by_id=user.pk,
    )
    per_customer = args.lines / len(customers)
    order_id = 0
    batch_o: list[tuple] = []
    batch_i: list[tuple] = []
    batch_p: list[tuple] = []

    def flush():
        orders.write(batch_o)
        items.write(batch_i)
        payments.write(batch_p)
        batch_o.clear(), batch_i.clear(), batch_p.clear()

    gc.disable()  # millions of short-lived tuples, no cycles: the collector only slows it
    with transaction.atomic():
        for index, customer in enumerate(customers):
            # Orders per customer: 0 for some, many for regular buyers, M/N on average.
            count = min(int(rng.expovariate(1 / per_customer) + 0.5), 200)
            if order_id + count > args.lines:
                count = max(0, args.lines - order_id)
            if index == len(customers) - 1:
                count = args.lines - order_id
            favourite = rng.choice(products)
            for _ in range(count):
                order_id += 1
                at = fmt(now - timedelta(seconds=rng.randint(0, 730 * 86400)))
                product = favourite if rng.random() < 0.5 else rng.choice(products)
                amount = f"{rng.randint(50, 5000)}.00"
                batch_o.append((order_id, customer, f"B{order_id:09d}", amount, amount, at, at))
                batch_i.append((order_id, order_id, product, amount))
                batch_p.append((order_id, order_id, customer, amount, f"R{order_id:09d}", at))
            if len(batch_o) >= 20000:
                flush()
        flush()
    gc.enable()
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Order, OrderItem, Payment):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {order_id + 1})"
                )
                cursor.execute(f"ANALYZE {table}")
    return {
        "customers": len(customers),
        "lines": order_id,
        "load_s": round(time.perf_counter() - started, 1),
    }


def phase_measure(args) -> dict:
    _django()
    from django.db import connection, transaction

    from guanxi.core.events import collect_effects
    from guanxi.core.models import User
    from guanxi.customers.models import Customer
    from guanxi.insights.engine import recompute_all, recompute_one
    from guanxi.insights.recommend import rebuild_pairs, recommend_for
    from guanxi.insights.services import churn_scan
    from guanxi.sales import services as sales
    from guanxi.sales.models import Product

    if connection.vendor == "sqlite":
        version = connection.Database.sqlite_version
    else:
        version = str(connection.cursor().connection.info.server_version)
    out: dict = {"engine": f"{connection.vendor} {version}"}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    first = recompute_all()
    out["full_s"] = round(time.perf_counter() - t0, 1)
    out["full_cpu_s"] = round(time.process_time() - cpu0, 1)
    out["full_parts"] = first
    t0 = time.perf_counter()
    recompute_all()
    out["full_again_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    out["pairs"] = rebuild_pairs()
    out["pairs_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    out["churn"] = churn_scan()
    out["churn_scan_s"] = round(time.perf_counter() - t0, 1)

    rng = random.Random(5)
    ids = list(Customer.objects.values_list("id", flat=True)[: args.customers])
    sample = rng.sample(ids, min(300, len(ids)))
    times = []
    for cid in sample:
        t = time.perf_counter()
        with transaction.atomic():
            recompute_one(cid)
        times.append((time.perf_counter() - t) * 1000)
    out["incremental_ms"] = common.summary(times[20:])
    rec = []
    customers = Customer.objects.in_bulk(sample)
    for cid in sample:
        t = time.perf_counter()
        recommend_for(customers[cid])
        rec.append((time.perf_counter() - t) * 1000)
    out["recommend_ms"] = common.summary(rec[20:])
    # The whole payment as finance records it: order, payment, points, tier, value update.
    finance = User.objects.get(username="bench")
    seller = User.objects.get(username="bench-sales")
    product = Product.objects.first()
    pay = []
    for n, cid in enumerate(sample[:120]):
        order = sales.order_create(
            actor=seller,
            customer_id=cid,
            items=[{"product_id": product.pk}],
            ship_method="pickup",
            receiver_name="x",
            payer="x",
        )
        t = time.perf_counter()
        with collect_effects():
            sales.payment_record(
                actor=finance,
                order_id=order.pk,
                amount=str(order.total),
                method="cash",
                receipt_number=f"BENCH-{n}",
            )
        pay.append((time.perf_counter() - t) * 1000)
    out["payment_with_listeners_ms"] = common.summary(pay[20:])
    # Every query of the per-event paths through an index (core.query_plans: EXPLAIN).
    from guanxi.core.query_plans import full_scans

    small = frozenset({"insights_insightssettings", "loyalty_loyaltysettings"})
    small |= {"loyalty_earningrule", "loyalty_tier"}
    scans = []
    for cid in sample[:3]:
        scans += full_scans(lambda cid=cid: recompute_one(cid), small_tables=small)
        scans += full_scans(lambda cid=cid: recommend_for(customers[cid]), small_tables=small)
    out["full_table_reads"] = [f"{tables}: {sql[:160]}" for sql, tables in scans]
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["sample"] = sample[120:170]  # not touched by the payments above, for the server
    return out


def timed_over(client, paths: list[str], count: int, warmup: int = 10) -> dict:
    """p50/p95 ms of `count` GETs cycling through `paths` (each must answer 200)."""
    for path in paths[:warmup]:
        client.get(path)
    times = []
    for n in range(count):
        path = paths[n % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    return common.summary(times)


def serve(workdir: Path, env: dict, sample: list[int], requests: int) -> dict:
    """The recommendations and value figures over HTTP (gunicorn, 2 workers, DEBUG=0), as a
    salesperson's page asks for them, beside the bare /healthz of the same server."""
    import httpx

    port = common.free_port()
    server = common.start_server(workdir, env, port, workers=2)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        common.wait_until_up(client, server)
        common.log_in(client, "bench")
        api = "/api/v1/insights/customers"
        out = {
            "recommendations": timed_over(
                client, [f"{api}/{c}/recommendations" for c in sample], requests
            ),
            "value": timed_over(client, [f"{api}/{c}" for c in sample], requests),
            "healthz": timed_over(client, ["/healthz"], requests),
        }
    finally:
        common.stop_server(server)
    base = out["healthz"]["p95"] or 0.1
    out["recommendations_to_healthz_p95"] = round(out["recommendations"]["p95"] / base, 1)
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
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-insights-{engine}-"))
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
            n, m = loaded["customers"], loaded["lines"]
            scale = max(1_000_000 / n, 10_000_000 / m)
            print(
                f"{engine}: full recompute {measured['full_s']} s for {n:,} customers / {m:,} "
                f"lines; linear extrapolation to 1,000,000 / 10,000,000: "
                f"{measured['full_s'] * scale:.0f} s; incremental p95 "
                f"{measured['incremental_ms']['p95']} ms; recommendations p95 "
                f"{measured['recommend_ms']['p95']} ms in process, "
                f"{served['recommendations']['p95']} ms over HTTP "
                f"({served['recommendations_to_healthz_p95']}× /healthz p95 "
                f"{served['healthz']['p95']} ms); "
                f"full table reads on the per-event paths: {len(measured['full_table_reads'])}"
            )
        finally:
            if pg is not None:
                pg.stop()
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
