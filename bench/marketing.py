"""Marketing benchmark (C7): campaign e-mail send rate to a local SMTP server, and a full
segment rebuild over many customers.

    python bench/marketing.py [--customers 1000000] [--emails 5000]

A throwaway SQLite database under a temporary folder: migrate, an organisation, N demo
customers (demo.customers), then
- segment rebuild: three dynamic segments (everyone; a stage and a city; a spend and a
  recency filter) rebuilt from scratch with `segment_rebuild` (the filter once into a
  temporary table of ids, then one DELETE and one INSERT … SELECT against it);
- send rate: a campaign to M customers with an e-mail, sent by `campaign_run` (unthrottled,
  batches of 100 over 4 SMTP sessions, the settings' defaults; `--connections`, `--batch`),
  the full policy, personalised HTML with inlined CSS, Message-ID and List-Unsubscribe
  headers) to an aiosmtpd server in its own process on loopback that
  accepts and discards. Targets: ≥ 500 messages/s, rebuild ≤ 10 s at 1,000,000.
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

TARGET_RATE = 500
TARGET_REBUILD_S = 10.0


def log(message: str) -> None:
    print(message, flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (Linux /proc), 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--connections", type=int, help="SMTP sessions (default: settings)")
    parser.add_argument("--batch", type=int, help="rows per batch (default: settings)")
    parser.add_argument("--profile", action="store_true", help="profile the send (cProfile)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="guanxi-bench-mkt-"))
    env = common.server_env(
        workdir, f"sqlite:///{workdir / 'bench.sqlite3'}", secrets.token_urlsafe(40)
    )
    env.pop("EMAIL_BACKEND")
    port = common.free_port()
    env.update(
        MARKETING_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        MARKETING_RATE="0",
        GUANXI_PUBLIC_URL="https://crm.example.cn",
        LOG_LEVEL="ERROR",
    )
    if args.connections:
        env["MARKETING_CONNECTIONS"] = str(args.connections)
    if args.batch:
        env["MARKETING_BATCH"] = str(args.batch)
    os.environ.update(env)
    sys.path.insert(0, str(common.ROOT / "src"))
    smtp = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from guanxi.core.models import OrgUnit, Role, User, UserRole
        from guanxi.customers.models import Customer
        from guanxi.demo.customers import generate_customers
        from guanxi.marketing import segments, sending, services

        call_command("migrate", verbosity=0)
        hq = OrgUnit.objects.create(name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
        branch = OrgUnit.objects.create(name="北京分店", kind=OrgUnit.Kind.BRANCH, parent=hq)
        sales = OrgUnit.objects.create(
            name="北京销售部", kind=OrgUnit.Kind.DEPARTMENT, parent=branch
        )
        people = [User.objects.create(username=f"s{i}", org_unit=sales) for i in range(20)]
        admin = User.objects.create(username="admin", org_unit=hq, is_superuser=True)
        UserRole.objects.create(user=admin, role=Role.ADMIN)

        started = time.perf_counter()
        made = generate_customers(count=args.customers, owners=people)
        log(f"{made:,} demo customers in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:  # an e-mail for exactly the campaign's audience
            cursor.execute("UPDATE customers_customer SET email = '', email_key = ''")
            cursor.execute(
                "UPDATE customers_customer SET email = 'c' || id || '@example.cn', "
                "email_key = 'c' || id || '@example.cn', do_not_contact = 0, consent_email = 1 "
                "WHERE id <= (SELECT MIN(id) FROM customers_customer) + %s - 1",
                [args.emails],
            )

        rebuilds = []
        for name, rules in (
            ("everyone", {"all": []}),
            (
                "stage and city",
                {
                    "all": [
                        {"field": "stage", "op": "eq", "value": "customer"},
                        {"field": "city", "op": "contains", "value": "京"},
                    ]
                },
            ),
            (
                "spend and recency",
                {
                    "all": [
                        {"field": "revenue", "op": "gte", "value": "1000"},
                        {"field": "last_contact", "op": "not_within", "value": "30"},
                    ]
                },
            ),
        ):
            segment = services.segment_save(actor=admin, name=name, rules=rules, rebuild=False)
            t = time.perf_counter()
            segment = segments.segment_rebuild(segment_id=segment.pk)
            first = time.perf_counter() - t
            # The nightly rebuild's steady state: 1 % of the customers changed since.
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE customers_customer SET city = '北京', stage = 'customer', "
                    "revenue = 5000 WHERE id % 100 = 7"
                )
            t = time.perf_counter()
            segment = segments.segment_rebuild(segment_id=segment.pk)
            took = time.perf_counter() - t
            rebuilds.append(took)
            log(
                f"rebuild «{name}»: {segment.member_count:,} members; first build {first:.2f} s, "
                f"nightly rebuild {took:.2f} s"
            )

        audience = services.segment_save(
            actor=admin,
            name="with e-mail",
            rules={"all": [{"field": "has_email", "op": "is", "value": "1"}]},
        )
        template = services.template_save(
            actor=admin,
            data={
                "name": "bench",
                "channel": "email",
                "subject_zh": "{{ salutation }}，春季新品到店",
                "body_zh": (
                    '{{ salutation }}您好：\n\n春季新品已到{{ city | default("门店") }}。'
                    "详情 https://shop.example.cn/spring\n\n"
                    '{{ owner_name | default("关系") }}'
                ),
            },
        )
        campaign = services.campaign_create(
            actor=admin,
            name="bench",
            template_id=template.pk,
            segment_id=audience.pk,
            material="bench",
        )
        services.campaign_schedule(actor=admin, campaign_id=campaign.pk)
        # A worker is a long-lived process: its URL configuration is loaded before a send.
        from django.urls import get_resolver

        _ = get_resolver().url_patterns
        cpu0, t, server0 = time.process_time(), time.perf_counter(), cpu_seconds(smtp.pid)
        if args.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            sent = profile.runcall(sending.campaign_run, campaign_id=campaign.pk)["sent"]
            pstats.Stats(profile).sort_stats("tottime").print_stats(20)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        else:
            sent = sending.campaign_run(campaign_id=campaign.pk)["sent"]
        took, cpu = time.perf_counter() - t, time.process_time() - cpu0
        server = cpu_seconds(smtp.pid) - server0
        delivered = Customer.objects.filter(email__endswith="@example.cn").count()
        rate = sent / took
        log(
            f"sent {sent:,} of {delivered:,} e-mails in {took:.1f} s: {rate:,.0f} messages/s "
            f"(sender CPU {cpu:.1f} s, {cpu / max(sent, 1) * 1000:.2f} ms a message, "
            f"{max(sent, 1) / max(cpu, 1e-9):,.0f}/s per CPU; target ≥ {TARGET_RATE}/s, "
            f"ratio {rate / TARGET_RATE:.2f})"
        )
        log(
            f"SMTP server (aiosmtpd, its own process) CPU {server:.1f} s, "
            f"{server / max(sent, 1) * 1000:.2f} ms a message"
        )
        worst = max(rebuilds)
        log(
            f"slowest rebuild {worst:.2f} s over {made:,} customers "
            f"(target ≤ {TARGET_REBUILD_S:.0f} s, ratio {worst / TARGET_REBUILD_S:.2f})"
        )
        log(
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs ({common.cpu_model()})"
        )
    finally:
        smtp.terminate()
        smtp.wait()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
