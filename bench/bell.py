"""Bell polling: the server time of the header bell's poll (`/notifications/bell/`) when
nothing changed (204) and when the count changed (the badge is drawn), against /healthz.

Run `python bench/bell.py [--users 200 --notices 50 --polls 1000]`. The whole request runs
in this process through Django's handler (middleware, session, authentication, the view),
on a throwaway SQLite database (or --database-url), so the figures are server time without
the network: what each open tab costs the server every 20 s.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import common

SECRET = "bench-bell-secret-key-with-enough-length-2026"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--notices", type=int, default=50, help="per user")
    parser.add_argument("--polls", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-bell-"))
    url = args.database_url or f"sqlite:///{workdir / 'bell.sqlite3'}"
    os.environ.update(
        common.server_env(workdir, url, SECRET, allowed_hosts="testserver", src_on_path=True)
    )
    sys.path.insert(0, str(common.ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from guanxi.core.models import User
    from guanxi.demo.management.commands.demo_data import demo_organisation
    from guanxi.notifications.models import Notification

    call_command("migrate", verbosity=0, interactive=False)
    unit = demo_organisation()["bj_sales"]
    users = User.objects.bulk_create(
        User(username=f"u{n}", display_name=f"用户{n}", org_unit=unit) for n in range(args.users)
    )
    users = list(User.objects.order_by("id"))
    rows = [
        Notification(
            user=user,
            key=f"k{n}",
            title="Customers moved to you",
            read_at=None if n % 5 == 0 else datetime.now(UTC),
        )
        for user in users
        for n in range(args.notices)
    ]
    Notification.objects.bulk_create(rows, batch_size=5000)
    me = users[0]

    with override_settings(SECURE_SSL_REDIRECT=False):
        client = Client()
        client.force_login(me)
        first = client.get("/notifications/bell/")
        version = first.content.decode().split("?v=")[1].split('"')[0]

        def run(path, params, status):
            for _ in range(50):
                client.get(path, params)
            times, cpu = [], []
            for _ in range(args.polls):
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(path, params)
                cpu.append((time.process_time() - started_cpu) * 1000)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == status, response.status_code
            result = common.summary(times, p99=True)
            result["cpu"] = common.summary(cpu)
            return result

        unchanged = run("/notifications/bell/", {"v": version}, 204)
        changed = run("/notifications/bell/", {"v": "0.0"}, 200)
        healthz = run("/healthz", {}, 200)
    load = os.getloadavg()[0]
    print(f"date {datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cpus, load average {load:.1f}")
    print(
        f"{len(users)} users × {args.notices} notices ({Notification.objects.count():,} rows); "
        f"{args.polls} polls each"
    )
    for name, s in (
        ("unchanged (204)", unchanged),
        ("changed (badge)", changed),
        ("healthz", healthz),
    ):
        print(
            f"  {name:16} wall p50 {s['p50']:5.1f} ms  p95 {s['p95']:5.1f} ms  "
            f"p99 {s['p99']:5.1f} ms · "
            f"CPU p50 {s['cpu']['p50']:4.1f} ms  p95 {s['cpu']['p95']:4.1f} ms"
        )
    print(f"  unchanged p95 / healthz p95: {unchanged['p95'] / max(healthz['p95'], 0.01):.1f}×")
    if os.environ.get("BELL_PROFILE"):
        import cProfile
        import pstats

        with override_settings(SECURE_SSL_REDIRECT=False):
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(300):
                client.get("/notifications/bell/", {"v": version})
            profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
