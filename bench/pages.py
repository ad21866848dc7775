"""Page budget: transfer size, request count and server time of the ten main pages (issue 14).

    .venv/bin/python bench/pages.py                      # fresh SQLite with `demo_data`
    .venv/bin/python bench/pages.py --reuse DIR          # the 1,000,000-customer database a
                                                         # `bench/customers.py --keep` run left
    .venv/bin/python bench/pages.py --database-url postgres://…   # an existing empty database

Each page is requested through Django's handler in this process (middleware, session,
authentication, view, template: the server's own time, no network), as the role that works
on it, with `Accept-Encoding: gzip` like a browser. Printed per page: p50/p95 ms against the
bare /healthz, the HTML's size on the wire (gzipped) and uncompressed, and the requests a
first visit makes (the page plus the distinct scripts, style sheets and images it names;
the browser caches them afterwards). The sales-control board's budget is 150 KiB on the wire.

With --reuse, `demo_data` is loaded into that database first (its users, products, deals,
tickets), so every page has something to show beside the million customers; the customer
pages are then read by the busiest salesperson and the manager of the big organisation.
"""

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common

SECRET = "bench-pages-secret-key-with-enough-length-2026"
BOARD_BUDGET_KIB = 150
ASSET = re.compile(rb'<(?:script[^>]+src|link[^>]+href|img[^>]+src)="(/[^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(client, url: str, requests: int, warmup: int) -> dict:
    for _ in range(warmup):
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        times.append((time.perf_counter() - started) * 1000)
    body = response.content
    raw = gzip.decompress(body) if response.get("Content-Encoding") == "gzip" else body
    assets = {m.group(1) for m in ASSET.finditer(raw)}
    return {
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "wire_kib": len(body) / 1024,
        "html_kib": len(raw) / 1024,
        "requests": 1 + len(assets),
    }


def pages(reuse: bool) -> list[tuple[str, str, str]]:
    """(label, username, url) of the ten main pages, each as the role that lives on it."""
    from django.db.models import Count

    from guanxi.core.models import User
    from guanxi.customers.models import Customer
    from guanxi.sales.models import Product

    seller, manager = "sales1", "manager"
    if reuse:
        # The salesperson holding the most of the million customers, and the manager over them.
        busiest = (
            Customer.objects.filter(owner__username__startswith="sales0")
            .values("owner_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        if busiest:
            seller = User.objects.get(pk=busiest["owner_id"]).username
            manager = "manager"
    customer = Customer.objects.filter(owner__username=seller).order_by("-id").first()
    product = Product.objects.filter(has_units=True).order_by("id").first()
    board = f"/sales/board/?product={product.pk}" if product else "/sales/board/"
    return [
        ("home (salesperson)", seller, "/"),
        ("customer list", seller, "/customers/"),
        ("customer page", seller, f"/customers/{customer.pk}/"),
        ("global search", seller, "/search/?q=%E5%BC%A0"),
        ("my day", seller, "/my-day/"),
        ("reception desk", "reception", "/reception/"),
        ("sales pipeline", "sales1", "/sales/"),
        ("sales-control board", "sales1", board),
        ("service queue", "service", "/service/"),
        ("reports", manager, "/reports/"),
        ("notifications", seller, "/notifications/"),
        ("home (manager)", manager, "/"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", type=Path, help="a bench/customers.py --keep directory")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--customers", type=int, default=300, help="demo customers (fresh)")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    if args.reuse:
        workdir = args.reuse
        url = f"sqlite:///{args.reuse / 'var' / 'guanxi.sqlite3'}"
    else:
        workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-pages-"))
        url = args.database_url or f"sqlite:///{workdir / 'pages.sqlite3'}"
    os.environ.update(
        common.server_env(workdir, url, SECRET, allowed_hosts="testserver", src_on_path=True)
    )
    sys.path.insert(0, str(common.ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from guanxi.core.models import User

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not User.objects.filter(username="reception").exists():
        call_command("demo_data", customers=args.customers, verbosity=0)
    from guanxi.core.tasks import refresh_planner_statistics_now

    refresh_planner_statistics_now()  # as `guanxi scheduler` does when it starts
    from guanxi.customers.models import Customer

    total = Customer.objects.count()
    print(f"{total:,} customers; {args.requests} timed requests per page after {args.warmup}")
    clients: dict[str, Client] = {}

    def client_for(username: str) -> Client:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        return clients[username]

    bare = measure(Client(), "/healthz", args.requests, args.warmup)
    results = {"customers": total, "healthz": bare, "pages": {}}
    print(f"{'page':24} {'user':10} {'p50 ms':>7} {'p95 ms':>7} {'×bare':>6} "
          f"{'wire KiB':>9} {'HTML KiB':>9} {'requests':>8}")  # fmt: skip
    print(f"{'/healthz':24} {'':10} {bare['p50']:7.1f} {bare['p95']:7.1f}")
    failed = False
    for label, username, path in pages(bool(args.reuse)):
        row = measure(client_for(username), path, args.requests, args.warmup)
        results["pages"][label] = {"user": username, "url": path, **row}
        note = ""
        if label == "sales-control board" and row["wire_kib"] > BOARD_BUDGET_KIB:
            note, failed = f"  over {BOARD_BUDGET_KIB} KiB", True
        print(f"{label:24} {username:10} {row['p50']:7.1f} {row['p95']:7.1f} "
              f"{row['p95'] / max(bare['p95'], 0.001):6.0f} {row['wire_kib']:9.1f} "
              f"{row['html_kib']:9.1f} {row['requests']:8d}{note}")  # fmt: skip
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
