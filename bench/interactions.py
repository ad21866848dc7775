"""Benchmark of C2: "my day" under load, and the due-reminder scan over a million customers.

    .venv/bin/python bench/interactions.py            # the figures in docs/performance.md
    .venv/bin/python bench/interactions.py --quick    # a smaller run to try the script

1. "My day": a fresh SQLite database with one salesperson who owns 5,000 customers (among
   20,000 of other salespeople), 200,000 interactions on them, 40,000 promises, important
   dates and notifications. The real server runs (gunicorn, DEBUG=0, GUANXI_HTTPS=0, after
   collectstatic); the script logs in and requests /my-day/ and the bare /healthz, one after
   the other, and prints p50 / p95 of each and the ratio.
2. The reminder scan: a second database with 1,000,000 customers (guanxi.demo.customers)
   over 40 salespeople and 100,000 promises; `scan_due_reminders_now` is timed twice — the
   first run notifies, the second finds everything already notified (idempotent).

Each phase that touches a database runs in its own process, pointed at its own file by
DATABASE_URL; everything lives in a temporary directory that is removed at the end.
"""

import argparse
import json
import os
import platform
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common
from common import (
    PASSWORD,
    children,
    cpu_seconds,
    free_port,
    log_in,
    stop_server,
    summary,
    timed,
    wait_until_up,
)

SECRET = "bench-only-" + "k" * 50
WARMUP = 10  # untimed requests before each timed series

KINDS = ["call_out"] * 5 + ["call_in"] * 2 + ["visit", "wechat", "wechat", "sms", "email", "note"]
OUTCOMES = ["answered", "answered", "no_answer", "call_back"]


def env_for(workdir: Path, db: Path) -> dict:
    return common.server_env(workdir, f"sqlite:///{db}", SECRET)


def run_phase(phase: str, workdir: Path, db: Path, **options) -> dict:
    """Run `phase` of this script in a child process on `db`; it prints one JSON line."""
    return common.run_phase(__file__, phase, workdir, env_for(workdir, db), **options)


# --- phases run inside Django -------------------------------------------------------------


def _setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _salespeople(count: int, password: str | None = None) -> list:
    """`count` salespeople spread over the demo organisation's two sales departments."""
    from guanxi.core.models import Role, User, UserRole
    from guanxi.demo.management.commands.demo_data import demo_organisation

    units = demo_organisation()
    people = []
    for n in range(1, count + 1):
        unit = units["bj_sales"] if n % 2 else units["sh_sales"]
        user = User(username=f"sales{n}", display_name=f"销售{n}", org_unit=unit)
        if n == 1 and password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        people.append(user)
    User.objects.bulk_create(people)
    people = list(User.objects.filter(username__startswith="sales").order_by("id"))
    UserRole.objects.bulk_create(UserRole(user=u, role=Role.SALES) for u in people)
    return people


def _db_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat(" ")


def _insert(table: str, columns: list[str], rows) -> None:
    from django.db import connection

    marks = ", ".join("?" * len(columns))
    connection.connection.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
    )


def _promises(rng, customer_ids, owners_of, count: int, now: datetime, first_id: int = 1) -> None:
    """`count` promises on random customers, due from 60 days ago to 60 days ahead; those
    due in the past are mostly kept."""
    today = now.date()
    rows = []
    for pk in range(first_id, first_id + count):
        customer = rng.choice(customer_ids)
        due = today + timedelta(days=rng.randint(-60, 60))
        made = now - timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 1440))
        kept = due < today and rng.random() < 0.7
        done_at = _db_time(made + timedelta(days=rng.randint(0, 10))) if kept else None
        rows.append(
            (
                pk,
                customer,
                None,
                owners_of[customer],
                f"承诺 #{pk}: 发送报价单",
                due.isoformat(),
                done_at,
                owners_of[customer] if kept else None,
                _db_time(made),
            )
        )
    _insert(
        "interactions_promise",
        [
            "id",
            "customer_id",
            "interaction_id",
            "made_by_id",
            "text",
            "due_date",
            "done_at",
            "done_by_id",
            "created_at",
        ],
        rows,
    )


def phase_populate_my_day(args) -> dict:
    _setup_django()
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers.models import Customer
    from guanxi.demo.customers import generate_customers
    from guanxi.interactions.models import Plan
    from guanxi.interactions.tasks import scan_due_reminders_now

    rng = random.Random(11)
    now = timezone.now()
    started = time.perf_counter()
    people = _salespeople(5, PASSWORD)
    me, others = people[0], people[1:]
    generate_customers(count=args.mine, owners=[me], seed=1)
    generate_customers(count=args.others, owners=others, seed=2)
    owners_of = dict(Customer.objects.values_list("id", "owner_id"))
    mine = [pk for pk, owner in owners_of.items() if owner == me.id]
    everyone = list(owners_of)

    with transaction.atomic():
        raw = connection.connection
        raw.execute("PRAGMA cache_size=-524288")
        # Interactions: all on the salesperson's customers, over the last two years.
        rows = []
        for pk in range(1, args.interactions + 1):
            kind = rng.choice(KINDS)
            at = now - timedelta(minutes=rng.randint(1, 2 * 365 * 1440))
            rows.append(
                (
                    pk,
                    rng.choice(mine),
                    me.id,
                    kind,
                    _db_time(at),
                    rng.choice(OUTCOMES) if kind in ("call_in", "call_out") else "",
                    "客户对新款感兴趣，询问以旧换新价格和交付时间。",
                    "",
                    _db_time(at),
                )
            )
        _insert(
            "interactions_interaction",
            [
                "id",
                "customer_id",
                "actor_id",
                "kind",
                "occurred_at",
                "outcome",
                "summary",
                "next_step",
                "created_at",
            ],
            rows,
        )
        raw.execute(
            "UPDATE customers_customer SET last_contact_at = (SELECT MAX(occurred_at) FROM "
            "interactions_interaction i WHERE i.customer_id = customers_customer.id) "
            "WHERE owner_id = ?",
            (me.id,),
        )
        half = args.promises // 2
        _promises(rng, mine, owners_of, half, now)
        rest = [pk for pk in everyone if owners_of[pk] != me.id]
        _promises(rng, rest, owners_of, args.promises - half, now, first_id=half + 1)
        dates = [
            (
                pk,
                rng.choice(mine),
                "anniversary",
                "结婚纪念日",
                (datetime(2000, 1, 1) + timedelta(days=rng.randint(0, 9000))).date().isoformat(),
                1,
            )
            for pk in range(1, args.mine // 2 + 1)
        ]
        _insert(
            "customers_importantdate",
            ["id", "customer_id", "kind", "label", "date", "yearly"],
            dates,
        )
        Plan.objects.create(user=me, kind="morning", date=timezone.localdate(), text="先打逾期的")
    scan_due_reminders_now()
    connection.connection.execute("ANALYZE")
    return {
        "salesperson": me.username,
        "customers_mine": len(mine),
        "customers_total": len(everyone),
        "interactions": args.interactions,
        "promises": args.promises,
        "seconds": round(time.perf_counter() - started, 1),
        "overdue_mine": Customer.objects.filter(
            owner=me, next_follow_up_at__lt=timezone.now()
        ).count(),
    }


def phase_scan(args) -> dict:
    _setup_django()
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers.models import Customer
    from guanxi.demo.customers import generate_customers
    from guanxi.interactions.models import Notification
    from guanxi.interactions.tasks import scan_due_reminders_now

    people = _salespeople(args.salespeople)
    started = time.perf_counter()
    generate_customers(count=args.customers, owners=people, seed=3)
    generated = time.perf_counter() - started
    owners_of = dict(Customer.objects.values_list("id", "owner_id"))
    with transaction.atomic():
        _promises(random.Random(5), list(owners_of), owners_of, args.promises, timezone.now())
    connection.connection.execute("ANALYZE")
    del owners_of

    timings = []
    for _ in range(2):
        started = time.perf_counter()
        result = scan_due_reminders_now()
        timings.append(round(time.perf_counter() - started, 2))
        result["notifications"] = Notification.objects.count()
        timings.append(result)
    return {
        "customers": args.customers,
        "salespeople": args.salespeople,
        "promises": args.promises,
        "generate_seconds": round(generated, 1),
        "first_run_seconds": timings[0],
        "first_run": timings[1],
        "second_run_seconds": timings[2],
        "second_run": timings[3],
    }


# --- the server and the measurements ------------------------------------------------------


def workers_cpu_seconds(master_pid: int) -> float:
    """User + system CPU seconds of the gunicorn workers (the children of the master)."""
    return sum(map(cpu_seconds, children(master_pid)))


def machine() -> dict:
    import sqlite3

    cpu = common.cpu_model() or platform.processor()
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_before": [round(x, 1) for x in os.getloadavg()],
    }


def wait_for_quiet(max_load: float, patience: int = 600) -> None:
    """On a shared machine, wait (up to `patience` seconds) until the 1-minute load average
    is at most `max_load`: the latencies measure this server, not its neighbours."""
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        time.sleep(10)


def bench_my_day(workdir: Path, args) -> dict:
    import httpx

    db = workdir / "my_day.sqlite3"
    print(
        f"my day: {args.mine:,} customers of one salesperson (+{args.others:,} of others), "
        f"{args.interactions:,} interactions, {args.promises:,} promises…",
        flush=True,
    )
    data = run_phase(
        "populate-my-day",
        workdir,
        db,
        mine=args.mine,
        others=args.others,
        interactions=args.interactions,
        promises=args.promises,
    )
    print(f"  loaded in {data['seconds']} s; {data['overdue_mine']} follow-ups overdue", flush=True)
    port = free_port()
    server = common.start_server(workdir, env_for(workdir, db), port, args.workers)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            wait_until_up(client, server)
            log_in(client, data["salesperson"])
            if args.max_load:
                wait_for_quiet(args.max_load)
            load = [round(x, 1) for x in os.getloadavg()]
            cpu_before = workers_cpu_seconds(server.pid)
            my_day = timed(
                client, "/my-day/", args.requests, must_contain='id="overdue"', warmup=WARMUP
            )
            cpu_my_day = workers_cpu_seconds(server.pid) - cpu_before
            healthz = timed(client, "/healthz", args.requests, warmup=WARMUP)
    finally:
        stop_server(server)
    result = {"data": data, "my_day_ms": summary(my_day), "healthz_ms": summary(healthz)}
    result["load_when_measuring"] = load
    # Server CPU per request (warm-up included): what the page costs, whatever else runs.
    result["my_day_cpu_ms"] = round(cpu_my_day * 1000 / (args.requests + WARMUP), 1)
    result["p95_ratio"] = round(result["my_day_ms"]["p95"] / result["healthz_ms"]["p95"], 1)
    return result


def bench_scan(workdir: Path, args) -> dict:
    print(
        f"reminder scan: {args.scan_customers:,} customers, {args.scan_promises:,} promises…",
        flush=True,
    )
    return run_phase(
        "scan",
        workdir,
        workdir / "scan.sqlite3",
        customers=args.scan_customers,
        salespeople=40,
        promises=args.scan_promises,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", default="")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--mine", type=int, default=5_000)
    parser.add_argument("--others", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--promises", type=int, default=40_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scan-customers", type=int, default=1_000_000)
    parser.add_argument("--scan-promises", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=0)  # phase scan
    parser.add_argument("--salespeople", type=int, default=40)  # phase scan
    parser.add_argument(
        "--max-load",
        type=float,
        default=0,
        help="first wait (up to 10 min) for the 1-minute load average to drop to this",
    )
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--skip-my-day", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    phases = {"populate-my-day": phase_populate_my_day, "scan": phase_scan}
    if common.serve_phase(args, phases, default=str):
        return

    if args.quick:
        args.mine, args.others, args.interactions = 500, 2_000, 20_000
        args.promises, args.scan_customers, args.scan_promises = 4_000, 100_000, 10_000
        args.requests = 100
    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-"))
    results: dict = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": machine()}
    try:
        if not args.skip_my_day:
            results["my_day"] = bench_my_day(workdir, args)
            m, h = results["my_day"]["my_day_ms"], results["my_day"]["healthz_ms"]
            print(f"  load average when measuring: {results['my_day']['load_when_measuring']}")
            print(f"  /my-day/  p50 {m['p50']} ms  p95 {m['p95']} ms  max {m['max']} ms")
            print(f"  /healthz  p50 {h['p50']} ms  p95 {h['p95']} ms  max {h['max']} ms")
            print(f"  ratio of p95: {results['my_day']['p95_ratio']}  (budget: p95 ≤ 50 ms)")
            print(f"  server CPU per /my-day/: {results['my_day']['my_day_cpu_ms']} ms")
        if not args.skip_scan:
            scan = results["scan"] = bench_scan(workdir, args)
            print(f"  generated in {scan['generate_seconds']} s")
            print(f"  first scan  {scan['first_run_seconds']} s  {scan['first_run']}")
            print(f"  second scan {scan['second_run_seconds']} s  {scan['second_run']}")
            print("  (budget: ≤ 10 s)")
        results["machine"]["load_after"] = [round(x, 1) for x in os.getloadavg()]
        print(json.dumps(results, default=str))
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
