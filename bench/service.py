"""Benchmark of C5: the agent's queue and the SLA scan with many tickets, through the real
server.

    .venv/bin/python bench/service.py                    # 1,000,000 tickets, 200,000 open
    .venv/bin/python bench/service.py --tickets 200000   # a smaller run (shared machine)
    .venv/bin/python bench/service.py --postgres         # a throwaway PostgreSQL cluster

A fresh database gets two branches (five service departments each, the agents in them),
20,000 customers and N tickets (a fifth open; each with its SLA deadlines, its queue
order `due_at`, and a status-log row, as the services store them), bulk-inserted. The real
server runs (gunicorn, 2 workers, DEBUG=0); the script logs in as a Beijing service agent
(who sees half the tickets) and requests the queue page (/service/, most urgent first),
its second keyset page, the JSON queue and the bare /healthz, printing p50 / p95 and the
ratio to /healthz. Then the SLA scan runs in a child process with `--due` tickets whose
warning or breach is due (the others are not read: the scan walks a partial index), and a
second scan right after it (nothing left to do: idempotent).
"""

import argparse
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
from common import PASSWORD, free_port, log_in, percentile, stop_server, wait_until_up

SECRET = "bench-only-" + "s" * 50
BATCH = 20000


def _summary(values):
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}


def phase_load(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

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
    from guanxi.customers.demo import generate_customers
    from guanxi.customers.models import Customer
    from guanxi.service.models import NO_DEADLINE, Ticket, TicketStatusLog

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
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
    agents = []
    for b in branches:
        for dept in departments[b.pk]:
            for i in range(4):
                user = User.objects.create_user(
                    f"agent{dept.pk}_{i}", password=PASSWORD, org_unit=dept
                )
                UserRole.objects.create(user=user, role=Role.SERVICE)
                agents.append(user)
    User.objects.filter(pk=agents[0].pk).update(username="agent")
    generate_customers(count=20000, owners=owners)
    customers = list(Customer.objects.values_list("id", "org_unit_id"))
    branch_of = {u.pk: (u.branch().pk) for u in OrgUnit.objects.filter(kind="department")}
    rng = random.Random(3)
    now = datetime.now(UTC)
    open_share = args.open / args.tickets
    due_left = args.due
    statuses_open = ["new", "assigned", "in_progress", "waiting"]
    made = 0
    while made < args.tickets:
        rows, logs = [], []
        for _ in range(min(BATCH, args.tickets - made)):
            customer_id, unit = rng.choice(customers)
            branch = branch_of.get(unit, branches[0].pk)
            dept = rng.choice(departments[branch])
            created = now - timedelta(minutes=rng.randint(10, 60 * 24 * 365))
            is_open = rng.random() < open_share
            status = rng.choice(statuses_open) if is_open else rng.choice(["resolved", "closed"])
            due = created + timedelta(hours=rng.randint(8, 72))
            check = None
            if is_open and status != "waiting":
                if due_left > 0:
                    check, due_left = now - timedelta(minutes=1), due_left - 1
                    due = max(due, now + timedelta(hours=1))
                else:
                    due = now + timedelta(minutes=rng.randint(60, 60 * 24 * 30))
                    check = due - timedelta(hours=2)
            running = is_open and status != "waiting"
            rows.append(
                Ticket(
                    customer_id=customer_id,
                    org_unit_id=dept.pk,
                    type=rng.choice(["complaint", "repair", "inquiry", "request"]),
                    channel="phone",
                    priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                    subject=f"工单 {made}",
                    status=status,
                    assignee_id=rng.choice(agents).pk if status != "new" else None,
                    created_at=created,
                    updated_at=created,
                    response_due_at=due if running else None,
                    resolution_due_at=due if running else None,
                    due_at=due if running else NO_DEADLINE,
                    sla_check_at=check,
                    resolved_at=None if is_open else created + timedelta(hours=5),
                )
            )
            made += 1
        with transaction.atomic():
            Ticket.objects.bulk_create(rows, batch_size=2000)
            logs = [TicketStatusLog(ticket=t, at=t.created_at, to_status="new") for t in rows]
            TicketStatusLog.objects.bulk_create(logs, batch_size=2000)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"tickets": made, "seconds": round(time.perf_counter() - started, 1)}


def phase_scan(args) -> dict:
    import django

    django.setup()
    from guanxi.service.services import sla_scan

    started = time.perf_counter()
    first = sla_scan()
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = sla_scan()
    return {
        "first": first,
        "first_s": round(first_s, 2),
        "second": second,
        "second_s": round(time.perf_counter() - started, 2),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=None)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--phase")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if args.open is None:
        args.open = args.tickets // 5
    if common.serve_phase(args, {"load": phase_load, "scan": phase_scan}):
        return
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-service-"))
    pg = None
    try:
        if args.postgres:
            pg = common.ThrowawayPostgres(workdir, shared_buffers="256MB")
            url = pg.start()
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        env = common.server_env(workdir, url, SECRET, src_on_path=True)
        env["SLA_SCAN_SECONDS"] = "0"
        options = {"tickets": args.tickets, "open": args.open, "due": args.due}
        load = common.run_phase(__file__, "load", workdir, env, **options)
        print(f"loaded {load['tickets']:,} tickets in {load['seconds']} s", flush=True)
        port = free_port()
        server = common.start_server(workdir, env, port, workers=2)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            wait_until_up(client, server)
            log_in(client, "agent")
            n = args.requests
            queue = common.timed(client, "/service/", n, "ticket-row", warmup=5)
            first = client.get("/api/v1/service/tickets").json()
            second_path = f"/service/?cursor={first['next_cursor']}"
            page2 = common.timed(client, second_path, n, "ticket-row", warmup=5)
            api = common.timed(client, "/api/v1/service/tickets", n, "items", warmup=5)
            bare = common.timed(client, "/healthz", n, "ok", warmup=5)
        finally:
            stop_server(server)
        scan = common.run_phase(__file__, "scan", workdir, env, **options)
        base = _summary(bare)["p95"] or 0.1
        engine = "PostgreSQL" if args.postgres else "SQLite"
        print(f"\n{engine}: {args.tickets:,} tickets ({args.open:,} open)")
        for name, values in (
            ("queue /service/", queue),
            ("queue page 2", page2),
            ("API queue", api),
            ("/healthz", bare),
        ):
            s = _summary(values)
            ratio = s["p95"] / base
            print(f"  {name:18} p50 {s['p50']:7.1f} ms  p95 {s['p95']:7.1f} ms  ×{ratio:.1f}")
        print(
            f"  SLA scan: {scan['first']['checked']:,} due tickets in {scan['first_s']} s "
            f"({scan['first']['breaches']:,} breaches, {scan['first']['warnings']:,} warnings); "
            f"again at once: {scan['second']['checked']} in {scan['second_s']} s"
        )
        print(f"  load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
