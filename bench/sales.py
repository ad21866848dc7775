"""Benchmark of C4: the sales-control board (销控表) for 5,000 units and the kanban with
50,000 open deals, through the real server.

    .venv/bin/python bench/sales.py                 # the figures in docs/performance.md
    .venv/bin/python bench/sales.py --quick         # a tenth of the data, to try the script
    .venv/bin/python bench/sales.py --postgres postgres://user@127.0.0.1:5432/postgres

A fresh database (SQLite file by default; with --postgres, a database `guanxi_bench_sales`
created, and dropped afterwards, on that server) gets one product sold as 5,000 flats (10
buildings × 25 floors × 20), 200 salespeople in two branches with 2,000 customers, and
50,000 open deals spread over the open stages (lead … contract); deals at a deposit stage
or later hold a flat where one is left, with its status to match. The real server runs
(gunicorn, 2 workers, DEBUG=0, GUANXI_HTTPS=0, after collectstatic); the script logs in
as the Beijing manager (who sees half the deals) and as a salesperson, and requests, one
after the other, the board (full page and the htmx partial it refreshes every 5 s), the
kanban (/sales/), the board's poll when nothing changed (204) and the bare /healthz,
printing p50 / p95 of each and the p95 ratio. Then, because wall-clock times on a
shared machine follow its load, the CPU time each page costs is measured in process.

The data are loaded in a child process pointed at the database by DATABASE_URL;
everything lives in a temporary directory that is removed at the end.
"""

import argparse
import json
import os
import random
import re
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import common
from common import PASSWORD, free_port, log_in, stop_server, summary, wait_until_up

SECRET = "bench-only-" + "s" * 50
BENCH_DB = "guanxi_bench_sales"
WARMUP = 5  # untimed requests before each timed series

# Open stages and their share of the 50,000 deals.
STAGE_WEIGHTS = {
    "lead": 30,
    "needs_confirmed": 20,
    "quoted": 20,
    "small_deposit": 10,
    "large_deposit": 8,
    "subscription": 7,
    "contract": 5,
}
UNIT_STATUS_OF = {
    "small_deposit": "reserved",
    "large_deposit": "reserved",
    "subscription": "subscribed",
    "contract": "signed",
}


def env_for(workdir: Path, database_url: str) -> dict:
    # testserver: the in-process CPU phase uses Django's test client.
    return common.server_env(
        workdir, database_url, SECRET, allowed_hosts="127.0.0.1,localhost,testserver"
    )


def run_phase(phase: str, workdir: Path, database_url: str, **options) -> dict:
    """Run `phase` of this script in a child process; it prints one JSON line."""
    return common.run_phase(__file__, phase, workdir, env_for(workdir, database_url), **options)


# --- the data, loaded inside Django ---------------------------------------------------------


def phase_populate(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.core.models import Role, User, UserRole
    from guanxi.customers.models import Customer
    from guanxi.demo.customers import generate_customers
    from guanxi.demo.management.commands.demo_data import demo_organisation
    from guanxi.sales.models import Deal, InventoryUnit, Product

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    rng = random.Random(4)
    now = timezone.now()
    units_of = demo_organisation()

    people = []
    for n in range(1, args.salespeople + 1):
        user = User(
            username=f"sales{n}",
            display_name=f"销售{n}",
            org_unit=units_of["bj_sales"] if n % 2 else units_of["sh_sales"],
        )
        user.set_unusable_password()
        people.append(user)
    User.objects.bulk_create(people)
    people = list(User.objects.filter(username__startswith="sales").order_by("id"))
    UserRole.objects.bulk_create(UserRole(user=u, role=Role.SALES) for u in people)
    manager = User(username="manager", display_name="王经理", org_unit=units_of["bj"])
    for user in (manager, people[0]):
        user.set_password(PASSWORD)
    manager.save()
    people[0].save(update_fields=["password"])
    UserRole.objects.create(user=manager, role=Role.MANAGER)

    generate_customers(count=args.customers, owners=people, seed=5)
    customers = list(Customer.objects.values_list("id", "owner_id", "name"))

    with transaction.atomic():
        flat = Product.objects.create(
            name="锦绣华庭 三居室",
            sku="JXHT-3R",
            category="住宅",
            list_price=Decimal("2680000.00"),
            has_units=True,
        )
        Product.objects.create(name="车位", sku="PARK", list_price=Decimal("180000.00"))
        buildings = max(1, args.units // 500)
        rows = []
        for b in range(1, buildings + 1):
            for floor in range(25, 0, -1):
                for number in range(1, 21):
                    if len(rows) >= args.units:
                        break
                    rows.append(
                        InventoryUnit(
                            product=flat,
                            code=f"{b}-{floor:02d}{number:02d}",
                            building=str(b),
                            floor=floor,
                            number=f"{floor:02d}{number:02d}",
                            area=Decimal("89.00") + number * 3,
                            list_price=Decimal(2_400_000 + floor * 20_000 + number * 5_000),
                            status=rng.choice(["held"] + ["available"] * 5),
                        )
                    )
        InventoryUnit.objects.bulk_create(rows, batch_size=2000)
        free = list(
            InventoryUnit.objects.filter(status="available").values_list("id", "list_price")
        )
        rng.shuffle(free)
        # Half the available flats go to deals at a deposit stage or later.
        free = free[: len(free) // 2]

        stages = rng.choices(list(STAGE_WEIGHTS), weights=STAGE_WEIGHTS.values(), k=args.deals)
        deals = []
        taken: dict[int, str] = {}
        for n, stage in enumerate(stages):
            customer_id, owner_id, name = rng.choice(customers)
            at = now - timedelta(minutes=rng.randint(1, 365 * 1440))
            unit_id, amount = None, Decimal(rng.randint(100, 5000) * 1000)
            if stage in UNIT_STATUS_OF and free:
                unit_id, amount = free.pop()
                taken[unit_id] = UNIT_STATUS_OF[stage]
            deals.append(
                Deal(
                    customer_id=customer_id,
                    owner_id=owner_id,
                    title=f"{name} · 三居室 #{n}",
                    stage=stage,
                    amount=amount,
                    product=flat,
                    unit_id=unit_id,
                    buyer_name=name,
                    created_at=at,
                    updated_at=at,
                    stage_changed_at=at,
                )
            )
        Deal.objects.bulk_create(deals, batch_size=5000)
        holder = dict(Deal.objects.filter(unit_id__isnull=False).values_list("unit_id", "id"))
        by_status: dict[str, list[int]] = {}
        for unit_id, status in taken.items():
            by_status.setdefault(status, []).append(unit_id)
        for status, ids in by_status.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for unit_id in chunk:
                    InventoryUnit.objects.filter(pk=unit_id).update(
                        status=status, deal_id=holder[unit_id]
                    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    units = dict.fromkeys(InventoryUnit.objects.values_list("status", flat=True).distinct(), 0)
    for status in units:
        units[status] = InventoryUnit.objects.filter(status=status).count()
    from guanxi.sales.models import OPEN_STAGES

    return {
        "seconds": round(time.perf_counter() - started, 1),
        "units": units,
        "open_deals": Deal.objects.filter(stage__in=OPEN_STAGES).count(),
        "customers": len(customers),
        "salespeople": len(people),
        "manager_sees": Deal.objects.visible_to(User.objects.get(username="manager")).count(),
        "salesperson_sees": Deal.objects.visible_to(people[0]).count(),
        "salesperson": people[0].username,
        "product_id": flat.pk,
    }


def phase_cpu(args) -> dict:
    """CPU milliseconds per request, in process (Django's test client, no network): on a
    shared, busy machine the wall-clock figures wander with the load; these do not."""
    import django

    django.setup()
    from django.test import Client

    from guanxi.core.models import User

    results = {}
    for role, username in (("manager", "manager"), ("salesperson", args.salesperson)):
        client = Client()
        client.force_login(User.objects.get(username=username))
        figures = {}
        for name, path, headers, _marker in PAGES:
            extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
            for _ in range(3):
                client.get(path, **extra)
            times = []
            for _ in range(args.requests):
                started = time.process_time()
                response = client.get(path, **extra)
                times.append((time.process_time() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
            figures[name] = summary(times)
        results[role] = figures
    return results


# --- the server and the measurements --------------------------------------------------------


def timed(
    client, path: str, count: int, must_contain: str = "", headers=None, status: int = 200
) -> list[float]:
    """Milliseconds of `count` sequential GETs of `path` (after a warm-up)."""
    return common.timed(client, path, count, must_contain, headers, status, warmup=WARMUP)


PAGES = [
    # name, path, headers, a string the answer must contain
    ("board", "/sales/board/", None, 'data-status="'),
    ("board_partial", "/sales/board/", {"HX-Request": "true"}, 'data-status="'),
    ("kanban", "/sales/", None, "deal-card"),
    ("kanban_partial", "/sales/", {"HX-Request": "true"}, "deal-card"),
]


def measure(port: int, server, username: str, requests: int) -> dict:
    import httpx

    results = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        wait_until_up(client, server)
        log_in(client, username)
        for name, path, headers, marker in PAGES:
            results[name] = summary(timed(client, path, requests, marker, headers))
            size = len(client.get(path, headers=headers).content)
            results[name]["kib"] = round(size / 1024, 1)
        # The board's poll every 5 s, with the version it last saw: 204 while unchanged.
        board = client.get("/sales/board/").text
        poll = re.search(r'id="unit-grid" hx-get="([^"]+)"', board).group(1).replace("&amp;", "&")
        results["board_poll"] = summary(
            timed(client, poll, requests, headers={"HX-Request": "true"}, status=204)
        )
        results["healthz"] = summary(timed(client, "/healthz", requests))
    for name in [*(page[0] for page in PAGES), "board_poll"]:
        results[name]["p95_ratio"] = round(results[name]["p95"] / results["healthz"]["p95"], 1)
    return results


def create_postgres_database(admin_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        conn.execute(f"CREATE DATABASE {BENCH_DB} ENCODING 'UTF8' TEMPLATE template0")
    return admin_url.rsplit("/", 1)[0] + f"/{BENCH_DB}"


def drop_postgres_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", default="")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--salespeople", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--salesperson", default="sales1")  # phase cpu
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres",
        default="",
        help="URL of an existing database on a PostgreSQL server (e.g. …/postgres); "
        f"the bench creates and drops {BENCH_DB} there",
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    if common.serve_phase(args, {"populate": phase_populate, "cpu": phase_cpu}, default=str):
        return

    if args.quick:
        args.units, args.deals, args.customers, args.salespeople = 500, 5_000, 500, 40
        args.requests = 50
    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-sales-"))
    database_url = (
        create_postgres_database(args.postgres)
        if args.postgres
        else f"sqlite:///{workdir / 'sales.sqlite3'}"
    )
    results: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "database": "postgresql" if args.postgres else "sqlite",
    }
    try:
        print(
            f"sales on {results['database']}: {args.units:,} units, {args.deals:,} open deals, "
            f"{args.customers:,} customers of {args.salespeople} salespeople…",
            flush=True,
        )
        data = results["data"] = run_phase(
            "populate",
            workdir,
            database_url,
            units=args.units,
            deals=args.deals,
            customers=args.customers,
            salespeople=args.salespeople,
        )
        print(f"  loaded in {data['seconds']} s: units {data['units']}", flush=True)
        print(
            f"  manager sees {data['manager_sees']:,} deals, "
            f"salesperson {data['salesperson_sees']:,}",
            flush=True,
        )
        port = free_port()
        server = common.start_server(workdir, env_for(workdir, database_url), port, args.workers)
        try:
            for role, username in (("manager", "manager"), ("salesperson", data["salesperson"])):
                results[role] = measure(port, server, username, args.requests)
                print(f"  as {role} ({username}):")
                for name, figures in results[role].items():
                    extra = f"  ratio {figures['p95_ratio']}" if "p95_ratio" in figures else ""
                    print(
                        f"    {name:<15} p50 {figures['p50']:>7} ms  p95 {figures['p95']:>7} ms"
                        f"  max {figures['max']:>7} ms{extra}",
                        flush=True,
                    )
        finally:
            stop_server(server)
        cpu = results["cpu_ms"] = run_phase(
            "cpu",
            workdir,
            database_url,
            requests=min(args.requests, 50),
            salesperson=data["salesperson"],
        )
        print("  CPU per request in process (p50 / p95 ms):")
        for role, figures in cpu.items():
            print(
                f"    {role:<12} "
                + "  ".join(f"{k} {v['p50']}/{v['p95']}" for k, v in figures.items())
            )
        print(json.dumps(results, default=str))
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}; database {database_url}")
        else:
            if args.postgres:
                drop_postgres_database(args.postgres)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
