"""Benchmark of C3: assigning 10,000 walk-ins through the rotation API, on SQLite and PostgreSQL.

    .venv/bin/python bench/reception.py                  # the figures in docs/performance.md
    .venv/bin/python bench/reception.py --quick          # 1,000 visitors, to try the script
    .venv/bin/python bench/reception.py --engines sqlite # one engine only

For each engine: a fresh database (a SQLite file, or a throwaway PostgreSQL cluster started
from /usr/lib/postgresql/*/bin on a loopback port, locale C.UTF-8, stopped and removed after);
a branch with 10 salespeople on today's duty roster and a receptionist with an API token; the
real server (gunicorn, DEBUG=0, GUANXI_HTTPS=0). The receptionist's script then registers
10,000 new visitors, each with a new phone, through POST /api/v1/reception/visits — each one
is found by phone (not found), created as a customer, registered, and received by whoever's
turn it is, all in one transaction — one request after the other, and the bare /healthz as
the baseline. It prints p50 / p95 per assignment, the rate, and afterwards checks in the
database that the rotation stayed exact: every salesperson received 1,000, the queue pointer
is back at the start, no turn was skipped, one credit decision per visitor.

With --clients N the visitors are sent by N receptionists at once (threads), to see the queue
under contention; the balance check is the same.

--write appends (or replaces) the "## Reception (C3)" section of docs/performance.md.
"""

import argparse
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import common
from common import (
    ROOT,
    ThrowawayPostgres,
    cpu_seconds,
    free_port,
    process_tree,
    stop_server,
    wait_until_up,
)

SECRET = "bench-only-" + "r" * 50
SECTION = "## Reception (C3)"
REPORT_DATE = "2026-11-25"


def env_for(workdir: Path, database_url: str) -> dict:
    return common.server_env(workdir, database_url, SECRET, src_on_path=True)


def run_phase(phase: str, workdir: Path, database_url: str, **options) -> dict:
    """Run `phase` of this script in a child process on the database; it prints one JSON line."""
    return common.run_phase(__file__, phase, workdir, env_for(workdir, database_url), **options)


# --- phases run inside Django -------------------------------------------------------------


def phase_populate(args) -> dict:
    """Migrate; a branch with `salespeople` on today's queue and a receptionist's API token."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection

    from guanxi.core.models import Role, User, UserRole
    from guanxi.core.services import token_create
    from guanxi.demo.management.commands.demo_data import demo_organisation
    from guanxi.reception.services import roster_set

    units = demo_organisation()
    people = []
    for n in range(1, args.salespeople + 1):
        user = User(username=f"sales{n}", display_name=f"销售{n}", org_unit=units["bj_sales"])
        user.set_unusable_password()
        people.append(user)
    User.objects.bulk_create(people)
    people = list(User.objects.filter(username__startswith="sales").order_by("id"))
    UserRole.objects.bulk_create(UserRole(user=u, role=Role.SALES) for u in people)
    desk = User.objects.create(username="reception", display_name="前台", org_unit=units["bj"])
    desk.set_unusable_password()
    desk.save()
    UserRole.objects.create(user=desk, role=Role.RECEPTIONIST)
    desk = User.objects.get(pk=desk.pk)
    _token, raw = token_create(actor=desk, name="bench")
    roster = roster_set(actor=desk, salesperson_ids=[u.pk for u in people])
    return {
        "token": raw,
        "roster": roster.pk,
        "salespeople": [u.pk for u in people],
        "engine": connection.vendor,
        "server_version": _server_version(connection),
    }


def _server_version(connection) -> str:
    if connection.vendor == "sqlite":
        return sqlite3.sqlite_version
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def phase_check(args) -> dict:
    """What the rotation left behind: turns per salesperson, pointer, skips, decisions."""
    import django

    django.setup()
    from guanxi.customers.models import Customer
    from guanxi.reception.models import CreditDecision, DutyRoster, TurnSkip, Visit

    roster = DutyRoster.objects.get(pk=args.roster)
    slots = list(roster.slots.order_by("position"))
    return {
        "turns_taken": [s.turns_taken for s in slots],
        "owed_turns": sum(s.owed_turns for s in slots),
        "next_position": roster.next_position,
        "visits_received": Visit.objects.filter(state="received", via_rotation=True).count(),
        "visits": Visit.objects.count(),
        "customers": Customer.objects.count(),
        "credit_decisions": CreditDecision.objects.filter(is_current=True).count(),
        "turn_skips": TurnSkip.objects.count(),
    }


# --- the server and the measurements ------------------------------------------------------


def start_server(workdir: Path, database_url: str, port: int, workers: int):
    (workdir / "static").mkdir(exist_ok=True)  # the API serves no static files
    env = env_for(workdir, database_url)
    return common.start_server(workdir, env, port, workers, collectstatic=False)


def server_cpu_seconds(roots: list[int]) -> float:
    """User + system CPU seconds used so far by the server processes and everything below
    them (gunicorn's workers, PostgreSQL's backends)."""
    return sum(cpu_seconds(pid) for root in roots for pid in process_tree(root))


def summary(values: list[float]) -> dict:
    return common.summary(values, p99=True)


def assign(base_url: str, token: str, phones: list[str], errors: list) -> list[float]:
    """POST one new visitor per phone, one after the other; milliseconds of each."""
    import httpx

    times = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for n, phone in enumerate(phones):
            started = time.perf_counter()
            response = client.post(
                "/api/v1/reception/visits", json={"phone": phone, "name": f"访客{n}"}
            )
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201 or response.json()["receiver_id"] is None:
                errors.append((phone, response.status_code, response.text[:200]))
    return times


def bench_engine(engine: str, args) -> dict:
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix=f"guanxi-bench-reception-{engine}-"))
    postgres = None
    try:
        if engine == "postgresql":
            postgres = ThrowawayPostgres(workdir, shared_buffers="256MB")
            database_url = postgres.start()
        else:
            database_url = f"sqlite:///{workdir / 'reception.sqlite3'}"
        data = run_phase("populate", workdir, database_url, salespeople=args.salespeople)
        print(
            f"{engine} {data['server_version']}: {args.salespeople} salespeople on duty; "
            f"assigning {args.visitors:,} visitors with {args.clients} client(s)…",
            flush=True,
        )
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = start_server(workdir, database_url, port, args.workers)
        try:
            headers = {"Authorization": f"Bearer {data['token']}"}
            with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
                wait_until_up(client, server)
                for _ in range(20):  # warm both workers: imports, connections, templates
                    client.get("/healthz")
                    client.get("/api/v1/reception/desk")
            phones = [f"139{n:08d}" for n in range(1, args.visitors + 1)]
            shares = [phones[i :: args.clients] for i in range(args.clients)]
            results: list[list[float]] = [[] for _ in shares]
            errors: list = []

            def run(i: int) -> None:
                results[i] = assign(base_url, data["token"], shares[i], errors)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(args.clients)]
            roots = [server.pid] + ([postgres.postmaster_pid()] if postgres else [])
            cpu_before = server_cpu_seconds(roots)
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            cpu = server_cpu_seconds(roots) - cpu_before
            times = [t for part in results for t in part]
            with httpx.Client(base_url=base_url, timeout=30) as client:
                healthz = []
                for _ in range(args.healthz):
                    t0 = time.perf_counter()
                    client.get("/healthz")
                    healthz.append((time.perf_counter() - t0) * 1000)
        finally:
            stop_server(server)
        check = run_phase("check", workdir, database_url, roster=data["roster"])
    finally:
        if postgres is not None:
            postgres.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  kept {workdir}")
    expected = args.visitors // args.salespeople
    result = {
        "engine": engine,
        "server_version": data["server_version"],
        "visitors": args.visitors,
        "clients": args.clients,
        "errors": len(errors),
        "first_errors": errors[:3],
        "assign_ms": summary(times),
        "healthz_ms": summary(healthz),
        "wall_seconds": round(wall, 1),
        "per_second": round(len(times) / wall, 1),
        # The server's own CPU (gunicorn workers, and PostgreSQL's backends) per assignment:
        # steadier than wall times on a machine shared with other work.
        "server_cpu_ms": round(cpu * 1000 / len(times), 1),
        "load_average": round(os.getloadavg()[0], 1),
        "check": check,
        "balanced": (
            check["turns_taken"] == [expected] * args.salespeople
            and check["turn_skips"] == 0
            and check["owed_turns"] == 0
            and check["visits_received"] == args.visitors
            and check["credit_decisions"] == args.visitors
        ),
    }
    result["p95_ratio"] = round(result["assign_ms"]["p95"] / result["healthz_ms"]["p95"], 1)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    print(
        f"  turns taken per salesperson: {check['turns_taken']} "
        f"({'balanced' if result['balanced'] else 'NOT balanced'}), "
        f"pointer at {check['next_position']}",
        flush=True,
    )
    return result


# --- the report ---------------------------------------------------------------------------


def machine() -> str:
    cpu = common.cpu_model() or "unknown CPU"
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def section(results: list[dict], args) -> str:
    rows = []
    for r in results:
        a, h = r["assign_ms"], r["healthz_ms"]
        rows.append(
            f"| {r['engine']} {r['server_version']} | {r['clients']} | {r['visitors']:,} | "
            f"{a['p50']} | {a['p95']} | {a['p99']} | {r['per_second']} | {r['server_cpu_ms']} | "
            f"{h['p50']} | {h['p95']} | {r['p95_ratio']}× | {r['load_average']} | "
            f"{'each ' + str(r['check']['turns_taken'][0]) if r['balanced'] else 'NO'} |"
        )
    lines = [
        SECTION,
        "",
        f"Measured {REPORT_DATE} with `.venv/bin/python bench/reception.py"
        f"{' ' + ' '.join(args.argv) if args.argv else ''}` on {machine()}; the machine was "
        "shared with other work while it ran, so read the figures as an order of magnitude.",
        "",
        f"A fresh database per engine (SQLite file in WAL mode; a throwaway PostgreSQL cluster "
        f"on loopback, fsync on, shared_buffers 256 MB); one branch with "
        f"{args.salespeople} salespeople on today's duty roster; the real server (gunicorn, "
        f"{args.workers} sync workers, DEBUG=0). A receptionist's script (API token) sends "
        f"{args.visitors:,} new visitors, each with a new phone, to "
        "`POST /api/v1/reception/visits`: every request looks the phone up, creates the "
        "customer, registers the visit, locks the day's roster and its slots, applies the "
        "rules, takes the turn, writes the credit decision, commission line and audit entries, "
        "all in one transaction. Latency is measured at the client, per assignment, "
        "requests one after the other per client; /healthz is the bare baseline. Server CPU "
        "is the user + system time of gunicorn's workers (and PostgreSQL's backends) over the "
        "assignments, divided by their number; the load average (1 min, at the end of the "
        "run) shows how busy the 2 cores were with other work.",
        "",
        "| engine | clients | visitors | p50 ms | p95 ms | p99 ms | assignments/s | "
        "server CPU ms / assignment | healthz p50 ms | healthz p95 ms | p95 / healthz | "
        "load average | turns balanced |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "After each run the database is checked: every salesperson took exactly "
        f"{args.visitors // args.salespeople:,} turns, no turn was skipped or owed, and each "
        "visitor has one current credit decision — the strict rotation holds over the whole "
        'run, also when several clients press "next" at once (the roster row lock — SQLite\'s '
        "BEGIN IMMEDIATE — serialises the assignments, so more clients add throughput only "
        "up to what one writer at a time allows).",
        "",
        "Where an assignment's time goes (cProfile in-process on SQLite, 200 assignments): "
        "about 46 SQL statements in one transaction; some 30 % of the CPU creates the customer "
        "(`customer_create`: phone normalisation and uniqueness, search keys, tags, audit, "
        "webhook lookup), 20 % is the rest of registering (phone lookup, branch and roster, the "
        "visit and its audit entry) and 50 % receiving: the locked roster and slots, the rule "
        "decision, the turn, the credit decision and commission line, the new owner and its "
        "audit entry. A returning customer skips the creation. The rotation's own work is a "
        "few statements; in the 4-client rows each request also waits behind the roster lock, "
        "which is where their extra latency comes from.",
        "",
    ]
    return "\n".join(lines)


def write_report(text: str) -> None:
    """Append the section to docs/performance.md, or replace this section only."""
    path = ROOT / "docs" / "performance.md"
    current = path.read_text() if path.exists() else "# Performance\n"
    if SECTION in current:
        start = current.index(SECTION)
        following = current.find("\n## ", start + len(SECTION))
        rest = current[following + 1 :] if following != -1 else ""
        current = current[:start] + text + ("\n" + rest if rest else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current)
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", default="")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--roster", type=int, default=0)  # phase check
    parser.add_argument("--visitors", type=int, default=10_000)
    parser.add_argument("--salespeople", type=int, default=10)
    parser.add_argument("--clients", type=int, nargs="+", default=[1])
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--healthz", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="1,000 visitors")
    parser.add_argument("--keep", action="store_true", help="keep the work directories")
    parser.add_argument("--write", action="store_true", help="write docs/performance.md")
    args = parser.parse_args()

    phases = {"populate": phase_populate, "check": phase_check}
    if common.serve_phase(args, phases, ensure_ascii=False):
        return
    if args.quick:
        args.visitors, args.healthz = 1_000, 200
    args.argv = [a for a in sys.argv[1:] if a != "--write"]
    results = []
    for engine in args.engines:
        for clients in args.clients:
            run = argparse.Namespace(**{**vars(args), "clients": clients})
            results.append(bench_engine(engine, run))
    if args.write:
        write_report(section(results, args))
    if not all(r["balanced"] and not r["errors"] for r in results):
        raise SystemExit("the rotation was not exact, or requests failed: see above")
    print(f"done {date.today()}")


if __name__ == "__main__":
    main()
