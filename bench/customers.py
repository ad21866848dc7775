"""Customer list and search at scale, through the real server.

    .venv/bin/python bench/customers.py [--customers 1000000] [--database sqlite|postgres]

1. A fresh database in a temporary directory: a SQLite file, or a throwaway PostgreSQL
   cluster started from /usr/lib/postgresql/*/bin on a loopback port (stopped at the end).
2. Migrations, collectstatic, an organisation of two branches with ~200 salespeople and a
   branch manager, then N customers from `guanxi.demo.customers` (customers/s printed).
3. gunicorn with production settings (DEBUG=0, GUANXI_HTTPS=0) on 127.0.0.1; a session
   login, then sequential keep-alive requests: first and deep (keyset) list pages as a
   salesperson and as a manager, searches (last four phone digits, pinyin initials, Chinese
   name prefix), a customer page, and the bare /healthz for the baseline.
4. p50/p95 per scenario, server-side (gunicorn's own request time, read back from its access
   log) and client-side, with the ratio to /healthz. The targets apply to server-side times:
   list p95 <= 30 ms, search p95 <= 50 ms.

Only 127.0.0.1 is contacted. Everything started here is stopped here.
"""

import argparse
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from common import PASSWORD, ROOT, ThrowawayPostgres, children, cpu_seconds, free_port

LIST_P95_MS = 30.0
SEARCH_P95_MS = 50.0


def log(message: str) -> None:
    print(message, flush=True)


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


# --- Data ----------------------------------------------------------------------------------


def build_organisation(salespeople: int):
    """Head office, two branches with a sales department each; salespeople split evenly;
    a manager of the first branch. Returns (salespeople, manager)."""
    from django.contrib.auth.hashers import make_password

    from guanxi.core.models import OrgUnit, Role, User, UserRole

    hq = OrgUnit.objects.create(name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    branches = []
    for name in ("北京分店", "上海分店"):
        branch = OrgUnit.objects.create(name=name, kind=OrgUnit.Kind.BRANCH, parent=hq)
        sales = OrgUnit.objects.create(
            name=name[:2] + "销售部", kind=OrgUnit.Kind.DEPARTMENT, parent=branch
        )
        branches.append((branch, sales))
    password = make_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
    users = [
        User(
            username=f"sales{i + 1:03d}",
            display_name=f"销售{i + 1:03d}",
            org_unit=branches[i * len(branches) // salespeople][1],
            password=password,
        )
        for i in range(salespeople)
    ]
    manager = User(
        username="manager", display_name="王经理", org_unit=branches[0][0], password=password
    )
    User.objects.bulk_create([*users, manager])
    people = list(User.objects.filter(username__startswith="sales").order_by("id"))
    manager = User.objects.get(username="manager")
    UserRole.objects.bulk_create(
        [UserRole(user=u, role=Role.SALES) for u in people]
        + [UserRole(user=manager, role=Role.MANAGER)]
    )
    return people, manager


def database_size(database: str, var_dir: Path) -> int:
    from django.db import connection

    if database == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in var_dir.glob("guanxi.sqlite3*"))


def search_terms(owner, count: int) -> dict[str, list[str]]:
    """Terms a salesperson would type for their own customers (so every search has hits)."""
    from guanxi.customers.models import Customer

    rows = list(
        Customer.objects.filter(owner=owner)
        .order_by("-id")
        .values_list("id", "name", "name_initials", "primary_phone", "company", "email", "address")[
            : count * 3
        ]
    )
    chinese = [r for r in rows if not r[1].isascii()]
    latin = list(
        Customer.objects.filter(owner=owner, name__lt="\u3400")  # Latin script sorts first
        .order_by("-id")
        .values_list("name", flat=True)[:count]
    )
    return {
        "last4": [r[3][-4:] for r in rows][:count],
        "initials": [r[2] for r in chinese if len(r[2]) >= 2][:count],
        "name_prefix": [r[1][:2] for r in chinese][:count],
        "surname": [r[1][:1] for r in chinese][:count],
        # Word and substring search (search_index.py): the second word of a Latin name, a
        # Chinese given name (one or two characters), a word inside a company name, part of
        # a street address, the middle of an e-mail.
        "word": [n.split()[-1] for n in latin if " " in n][:count],
        "given_name": [r[1][1:] for r in chinese][:count],
        "company_word": [r[4][1:3] for r in rows if len(r[4]) >= 3][:count],
        "address_part": [r[6][:-1] for r in rows if len(r[6]) > 4][:count],
        "email_part": [r[5].split("@")[0][1:] + "@ex" for r in rows if r[5]][:count],
        "detail": [str(r[0]) for r in rows][:count],
    }


# --- Server and client ---------------------------------------------------------------------


class Server:
    """gunicorn as `guanxi serve` runs it (same workers and threads), with an access log
    that records each request's bench id and gunicorn's request time in microseconds."""

    def __init__(self, env: dict, workdir: Path, workers: str, threads: str):
        self.port = free_port()
        self.access_log = workdir / "access.log"
        self.error_log = workdir / "gunicorn.log"
        self.cmd = [
            sys.executable, "-m", "gunicorn", "guanxi.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", workers, "--threads", threads,
            "--access-logfile", str(self.access_log),
            "--access-logformat", "%({x-bench-id}i)s %(s)s %(D)s",
            "--error-logfile", str(self.error_log),
        ]  # fmt: skip
        self.env = env
        self.process = None

    def start(self) -> str:
        self.process = subprocess.Popen(self.cmd, env=self.env, cwd=ROOT)
        url = f"http://127.0.0.1:{self.port}"

        def up() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.error_log}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return True
            return False

        wait_until(up, 60, "gunicorn to listen")
        return url

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def server_times(self) -> dict[str, float]:
        """bench id → gunicorn request time in ms."""
        times = {}
        for line in self.access_log.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] != "-":
                times[parts[0]] = int(parts[2]) / 1000
        return times


SEARCHES = [
    ("last 4 digits", "last4"),
    ("pinyin initials", "initials"),
    ("name prefix", "name_prefix"),
    ("surname", "surname"),
    ("word in a Latin name", "word"),
    ("given name", "given_name"),
    ("word in a company", "company_word"),
    ("part of an address", "address_part"),
    ("part of an e-mail", "email_part"),
]
CUSTOMER_ROW = re.compile(r'<tr>\s*<td><a href="/customers/\d+/"')
NEXT_CURSOR = re.compile(r'id="next-page" href="\?([^"]*)"')


class Bench:
    def __init__(self, url: str, requests: int, warmup: int, server_roots: list[int]):
        import httpx

        self.server_roots = server_roots  # processes whose trees serve the requests
        self.cpu_ms: dict[str, float] = {}
        self.url = url
        self.requests = requests
        self.warmup = warmup
        self.client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
        self.client_times: dict[str, list[tuple[str, float]]] = {}
        self.rows: dict[str, int] = {}
        self.counter = 0

    def login(self, username: str) -> None:
        self.client.cookies.clear()
        page = self.client.get("/login/")
        token = self.client.cookies.get("csrftoken")
        response = self.client.post(
            "/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": self.url + "/login/"},
        )
        if response.status_code != 302 or "sessionid" not in self.client.cookies:
            raise RuntimeError(f"login as {username} failed: {response.status_code} {page}")

    def get(self, path: str, bench_id: str = "-"):
        started = time.perf_counter()
        response = self.client.get(path, headers={"X-Bench-Id": bench_id})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
        return response, elapsed

    def measure(self, name: str, paths: list[str]) -> None:
        """Warm-up requests, then `requests` sequential timed ones cycling through `paths`."""
        for i in range(self.warmup):
            self.get(paths[i % len(paths)])
        samples = []
        cpu_before = sum(map(tree_cpu, self.server_roots))
        for i in range(self.requests):
            self.counter += 1
            bench_id = f"r{self.counter}"
            response, elapsed = self.get(paths[i % len(paths)], bench_id)
            if i == 0:
                self.rows[name] = len(CUSTOMER_ROW.findall(response.text))
            samples.append((bench_id, elapsed))
        cpu = sum(map(tree_cpu, self.server_roots)) - cpu_before
        self.cpu_ms[name] = cpu * 1000 / self.requests
        self.client_times[name] = samples

    def deep_page(self, path: str, depth: int) -> tuple[str, int]:
        """Follow up to `depth` "next page" links (keyset cursors); returns the path of the
        page reached and its number (fewer pages when the list ends sooner)."""
        for followed in range(depth):
            response, _elapsed = self.get(path)
            match = NEXT_CURSOR.search(response.text)
            if not match:
                return path, followed + 1
            path = "/customers/?" + match.group(1).replace("&amp;", "&")
        return path, depth + 1


def tree_cpu(root: int) -> float:
    """CPU seconds of a server: its master and live children, plus the children it already
    reaped (counted in the master's cutime/cstime) — PostgreSQL backends come and go."""
    return cpu_seconds(root, with_reaped_children=True) + sum(
        cpu_seconds(pid, with_reaped_children=True) for pid in children(root)
    )


def cpu_pressure() -> str:
    """The kernel's CPU pressure (share of time runnable tasks waited for a CPU)."""
    with contextlib.suppress(OSError):
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return line.split()[2].replace("avg60=", "") + " %"
    return "n/a"


def percentile(values: list[float], q: float) -> float:
    """Nearest rank (not common.percentile's rounded rank): this script's published figures
    were computed so, and runs are compared against them."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- Main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--salespeople", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--depth", type=int, default=40, help="pages followed for a deep page")
    parser.add_argument("--workers", default=os.environ.get("WEB_WORKERS", "3"))
    parser.add_argument("--threads", default=os.environ.get("WEB_THREADS", "4"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="SQLite: time again the database a --keep run left in this directory",
    )
    args = parser.parse_args()
    if args.reuse and args.database != "sqlite":
        parser.error("--reuse works with SQLite only")

    workdir = args.reuse or Path(tempfile.mkdtemp(prefix="guanxi-bench-"))
    args.keep = args.keep or bool(args.reuse)
    var_dir = workdir / "var"
    var_dir.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guanxi.settings",
        "GUANXI_VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(workdir / "static"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "GUANXI_HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("DATABASE_URL", None)
    # The server imports this checkout's code, like the in-process part below.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    postgres = None
    if args.database == "postgres":
        postgres = ThrowawayPostgres(workdir, shared_buffers="512MB")
    server = None
    results: dict = {"customers": args.customers, "database": args.database}
    try:
        if postgres:
            env["DATABASE_URL"] = postgres.start()
            results["engine_version"] = f"PostgreSQL {postgres.version}"
            log(f"PostgreSQL {postgres.version} cluster on 127.0.0.1:{postgres.port}")
        os.environ.update(env)
        if str(ROOT / "src") not in sys.path:
            sys.path.insert(0, str(ROOT / "src"))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from guanxi.demo.customers import generate_customers

        if not postgres:
            import sqlite3

            results["engine_version"] = f"SQLite {sqlite3.sqlite_version}"
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if args.reuse:
            from guanxi.core.models import User

            people = list(User.objects.filter(username__startswith="sales").order_by("id"))
            manager = User.objects.get(username="manager")
        else:
            people, manager = build_organisation(args.salespeople)
        log(f"Migrated, static collected, {len(people)} salespeople: "
            f"{time.perf_counter() - started:.1f} s")  # fmt: skip

        started, cpu_started = time.perf_counter(), time.process_time()
        made = 0 if args.reuse else generate_customers(count=args.customers, owners=people)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        results["generation_s"] = round(elapsed, 2)
        results["generation_rate"] = round(made / elapsed)
        results["generation_cpu_s"] = round(cpu, 2)
        log(
            f"Generated {made:,} customers in {elapsed:.1f} s: {made / elapsed:,.0f} customers/s "
            f"(this process's CPU: {cpu:.1f} s{' + the PostgreSQL server' if postgres else ''}; "
            f"CPU pressure {cpu_pressure()})"
        )
        if postgres:
            # The steady state of a live database: vacuumed (visibility map, hint bits) and
            # analysed, as autovacuum would leave it — not autovacuum running mid-benchmark.
            with connection.cursor() as cursor:
                for table in (
                    "customers_customer",
                    "customers_customerphone",
                    "customers_household",
                ):
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
        size = database_size(args.database, var_dir)
        results["db_bytes"] = size
        log(f"Database size: {size / 2**20:,.0f} MiB")

        sales = people[0]
        terms = search_terms(sales, args.requests)
        connection.close()

        server = Server(env, workdir, args.workers, args.threads)
        url = server.start()
        log(f"gunicorn on {url} ({args.workers} workers × {args.threads} threads)")
        roots = [server.process.pid] + ([postgres.postmaster_pid()] if postgres else [])
        bench = Bench(url, args.requests, args.warmup, roots)
        results["cpu_pressure_before"] = cpu_pressure()
        results["loadavg_before"] = os.getloadavg()[0]

        bench.login(sales.username)
        bench.measure("healthz", ["/healthz"])
        for who, user in (("sales", sales), ("manager", manager)):
            if who == "manager":
                bench.login(user.username)
            bench.measure(f"list first page ({who})", ["/customers/"])
            deep, number = bench.deep_page("/customers/", args.depth)
            bench.measure(f"list page {number} ({who})", [deep])
            for label, key in SEARCHES:
                paths = [f"/customers/?q={quote(t)}" for t in terms[key]]
                if paths:
                    bench.measure(f"search {label} ({who})", paths)
            bench.measure(f"customer page ({who})", [f"/customers/{t}/" for t in terms["detail"]])
        results["cpu_pressure_after"] = cpu_pressure()
        results["loadavg_after"] = os.getloadavg()[0]
        server.stop()
        report(bench, server.server_times(), results)
    finally:
        if server:
            server.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if postgres:
            postgres.stop()
        if args.keep:
            log(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0 if results.get("targets_met") else 1


def report(bench: Bench, server_times: dict[str, float], results: dict) -> None:
    table = {}
    for name, samples in bench.client_times.items():
        server = [server_times[bench_id] for bench_id, _ in samples if bench_id in server_times]
        client = [elapsed for _, elapsed in samples]
        if len(server) != len(client):
            raise RuntimeError(f"{name}: {len(client) - len(server)} requests missing in the log")
        table[name] = {
            "server_p50": percentile(server, 0.5),
            "server_p95": percentile(server, 0.95),
            "client_p50": percentile(client, 0.5),
            "client_p95": percentile(client, 0.95),
            "cpu_ms": bench.cpu_ms[name],
            "rows": bench.rows.get(name, 0),
            "n": len(server),
        }
    base = table["healthz"]
    met = True
    log("")
    log(f"{'':34} {'server ms':>15} {'× /healthz':>13} {'client ms':>15} {'cpu ms':>6}")
    log(
        f"{'scenario':34} {'p50':>7} {'p95':>7} {'p50':>6} {'p95':>6} {'p50':>7} {'p95':>7}"
        f" {'/req':>6} rows"
    )
    for name, row in table.items():
        row["ratio_p50"] = row["server_p50"] / base["server_p50"]
        row["ratio_p95"] = row["server_p95"] / base["server_p95"]
        target = {"list": LIST_P95_MS, "search": SEARCH_P95_MS}.get(name.split()[0])
        verdict = ""
        if target is not None:
            ok = row["server_p95"] <= target
            met = met and ok
            verdict = f"p95 ≤ {target:.0f} ms {'ok' if ok else 'MISSED'}"
        log(
            f"{name:34} {row['server_p50']:7.1f} {row['server_p95']:7.1f} "
            f"{row['ratio_p50']:6.1f} {row['ratio_p95']:6.1f} "
            f"{row['client_p50']:7.1f} {row['client_p95']:7.1f} {row['cpu_ms']:6.1f} "
            f"{row['rows']:4}  {verdict}"
        )  # fmt: skip
    results["scenarios"] = {
        name: {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
        for name, row in table.items()
    }
    results["targets_met"] = met
    log("")
    log("Server ms: gunicorn's request time (access log %(D)s); client ms: round trip seen here;")
    log("cpu ms/req: CPU time of the gunicorn workers (and PostgreSQL backends) per request.")
    log(
        f"CPU pressure (share of time tasks waited for a CPU, last minute): "
        f"{results['cpu_pressure_before']} before, {results['cpu_pressure_after']} after; "
        f"load average {results['loadavg_before']:.1f} → {results['loadavg_after']:.1f} "
        f"on {os.cpu_count()} CPUs."
    )
    log("All targets met." if met else "Some targets MISSED.")


if __name__ == "__main__":
    sys.exit(main())
