"""Insights (C6) benchmark: the full recompute (RFM, A/B/C, lifecycle, churn threshold) over
N customers and M order lines, the co-purchase rebuild, the incremental update at one
payment, and the recommendations for one customer.

    .venv/bin/python bench/insights.py --customers 100000 --lines 1000000 \
        [--engines sqlite postgresql]

Each engine gets a fresh database in a throwaway directory (SQLite file; PostgreSQL cluster
on loopback, shared_buffers 512 MB). An order line here is one retail order with one item
and its payment (a purchase); each customer's orders are spread over two years. Everything
runs in child processes (bench/common.py) so the measuring process holds no database state.
"""

import argparse
import os
import random
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


def phase_load(args) -> dict:
    """Customers through the demo generator, then orders, items and payments in bulk."""
    _django()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from guanxi.core.models import OrgUnit, Role, User, UserRole
    from guanxi.customers.demo import generate_customers
    from guanxi.customers.models import Customer
    from guanxi.sales.models import Order, OrderItem, Payment, Product

    started = time.perf_counter()
    hq = OrgUnit.objects.create(name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    user = User.objects.create_user(username="bench", password=common.PASSWORD, org_unit=hq)
    UserRole.objects.create(user=user, role=Role.FINANCE)
    UserRole.objects.create(user=user, role=Role.ADMIN)
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
    cols = {m: [f.column for f in m._meta.concrete_fields] for m in (Order, OrderItem, Payment)}
    tables = {m: m._meta.db_table for m in cols}
    vendor = connection.vendor

    def write(model, rows):
        names = cols[model]
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                with cursor.cursor.copy(
                    f"COPY {tables[model]} ({', '.join(names)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row([row.get(n) for n in names])
            else:
                marks = ", ".join("?" for _ in names)
                cursor.cursor.executemany(
                    f"INSERT INTO {tables[model]} ({', '.join(names)}) VALUES ({marks})",
                    ([row.get(n) for n in names] for row in rows),
                )

    per_customer = args.lines / len(customers)
    order_id = 0
    batch_o, batch_i, batch_p = [], [], []

    def flush():
        write(Order, batch_o)
        write(OrderItem, batch_i)
        write(Payment, batch_p)
        batch_o.clear(), batch_i.clear(), batch_p.clear()

    def fmt(at):
        return at.isoformat(sep=" ") if vendor == "sqlite" else at

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
                at = now - timedelta(seconds=rng.randint(0, 730 * 86400))
                product = favourite if rng.random() < 0.5 else rng.choice(products)
                amount = f"{rng.randint(50, 5000)}.00"
                batch_o.append(
                    {
                        "id": order_id,
                        "customer_id": customer,
                        "number": f"B{order_id:09d}",
                        "status": "delivered",
                        "created_by_id": user.pk,
                        "ship_method": "pickup",
                        "receiver_name": "x",
                        "receiver_phone": "",
                        "address": "",
                        "payer": "x",
                        "total": amount,
                        "paid": amount,
                        "carrier": "",
                        "tracking": "",
                        "received_by": "",
                        "created_at": fmt(at),
                        "delivered_at": fmt(at),
                    }
                )
                batch_i.append(
                    {
                        "id": order_id,
                        "order_id": order_id,
                        "product_id": product,
                        "quantity": 1,
                        "unit_price": amount,
                    }
                )
                batch_p.append(
                    {
                        "id": order_id,
                        "order_id": order_id,
                        "customer_id": customer,
                        "amount": amount,
                        "method": "wechat",
                        "receipt_number": f"R{order_id:09d}",
                        "received_at": fmt(at),
                        "recorded_by_id": user.pk,
                    }
                )
            if len(batch_o) >= 20000:
                flush()
        flush()
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Order, OrderItem, Payment):
                table = tables[model]
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {order_id + 1})"
                )
                cursor.execute(f"ANALYZE {tables[model]}")
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
    product = Product.objects.first()
    pay = []
    for n, cid in enumerate(sample[:120]):
        order = sales.order_create(
            actor=finance,
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
    return out


PHASES = {"load": phase_load, "measure": phase_measure}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--engines", nargs="+", default=["sqlite"])
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
            print(engine, "measured", measured, flush=True)
            n, m = loaded["customers"], loaded["lines"]
            scale = max(1_000_000 / n, 10_000_000 / m)
            print(
                f"{engine}: full recompute {measured['full_s']} s for {n:,} customers / {m:,} "
                f"lines; linear extrapolation to 1,000,000 / 10,000,000: "
                f"{measured['full_s'] * scale:.0f} s; incremental p95 "
                f"{measured['incremental_ms']['p95']} ms; recommendations p95 "
                f"{measured['recommend_ms']['p95']} ms"
            )
        finally:
            if pg is not None:
                pg.stop()
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
