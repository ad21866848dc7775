"""Benchmark of C5: the agent's queue and the SLA scan with many tickets, through the real
server.

    .venv/bin/python bench/service.py                    # 1,000,000 tickets, 200,000 open
    .venv/bin/python bench/service.py --tickets 20000 --requests 50 --due 200  # a quick check
    .venv/bin/python bench/service.py --postgres         # a throwaway PostgreSQL cluster
    .venv/bin/python bench/service.py --database-url postgres://u@host/empty_db
    DATABASE_URL=postgres://u@host/empty_db .venv/bin/python bench/service.py

The database (SQLite in a temporary directory unless --database-url or DATABASE_URL names
an EMPTY one; the script refuses a database with tickets) gets two branches (five service
departments each, the agents in them), 20,000 customers and N tickets (a fifth open; each
with its SLA deadlines, its queue order `due_at`, its next scan time and a status-log row,
as the services store them) by raw bulk inserts: executemany on the sqlite3 connection with
the plain indexes built once at the end, COPY on PostgreSQL.

It prints the query plans of the agent's queue (first page, a keyset page, the "all
statuses" and "late only" filters) and of the SLA scan's batch query, and times the queue's
selector in-process. Then the real server runs (gunicorn, 2 workers, DEBUG=0); the script
logs in as a Beijing service agent (who sees half the tickets) and requests the queue page
(/service/, most urgent first), its second keyset page, the JSON queue and the bare
/healthz, printing p50 / p95 and the ratio to /healthz. Then the SLA scan runs in a child
process with `--due` tickets whose warning or breach is due (the others are not read: the
scan walks a partial index), and a second scan right after it (nothing left to do:
idempotent); it prints the scan's wall time and its CPU time (time.process_time of the
child), the steadier figure on a shared machine.

    .venv/bin/python bench/service.py --tickets 20000 --due 1241 --customers 2000 --scan-only

loads a small table with the full run's number of due tickets and times only the scan (no
query plans, no server): the scan's cost follows the due tickets, not the table. With
BENCH_PROFILE=1 the scan phase prints its cProfile statistics to stderr.
"""

import argparse
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import common
from common import PASSWORD, free_port, log_in, percentile, stop_server

SECRET = "bench-only-" + "s" * 50
BATCH = 20000


def _summary(values):
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}


def _setup(args):
    """Org, agents, calendar and customers through the ORM (small), the ids the tickets use."""
    from django.core.management import call_command

    from guanxi.core.calendar import default_calendar
    from guanxi.core.models import (
        BusinessCalendar,
        CalendarDay,
        OrgUnit,
        Role,
        User,
        UserRole,
        WorkingWindow,
    )
    from guanxi.customers.models import Customer
    from guanxi.demo.customers import generate_customers
    from guanxi.service.models import Ticket

    call_command("migrate", verbosity=0)
    if Ticket.objects.exists() or User.objects.filter(username="agent").exists():
        raise SystemExit("the database is not empty: give the benchmark one it may fill")
    # Round the clock, every day: the scan then does its full work whenever the benchmark
    # runs (outside working hours it would only postpone each ticket to the next window).
    calendar = default_calendar()
    WorkingWindow.objects.filter(calendar=calendar).delete()
    WorkingWindow.objects.bulk_create(
        WorkingWindow(calendar=calendar, weekday=d, starts=dt_time(0), ends=dt_time(23, 59, 59))
        for d in range(7)
    )
    CalendarDay.objects.filter(calendar=calendar).delete()
    BusinessCalendar.objects.filter(pk=calendar.pk).update(version="bench")
    hq = OrgUnit.objects.create(name="总部", kind="head_office")
    branches = [OrgUnit.objects.create(name=n, kind="branch", parent=hq) for n in ("北京", "上海")]
    departments = {
        b.pk: [
            OrgUnit.objects.create(name=f"{b.name}客服{i}", kind="department", parent=b)
            for i in range(5)
        ]
        for b in branches
    }
    owners = []
    for b in branches:
        sales = OrgUnit.objects.create(name=f"{b.name}销售", kind="department", parent=b)
        for i in range(10):
            user = User.objects.create_user(f"sales{b.pk}_{i}", password=PASSWORD, org_unit=sales)
            UserRole.objects.create(user=user, role=Role.SALES)
            owners.append(user)
    agents = {}
    for b in branches:
        for dept in departments[b.pk]:
            for i in range(4):
                user = User.objects.create_user(
                    f"agent{dept.pk}_{i}", password=PASSWORD, org_unit=dept
                )
                UserRole.objects.create(user=user, role=Role.SERVICE)
                agents.setdefault(b.pk, []).append(user.pk)
    User.objects.filter(pk=agents[branches[0].pk][0]).update(username="agent")
    generate_customers(count=args.customers, owners=owners)
    branch_of = {u.pk: u.branch().pk for u in OrgUnit.objects.filter(kind="department")}
    customers = [
        (pk, branch_of.get(unit, branches[0].pk))
        for pk, unit in Customer.objects.values_list("id", "org_unit_id")
    ]
    return branches, departments, agents, customers


TICKET_COLUMNS = [
    "id",
    "customer_id",
    "org_unit_id",
    "type",
    "channel",
    "priority",
    "subject",
    "description",
    "product_id",
    "order_ref",
    "contact_name",
    "contact_phone",
    "contact_email",
    "status",
    "assignee_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
    "resolution",
    "response_due_at",
    "resolution_due_at",
    "response_breached",
    "resolution_breached",
    "due_at",
    "sla_check_at",
]
LOG_COLUMNS = ["id", "ticket_id", "at", "from_status", "to_status", "actor_id", "note"]


def phase_load(args) -> dict:
    """N tickets and their first status-log rows by raw bulk inserts (executemany on the
    sqlite3 connection with the plain indexes built once at the end; COPY on PostgreSQL),
    each with its stored SLA deadlines, queue order and next scan time as the services store
    them. A fifth open; `--due` of the open ones have a warning or breach due now."""
    import django

    django.setup()
    from django.db import connection, transaction

    from guanxi.core.bulkload import deferred_indexes, load_cache
    from guanxi.service.models import NO_DEADLINE, Ticket, TicketStatusLog

    started = time.perf_counter()
    _branches, departments, agents, customers = _setup(args)
    setup_s = time.perf_counter() - started
    vendor = connection.vendor
    tables = (Ticket._meta.db_table, TicketStatusLog._meta.db_table)
    for model, columns in ((Ticket, TICKET_COLUMNS), (TicketStatusLog, LOG_COLUMNS)):
        assert set(columns) == {f.column for f in model._meta.concrete_fields}, model

    if vendor == "sqlite":

        def stamp(at):  # as Django's SQLite backend stores an aware datetime: UTC, naive
            return None if at is None else str(at.astimezone(UTC).replace(tzinfo=None))

        def write(table, columns, rows):
            marks = ", ".join("?" for _ in columns)
            connection.connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
            )
    else:

        def stamp(at):
            return at

        def write(table, columns, rows):
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)

    rng = random.Random(3)
    now = datetime.now(UTC)
    no_deadline = stamp(NO_DEADLINE)
    open_share = args.open / args.tickets
    due_left = args.due
    statuses_open = ["new", "assigned", "in_progress", "waiting"]
    types = ["complaint", "repair", "inquiry", "request"]
    priorities = ["low", "normal", "normal", "high", "urgent"]
    made = 0
    insert_started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stack.enter_context(transaction.atomic())
        if vendor == "sqlite":
            stack.enter_context(load_cache())
            stack.enter_context(deferred_indexes(tables, loaded_columns=TICKET_COLUMNS))
        while made < args.tickets:
            rows, logs = [], []
            for _ in range(min(BATCH, args.tickets - made)):
                made += 1
                customer_id, branch = rng.choice(customers)
                dept = rng.choice(departments[branch]).pk
                created = now - timedelta(minutes=rng.randint(10, 60 * 24 * 365))
                is_open = rng.random() < open_share
                status = (
                    rng.choice(statuses_open) if is_open else rng.choice(["resolved", "closed"])
                )
                running = is_open and status != "waiting"
                due = created + timedelta(hours=rng.randint(8, 72))
                check = None
                if running:
                    if due_left > 0:
                        check, due_left = now - timedelta(minutes=1), due_left - 1
                        due = max(due, now + timedelta(hours=1))
                    else:
                        due = now + timedelta(minutes=rng.randint(60, 60 * 24 * 30))
                        check = due - timedelta(hours=2)
                responded = status not in ("new", "assigned")
                resolved = None if is_open else created + timedelta(hours=5)
                rows.append(
                    (
                        made,
                        customer_id,
                        dept,
                        rng.choice(types),
                        "phone",
                        rng.choice(priorities),
                        f"工单 {made}",
                        "",
                        None,
                        "",
                        "",
                        "",
                        "",
                        status,
                        rng.choice(agents[branch]) if status != "new" else None,
                        None,
                        stamp(created),
                        stamp(created),
                        stamp(created + timedelta(hours=1)) if responded else None,
                        stamp(resolved),
                        stamp(resolved) if status == "closed" else None,
                        0,
                        "",
                        stamp(due) if running else None,
                        stamp(due) if running else None,
                        False,
                        False,
                        stamp(due) if running else no_deadline,
                        stamp(check),
                    )
                )
                logs.append((made, made, stamp(created), "", "new", None, ""))
            write(tables[0], TICKET_COLUMNS, rows)
            write(tables[1], LOG_COLUMNS, logs)
    insert_s = time.perf_counter() - insert_started
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )
        cursor.execute("ANALYZE")
    return {
        "tickets": made,
        "seconds": round(time.perf_counter() - started, 1),
        "setup_s": round(setup_s, 1),
        "insert_s": round(insert_s, 1),
    }


def _agent():
    from guanxi.core.models import User

    return User.objects.get(username="agent")


def phase_plans(args) -> dict:
    """The query plans of the agent's queue (first page and a keyset page) and of the SLA
    scan's batch query, and the queue's selector timed in-process (no HTTP, no template)."""
    import django

    django.setup()
    from django.utils import timezone

    from guanxi.service.selectors import TicketFilter, queue_page_queryset, ticket_list
    from guanxi.service.services import sla_due_batch_queryset

    agent = _agent()
    now = timezone.now()
    filters = TicketFilter()
    first = ticket_list(viewer=agent, filters=filters)
    plans = {
        "queue": queue_page_queryset(viewer=agent, filters=filters).explain(),
        "queue page 2": queue_page_queryset(
            viewer=agent, filters=filters, cursor=first.next_cursor
        ).explain(),
        "queue, all statuses": queue_page_queryset(
            viewer=agent, filters=TicketFilter(status="all")
        ).explain(),
        "queue, late only": queue_page_queryset(
            viewer=agent, filters=TicketFilter(breached=True)
        ).explain(),
        "SLA scan batch": sla_due_batch_queryset(now=now).explain(),
        "SLA scan next batch": sla_due_batch_queryset(
            now=now, after=(now - timedelta(hours=1), 1)
        ).explain(),
    }
    times = {"selector page 1": [], "selector page 2": []}
    for _ in range(args.requests + 5):
        for name, cursor in (("selector page 1", ""), ("selector page 2", first.next_cursor)):
            started = time.perf_counter()
            ticket_list(viewer=agent, filters=filters, cursor=cursor)
            times[name].append((time.perf_counter() - started) * 1000)
    return {
        "plans": plans,
        "times": {name: values[5:] for name, values in times.items()},
    }


def phase_scan(args) -> dict:
    import django

    django.setup()
    from guanxi.service.services import sla_scan

    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu_started = time.perf_counter(), time.process_time()
    first = sla_scan()
    first_s = time.perf_counter() - started
    first_cpu = time.process_time() - cpu_started
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(25)
    started = time.perf_counter()
    second = sla_scan()
    return {
        "first": first,
        "first_s": round(first_s, 2),
        "first_cpu_s": round(first_cpu, 2),
        "second": second,
        "second_s": round(time.perf_counter() - started, 2),
    }


def _database(args, workdir: Path):
    """(url, engine name, throwaway cluster or None): --database-url, else DATABASE_URL, else
    --postgres (a throwaway cluster), else SQLite in the work directory."""
    url = args.database_url or os.environ.get("DATABASE_URL", "")
    if url:
        return url, "PostgreSQL" if url.startswith("postgres") else "SQLite", None
    if args.postgres:
        pg = common.ThrowawayPostgres(workdir, shared_buffers="256MB")
        return pg.start(), "PostgreSQL", pg
    return f"sqlite:///{workdir / 'bench.sqlite3'}", "SQLite", None


def _wait_until_up(client, server, seconds: int = 180) -> None:
    """/healthz answers 200; a loaded machine may take longer than common's 30 s."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited; see gunicorn.log in the work directory")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except Exception:  # not listening yet
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer within {seconds} s")


def _plans_and_pages(workdir, env, options, n):
    """The query plans and the selector times (a child phase), then the pages through the
    real server: {name: milliseconds} per URL."""
    import httpx

    plans = common.run_phase(__file__, "plans", workdir, env, **options)
    for name, plan in plans["plans"].items():
        print(f"\nplan of the {name} query:\n  " + plan.replace("\n", "\n  "))
    port = free_port()
    server = common.start_server(workdir, env, port, workers=2)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        _wait_until_up(client, server)
        log_in(client, "agent")
        queue = common.timed(client, "/service/", n, "ticket-row", warmup=5)
        first = client.get("/api/v1/service/tickets").json()
        second_path = f"/service/?cursor={first['next_cursor']}"
        page2 = common.timed(client, second_path, n, "ticket-row", warmup=5)
        api = common.timed(client, "/api/v1/service/tickets", n, "items", warmup=5)
        bare = common.timed(client, "/healthz", n, "ok", warmup=5)
    finally:
        stop_server(server)
    return plans, {
        "queue /service/": queue,
        "queue page 2": page2,
        "API queue": api,
        "/healthz": bare,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=None, help="default: a fifth")
    parser.add_argument("--due", type=int, default=1000, help="open tickets the scan acts on")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--postgres", action="store_true", help="a throwaway cluster")
    parser.add_argument(
        "--database-url",
        default="",
        help="an EMPTY database the run may fill (else DATABASE_URL, else a temporary one)",
    )
    parser.add_argument(
        "--scan-only",
        action="store_true",
        help="load, then only the SLA scan (no query plans, no server): for profiling it",
    )
    parser.add_argument("--phase")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if args.open is None:
        args.open = args.tickets // 5
    phases = {"load": phase_load, "plans": phase_plans, "scan": phase_scan}
    if common.serve_phase(args, phases):
        return

    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-service-"))
    pg = None
    try:
        url, engine, pg = _database(args, workdir)
        env = common.server_env(workdir, url, SECRET, src_on_path=True)
        env["SLA_SCAN_SECONDS"] = "0"
        options = {
            "tickets": args.tickets,
            "open": args.open,
            "due": args.due,
            "customers": args.customers,
            "requests": args.requests,
        }
        load = common.run_phase(__file__, "load", workdir, env, **options)
        print(
            f"loaded {load['tickets']:,} tickets in {load['seconds']} s "
            f"(org and customers {load['setup_s']} s, raw ticket inserts and their indexes "
            f"{load['insert_s']} s)",
            flush=True,
        )
        plans: dict = {"plans": {}, "times": {}}
        timed: dict = {}
        if not args.scan_only:
            plans, timed = _plans_and_pages(workdir, env, options, args.requests)
        scan = common.run_phase(__file__, "scan", workdir, env, **options)
        n = args.requests
        each = "" if args.scan_only else f", {n} requests each"
        print(f"\n{engine}: {args.tickets:,} tickets ({args.open:,} open){each}")
        if timed:
            base = _summary(timed["/healthz"])["p95"] or 0.1
            for name, values in (*timed.items(), *plans["times"].items()):
                s = _summary(values)
                ratio = s["p95"] / base
                print(f"  {name:18} p50 {s['p50']:7.1f} ms  p95 {s['p95']:7.1f} ms  ×{ratio:.1f}")
        first_scan = scan["first"]
        per = 1000 * scan["first_s"] / max(first_scan["checked"], 1)
        print(
            f"  SLA scan: {first_scan['checked']:,} due tickets in {scan['first_s']} s "
            f"({per:.0f} ms each; {first_scan['breaches']:,} breaches, "
            f"{first_scan['warnings']:,} warnings; CPU {scan['first_cpu_s']} s, "
            f"{1000 * scan['first_cpu_s'] / max(first_scan['checked'], 1):.1f} ms each); "
            "again at once: "
            f"{scan['second']['checked']} in {scan['second_s']} s"
        )
        print(f"  load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
