"""Many users at once: N concurrent clients with a mix of reads and writes, through the real
server, its API and its HTML pages.

    .venv/bin/python bench/load.py [--clients 20] [--duration 30] [--customers 100000]
                                   [--database sqlite|postgres]

1. A fresh database in a temporary directory (a SQLite file, or a throwaway PostgreSQL
   cluster on a loopback port), migrated; two branches with salespeople and a manager
   (bench/customers.py's organisation), N customers from `guanxi.demo.customers`, and an
   API token for each client's salesperson.
2. gunicorn as `guanxi serve` runs it (3 workers × 4 threads, DEBUG=0) on 127.0.0.1 with an
   access log of gunicorn's own request times.
3. `--clients` threads, each logged in as its own salesperson (a session for the pages, a
   bearer token for the API), send requests back to back for `--duration` seconds (at most
   `--max-requests` in all), each drawn from the mix below: 80 % reads, 20 % writes. Then the
   same clients call the bare `/healthz` for `--bare-duration` seconds: the server's floor.
4. Printed: requests/s, p50/p95/p99 per kind (client round trip, and server-side from the
   access log), server CPU (gunicorn workers and PostgreSQL backends) per request and as a
   share of the machine, and every answer that was not 2xx, with its status and body.

Targets (SQLite, 20 clients, 2 cores): ≥ 300 requests/s, write p95 ≤ 250 ms, no errors.
Only 127.0.0.1 is contacted; everything started here is stopped here.
"""

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

from common import PASSWORD, ThrowawayPostgres, cpu_seconds
from customers import ROOT, Server, build_organisation, cpu_pressure, percentile, tree_cpu

THROUGHPUT_TARGET = 300.0
WRITE_P95_MS = 250.0

# kind → weight (per cent of requests). Writes go through the API (a script or the mobile
# app); the pages are read as the browser reads them, searches as people type.
MIX = {
    "page: customer list": 15,
    "page: search": 10,
    "page: customer": 15,
    "api: list": 15,
    "api: search": 15,
    "api: customer": 10,
    "api: edit (write)": 15,
    "api: create (write)": 5,
}
WRITES = {kind for kind in MIX if "(write)" in kind}


def log(message: str) -> None:
    print(message, flush=True)


# --- Data (in this process, before the server starts) -----------------------------------


def prepare(clients: int, customers: int, salespeople: int, reuse: bool) -> list[dict]:
    """The organisation, customers and one API token per client; returns each client's
    login, token, customer ids and search terms. `reuse`: the organisation and customers
    are already there (a database bench/customers.py --keep left)."""
    from customers import search_terms
    from django.core.management import call_command

    from guanxi.core.services import token_create
    from guanxi.customers.models import Customer
    from guanxi.demo.customers import generate_customers

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if reuse:
        from guanxi.core.models import User

        people = list(User.objects.filter(username__startswith="sales").order_by("id"))
        log(f"Reusing {Customer.objects.count():,} customers")
    else:
        people, _manager = build_organisation(max(salespeople, clients))
        started = time.perf_counter()
        made = generate_customers(count=customers, owners=people)
        log(f"Generated {made:,} customers in {time.perf_counter() - started:.1f} s")
    plans = []
    for index, user in enumerate(people[:clients]):
        _token, raw = token_create(actor=user, name="load bench")
        ids = list(
            Customer.objects.filter(owner=user, archived_at__isnull=True)
            .order_by("-id")
            .values_list("id", flat=True)[:200]
        )
        terms = search_terms(user, 40)
        words = [t for key in ("name_prefix", "last4", "word", "given_name") for t in terms[key]]
        plans.append(
            {"username": user.username, "token": raw, "ids": ids, "terms": words, "n": index}
        )
    return plans


# --- Clients ------------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.failures: Counter = Counter()
        self.examples: dict[tuple[str, int], str] = {}
        self.count = 0
        self.started = self.cpu_before = 0.0

    def add(self, kind: str, bench_id: str, ms: float, status: int, body: str) -> None:
        with self.lock:
            self.samples[kind].append((bench_id, ms))
            self.count += 1
            if not 200 <= status < 300:
                self.failures[(kind, status)] += 1
                self.examples.setdefault((kind, status), body[:300])


def logged_in(url: str, plan: dict):
    """A keep-alive client with a session (pages) — the API calls carry the bearer token."""
    import httpx

    client = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
    client.get("/login/")
    response = client.post(
        "/login/",
        data={
            "username": plan["username"],
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        headers={"Referer": url + "/login/"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {plan['username']} failed: {response.status_code}")
    return client


def client_loop(client, plan: dict, clock: dict, budget, recorder: Recorder, mix: dict, seed):
    rng = random.Random(seed)
    kinds, weights = list(mix), list(mix.values())
    api = {"Authorization": f"Bearer {plan['token']}"}
    counter = 0
    clock["ready"].wait()
    while time.monotonic() < clock["stop_at"] and budget():
        kind = rng.choices(kinds, weights)[0]
        counter += 1
        bench_id = f"c{plan['n']}-{counter}"
        headers = {"X-Bench-Id": bench_id}
        cid = rng.choice(plan["ids"])
        term = quote(rng.choice(plan["terms"])) if plan["terms"] else "zhang"
        started = time.perf_counter()
        try:
            response = request(client, kind, plan, cid, term, counter, bench_id, headers, api)
            status, text = response.status_code, response.text
        except Exception as exc:  # a timeout or a reset connection counts as a failure
            status, text = 599, repr(exc)
        elapsed = (time.perf_counter() - started) * 1000
        recorder.add(kind, bench_id, elapsed, status, text)
    client.close()


def request(client, kind, plan, cid, term, counter, bench_id, headers, api):
    if kind == "page: customer list":
        return client.get("/customers/", headers=headers)
    if kind == "page: search":
        return client.get(f"/customers/?q={term}", headers=headers)
    if kind == "page: customer":
        return client.get(f"/customers/{cid}/", headers=headers)
    if kind == "api: list":
        return client.get("/api/v1/customers", headers={**headers, **api})
    if kind == "api: search":
        return client.get(f"/api/v1/customers?q={term}", headers={**headers, **api})
    if kind == "api: customer":
        return client.get(f"/api/v1/customers/{cid}", headers={**headers, **api})
    if kind == "api: edit (write)":
        body = {"notes": f"load bench {bench_id}"}
        if counter % 2:  # half of the edits change an indexed field
            body["company"] = f"压测{plan['n']}号公司{counter % 7}"
        return client.patch(f"/api/v1/customers/{cid}", json=body, headers={**headers, **api})
    phone = f"199{plan['n']:03d}{counter:05d}"[:11]
    body = {"name": f"压测客户{bench_id}", "phones": [phone], "allow_similar": True}
    return client.post("/api/v1/customers", json=body, headers={**headers, **api})


def run_clients(url, plans, seconds: float, max_requests: int, mix: dict, cpu_now) -> Recorder:
    """Log every client in first (argon2 is slow on purpose), then time `seconds` of load."""
    recorder = Recorder()
    clients = [logged_in(url, plan) for plan in plans]
    clock = {"ready": threading.Event(), "stop_at": 0.0}
    threads = [
        threading.Thread(
            target=client_loop,
            args=(client, plan, clock, lambda: recorder.count < max_requests, recorder, mix, i),
        )
        for i, (client, plan) in enumerate(zip(clients, plans, strict=True))
    ]
    for thread in threads:
        thread.start()
    recorder.cpu_before = cpu_now()
    clock["stop_at"] = time.monotonic() + seconds
    recorder.started = time.perf_counter()
    clock["ready"].set()
    for thread in threads:
        thread.join()
    return recorder


# --- Main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of mixed load")
    parser.add_argument("--bare-duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--salespeople", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", default=os.environ.get("WEB_WORKERS", "3"))
    parser.add_argument("--threads", default=os.environ.get("WEB_THREADS", "4"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--reuse", type=Path, help="SQLite: the directory a bench/customers.py --keep run left"
    )
    args = parser.parse_args()
    args.clients = max(1, min(args.clients, 100))
    args.duration = min(args.duration, 600)
    if args.reuse and args.database != "sqlite":
        parser.error("--reuse works with SQLite only")

    workdir = args.reuse or Path(tempfile.mkdtemp(prefix="guanxi-load-"))
    var_dir = workdir / "var"
    var_dir.mkdir(exist_ok=True)
    (workdir / "access.log").unlink(missing_ok=True)
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
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    postgres = (
        ThrowawayPostgres(workdir, shared_buffers="512MB") if args.database == "postgres" else None
    )
    server = None
    results: dict = {"clients": args.clients, "database": args.database, "mix": MIX}
    try:
        if postgres:
            env["DATABASE_URL"] = postgres.start()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT / "src"))
        import django

        django.setup()
        from django.db import connection

        plans = prepare(args.clients, args.customers, args.salespeople, bool(args.reuse))
        connection.close()
        server = Server(env, workdir, args.workers, args.threads)
        url = server.start()
        roots = [server.process.pid] + ([postgres.postmaster_pid()] if postgres else [])
        log(f"gunicorn on {url} ({args.workers} workers × {args.threads} threads); "
            f"{args.clients} clients for {args.duration:.0f} s")  # fmt: skip
        results["loadavg_before"] = os.getloadavg()[0]
        results["cpu_pressure_before"] = cpu_pressure()
        phases = {}
        for phase, seconds, mix in (
            ("mixed", args.duration, MIX),
            ("bare /healthz", args.bare_duration, {"healthz": 1}),
        ):
            cpu_before, own_before = sum(map(tree_cpu, roots)), cpu_seconds(os.getpid())
            started = time.perf_counter()
            if phase == "mixed":
                recorder = run_clients(
                    url, plans, seconds, args.max_requests, mix, lambda: sum(map(tree_cpu, roots))
                )
                # The logins (argon2, on purpose slow) are not part of the load.
                started, cpu_before = recorder.started, recorder.cpu_before
            else:
                recorder = run_bare(url, args.clients, seconds, args.max_requests)
            wall = time.perf_counter() - started
            cpu = sum(map(tree_cpu, roots)) - cpu_before
            own = cpu_seconds(os.getpid()) - own_before
            phases[phase] = (recorder, wall, cpu, own)
        results["loadavg_after"] = os.getloadavg()[0]
        results["cpu_pressure_after"] = cpu_pressure()
        server.stop()
        report(phases, server.server_times(), results)
    finally:
        if server:
            server.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if postgres:
            postgres.stop()
        if not args.reuse:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0 if results.get("targets_met") else 1


def run_bare(url: str, clients: int, seconds: float, max_requests: int) -> Recorder:
    import httpx

    recorder = Recorder()
    stop_at = time.monotonic() + seconds

    def loop(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            counter = 0
            while time.monotonic() < stop_at and recorder.count < max_requests:
                counter += 1
                bench_id = f"h{n}-{counter}"
                started = time.perf_counter()
                response = client.get("/healthz", headers={"X-Bench-Id": bench_id})
                elapsed = (time.perf_counter() - started) * 1000
                recorder.add("healthz", bench_id, elapsed, response.status_code, response.text)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder


def report(phases: dict, server_times: dict[str, float], results: dict) -> None:
    cores = os.cpu_count() or 1
    met = True
    results["phases"] = {}
    for phase, (recorder, wall, cpu, own) in phases.items():
        total = recorder.count
        log("")
        log(
            f"== {phase}: {total:,} requests in {wall:.1f} s = {total / wall:,.1f} requests/s; "
            f"server CPU {cpu * 1000 / max(total, 1):.1f} ms/request "
            f"({cpu / wall / cores:.0%} of {cores} cores), client CPU {own / wall / cores:.0%}"
        )
        log(
            f"{'kind':24} {'n':>6} {'client p50':>10} {'p95':>7} {'p99':>7} "
            f"{'server p50':>10} {'p95':>7} {'p99':>7} {'non-2xx':>7}"
        )
        rows = {}
        all_writes: list[float] = []
        for kind in sorted(recorder.samples):
            samples = recorder.samples[kind]
            client = [ms for _id, ms in samples]
            server = [server_times[i] for i, _ms in samples if i in server_times]
            errors = sum(n for (k, _s), n in recorder.failures.items() if k == kind)
            row = {
                "n": len(client),
                "client_p50": percentile(client, 0.5),
                "client_p95": percentile(client, 0.95),
                "client_p99": percentile(client, 0.99),
                "server_p50": percentile(server, 0.5) if server else None,
                "server_p95": percentile(server, 0.95) if server else None,
                "server_p99": percentile(server, 0.99) if server else None,
                "non_2xx": errors,
            }
            rows[kind] = row
            if kind in WRITES:
                all_writes += client

            def fmt(value) -> str:
                return "—" if value is None else f"{value:.1f}"

            log(
                f"{kind:24} {row['n']:6} {row['client_p50']:10.1f} {row['client_p95']:7.1f} "
                f"{row['client_p99']:7.1f} {fmt(row['server_p50']):>10} "
                f"{fmt(row['server_p95']):>7} {fmt(row['server_p99']):>7} {errors:7}"
            )
        summary = {
            "requests": total,
            "seconds": round(wall, 2),
            "throughput": round(total / wall, 1),
            "server_cpu_ms_per_request": round(cpu * 1000 / max(total, 1), 2),
            "server_cpu_share": round(cpu / wall / cores, 3),
            "client_cpu_share": round(own / wall / cores, 3),
            "kinds": rows,
            "non_2xx": {f"{k} {s}": n for (k, s), n in recorder.failures.items()},
        }
        for (kind, status), count in sorted(recorder.failures.items()):
            log(
                f"   non-2xx: {kind} → HTTP {status} × {count}: "
                f"{recorder.examples[(kind, status)]!r}"
            )
        if phase == "mixed":
            write_p95 = percentile(all_writes, 0.95) if all_writes else 0.0
            summary["write_p95"] = round(write_p95, 1)
            ok_rate = total / wall >= THROUGHPUT_TARGET
            ok_writes = write_p95 <= WRITE_P95_MS
            ok_errors = not recorder.failures
            met = ok_rate and ok_writes and ok_errors
            verdict = {True: "ok", False: "MISSED"}
            log(
                f"Targets: ≥ {THROUGHPUT_TARGET:.0f} requests/s {verdict[ok_rate]}; "
                f"write p95 {write_p95:.1f} ms ≤ {WRITE_P95_MS:.0f} {verdict[ok_writes]}; "
                f"errors {sum(recorder.failures.values())} {verdict[ok_errors]}"
            )
        results["phases"][phase] = summary
    results["targets_met"] = met
    log(
        f"Load average {results['loadavg_before']:.1f} → {results['loadavg_after']:.1f} on "
        f"{cores} CPUs; CPU pressure {results['cpu_pressure_before']} → "
        f"{results['cpu_pressure_after']} (share of time runnable tasks waited for a CPU)."
    )


if __name__ == "__main__":
    sys.exit(main())
