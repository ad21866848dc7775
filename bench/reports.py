"""Home pages and the pivot at scale (issue 18), measured in process.

    .venv/bin/python bench/reports.py [--customers 1000000] [--order-lines 10000000]
                                      [--database sqlite|postgres]

1. A fresh database in a temporary directory (a SQLite file, or a throwaway PostgreSQL
   cluster from /usr/lib/postgresql/*/bin on a loopback port, stopped at the end).
2. An organisation of two branches (200 salespeople, a branch manager, finance, a
   receptionist, an administrator), N customers from the demo generator, 50 products,
   order lines in orders of three lines spread over the last two years, 50,000 deals over
   the pipeline and 100,000 payments — raw inserts, as a migration of an old system would.
3. Each role's home page requested through Django's test client in this process (the
   server's own time, without the network), 40 times after 5 warm-ups, beside the bare
   /healthz; then the pivot of every order line by branch × month, 5 times from the monthly
   roll-up (rebuilt after the raw inserts, as after a migration) and 5 times by the scan.

Targets (issue 18): every home page p95 <= 100 ms; the pivot <= 1 s.
"""

import argparse
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import PASSWORD, ROOT, ThrowawayPostgres, summary

HOME_P95_MS = 100.0
PIVOT_S = 1.0
BATCH = 20_000


def log(message: str) -> None:
    print(message, flush=True)


def build_organisation(salespeople: int) -> dict:
    from django.contrib.auth.hashers import make_password

    from guanxi.core.models import OrgUnit, Role, User, UserRole

    hq = OrgUnit.objects.create(name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    departments = []
    for name in ("北京分店", "上海分店"):
        branch = OrgUnit.objects.create(name=name, kind=OrgUnit.Kind.BRANCH, parent=hq)
        departments.append(
            OrgUnit.objects.create(
                name=name[:2] + "销售部", kind=OrgUnit.Kind.DEPARTMENT, parent=branch
            )
        )
    password = make_password(PASSWORD)
    users = [
        User(
            username=f"sales{i + 1:03d}",
            display_name=f"销售{i + 1:03d}",
            org_unit=departments[i * 2 // salespeople],
            password=password,
        )
        for i in range(salespeople)
    ]
    bj = departments[0].parent
    staff = {
        "manager": (bj, Role.MANAGER),
        "finance": (bj, Role.FINANCE),
        "reception": (bj, Role.RECEPTIONIST),
        "admin": (hq, Role.ADMIN),
    }
    User.objects.bulk_create(
        [*users, *(User(username=n, org_unit=u, password=password) for n, (u, _r) in staff.items())]
    )
    people = list(User.objects.filter(username__startswith="sales").order_by("id"))
    UserRole.objects.bulk_create(
        [UserRole(user=u, role=Role.SALES) for u in people]
        + [UserRole(user=User.objects.get(username=n), role=r) for n, (_u, r) in staff.items()]
    )
    return {"people": people, **{n: User.objects.get(username=n) for n in staff}}


def insert(model, rows: list[dict]) -> None:
    """Raw multi-row inserts of the model's columns (defaults for the unnamed ones)."""
    from django.db import connection, transaction

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    defaults = {f.column: f.get_db_prep_save(f.get_default(), connection) for f in fields}
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(
                sql,
                [[row.get(c, defaults[c]) for c in columns] for row in rows[start : start + BATCH]],
            )


def load_sales(*, people: list, order_lines: int, seed: int = 11) -> dict:
    """Products, orders with three lines each, deals and payments, as raw rows."""
    from django.db import connection

    from guanxi.customers.models import Customer
    from guanxi.sales.models import Deal, Order, OrderItem, Payment, Product

    rng = random.Random(seed)
    Product.objects.bulk_create(
        Product(name=f"产品{i:02d}", sku=f"P{i:02d}", list_price=Decimal(100 + i * 37))
        for i in range(50)
    )
    products = list(Product.objects.values_list("id", "list_price"))
    customers = list(Customer.objects.values_list("id", flat=True))
    now = datetime.now(UTC)
    orders = order_lines // 3
    started = time.perf_counter()
    first = (Order.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    for chunk in range(0, orders, BATCH * 5):
        count = min(BATCH * 5, orders - chunk)
        order_rows, item_rows = [], []
        for n in range(count):
            number = chunk + n
            lines = [rng.choice(products) for _ in range(3)]
            total = sum(price for _pid, price in lines)
            order_rows.append(
                {
                    "customer_id": rng.choice(customers),
                    "number": f"SO{number:09d}",
                    "status": "delivered",
                    "created_by_id": people[number % len(people)].pk,
                    "ship_method": "pickup",
                    "receiver_name": "客户",
                    "payer": "客户",
                    "total": total,
                    "paid": total,
                    "created_at": now - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)),
                }
            )
            item_rows.extend(
                {"order_id": first + number, "product_id": pid, "quantity": 1, "unit_price": p}
                for pid, p in lines
            )
        insert(Order, order_rows)
        insert(OrderItem, item_rows)
    log(f"{orders:,} orders, {orders * 3:,} order lines in {time.perf_counter() - started:.1f} s")
    deal_rows = []
    stages = ["lead", "needs_confirmed", "quoted", "small_deposit", "large_deposit", "contract"]
    for n in range(50_000):
        owner = people[n % len(people)]
        deal_rows.append(
            {
                "customer_id": rng.choice(customers),
                "owner_id": owner.pk,
                "title": f"商机{n}",
                "stage": stages[n % len(stages)],
                "amount": Decimal(rng.randrange(10_000, 3_000_000)),
                "created_at": now - timedelta(days=rng.randrange(0, 365)),
                "updated_at": now,
                "stage_changed_at": now,
            }
        )
    insert(Deal, deal_rows)
    deals = list(Deal.objects.values_list("id", "customer_id"))
    payment_rows = [
        {
            "deal_id": deal_id,
            "customer_id": customer_id,
            "amount": Decimal(rng.randrange(1_000, 500_000)),
            "method": "bank",
            "receipt_number": f"RB{n:09d}",
            "received_at": now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60)),
            "recorded_by_id": people[0].pk,
        }
        for n, (deal_id, customer_id) in enumerate(rng.choices(deals, k=100_000))
    ]
    insert(Payment, payment_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"orders": orders, "order_lines": orders * 3}


def measure_homes(users: dict, runs: int = 40, warmup: int = 5) -> dict:
    from django.test import Client

    figures = {}
    targets = {
        "healthz (bare)": (users["admin"], "/healthz"),
        "salesperson": (users["people"][0], "/"),
        "manager": (users["manager"], "/"),
        "finance": (users["finance"], "/"),
        "receptionist": (users["reception"], "/"),
        "admin": (users["admin"], "/"),
    }
    for name, (user, url) in targets.items():
        client = Client()
        client.force_login(user)
        for _ in range(warmup):
            assert client.get(url).status_code == 200, (name, url)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        figures[name] = summary(times)
        log(f"  {name:16} p50 {figures[name]['p50']:7.1f} ms   p95 {figures[name]['p95']:7.1f} ms")
    return figures


def measure_panels(users: dict, runs: int = 5) -> dict:
    """Each panel's own time for the roles that see it: where a slow home page spends it."""
    from guanxi.core.home import home_panels_for

    figures = {}
    for role in ("manager", "finance", "admin"):
        for panel, _context in home_panels_for(users[role]):
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                panel.context(users[role])
                times.append((time.perf_counter() - started) * 1000)
            figures[f"{role}/{panel.name}"] = round(min(times), 1)
    log("  panels (best of 5, ms): " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return figures


def measure_pivot(manager, runs: int = 5) -> dict:
    from guanxi.reports.pivot import PivotSpec, pivot_compute

    spec = PivotSpec("order_lines", rows="branch", columns="month", measure="amount")
    figures = {}
    for path, summary_first in (("roll-up", True), ("scan", False)):
        times, cells = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            result = pivot_compute(viewer=manager, spec=spec, summary_first=summary_first)
            times.append(time.perf_counter() - started)
            cells = len(result.rows) * len(result.columns)
        log(f"  pivot order lines by branch × month ({path}): best {min(times):.3f} s, "
            f"worst {max(times):.3f} s ({cells} cells)")  # fmt: skip
        figures[path] = {"best_s": round(min(times), 3), "worst_s": round(max(times), 3)}
    return {**figures["roll-up"], "scan": figures["scan"], "cells": cells}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--order-lines", type=int, default=10_000_000)
    parser.add_argument("--salespeople", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-reports-"))
    postgres = (
        ThrowawayPostgres(workdir, shared_buffers="512MB") if args.database == "postgres" else None
    )
    (workdir / "var").mkdir()
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "guanxi.settings",
                "GUANXI_VAR_DIR": str(workdir / "var"),
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DEBUG": "0",
                "GUANXI_HTTPS": "0",
                "ALLOWED_HOSTS": "testserver,127.0.0.1",
            }
        )
        os.environ.pop("DATABASE_URL", None)
        if postgres:
            os.environ["DATABASE_URL"] = postgres.start()
        sys.path.insert(0, str(ROOT / "src"))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import override_settings

        from guanxi.demo.customers import generate_customers

        call_command("migrate", verbosity=0)
        users = build_organisation(args.salespeople)
        started = time.perf_counter()
        generate_customers(count=args.customers, owners=users["people"])
        log(f"{args.customers:,} customers in {time.perf_counter() - started:.1f} s")
        data = load_sales(people=users["people"], order_lines=args.order_lines)
        from guanxi.reports.rollup import rebuild

        started = time.perf_counter()
        rows = rebuild()
        data["rollup_rebuild_s"] = round(time.perf_counter() - started, 1)
        log(f"Order-line roll-up rebuilt ({rows:,} rows) in {data['rollup_rebuild_s']} s")
        load = os.getloadavg()
        log(f"Load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; home pages:")
        storages = {
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        }
        with override_settings(
            SECURE_SSL_REDIRECT=False, STORAGES={**django.conf.settings.STORAGES, **storages}
        ):
            homes = measure_homes(users)
            panels = measure_panels(users)
            pivot = measure_pivot(users["manager"])
        worst = max(v["p95"] for k, v in homes.items() if k != "healthz (bare)")
        bare = homes["healthz (bare)"]["p95"]
        log(
            f"Worst home p95 {worst:.1f} ms ({worst / bare:.1f}× the bare endpoint; target "
            f"{HOME_P95_MS:.0f} ms); pivot {pivot['worst_s']:.2f} s (target {PIVOT_S:.0f} s)"
        )
        record = {"customers": args.customers, **data, "database": args.database}
        print(
            json.dumps({**record, "homes": homes, "panels": panels, "pivot": pivot, "load": load})
        )
    finally:
        if postgres:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
