"""`guanxi demo-data --customers N`: a demo organisation, a user for every role, customers."""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from guanxi.core.models import OrgUnit, Role, User, UserRole
from guanxi.demo.customers import generate_customers
from guanxi.demo.insights import demo_insights
from guanxi.demo.office import demo_office
from guanxi.demo.sales import demo_sales
from guanxi.demo.service import demo_service

DEMO_PASSWORD = "guanxi-demo-2026"

# username, display name, unit key, roles
DEMO_USERS = [
    ("admin", "系统管理员", "hq", [Role.ADMIN]),
    ("manager", "王经理", "bj", [Role.MANAGER]),
    ("sales1", "张伟", "bj_sales", [Role.SALES]),
    ("sales2", "李娜", "bj_sales", [Role.SALES]),
    ("sales3", "陈静", "sh_sales", [Role.SALES]),
    ("manager_sh", "刘经理", "sh", [Role.MANAGER]),
    ("reception", "赵前台", "bj", [Role.RECEPTIONIST]),
    ("service", "孙师傅", "bj_service", [Role.SERVICE]),
    ("marketer", "周市场", "hq", [Role.MARKETER]),
    ("finance", "吴财务", "bj", [Role.FINANCE]),
]


def demo_organisation() -> dict[str, OrgUnit]:
    def unit(name, kind, parent=None):
        return OrgUnit.objects.get_or_create(name=name, kind=kind, parent=parent)[0]

    hq = unit("总部", OrgUnit.Kind.HEAD_OFFICE)
    bj = unit("北京分店", OrgUnit.Kind.BRANCH, hq)
    sh = unit("上海分店", OrgUnit.Kind.BRANCH, hq)
    return {
        "hq": hq,
        "bj": bj,
        "sh": sh,
        "bj_sales": unit("北京销售部", OrgUnit.Kind.DEPARTMENT, bj),
        "bj_service": unit("北京客服部", OrgUnit.Kind.DEPARTMENT, bj),
        "sh_sales": unit("上海销售部", OrgUnit.Kind.DEPARTMENT, sh),
    }


class Command(BaseCommand):
    help = "Create a demo organisation, one user per role and N customers."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users.",
        )

    def handle(self, *args, customers: int, if_empty: bool, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database not empty: demo data not loaded.")
            return
        with transaction.atomic():
            units = demo_organisation()
            for username, name, unit_key, roles in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "display_name": name,
                        "org_unit": units[unit_key],
                        "is_staff": Role.ADMIN in roles,
                        "is_superuser": Role.ADMIN in roles,
                    },
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                    UserRole.objects.bulk_create(UserRole(user=user, role=r) for r in roles)
        owners = list(User.objects.filter(username__in=["sales1", "sales2", "sales3"]))
        started = time.perf_counter()
        made = generate_customers(count=customers, owners=owners)
        elapsed = time.perf_counter() - started
        demo_sales(owners=owners)
        office = demo_office()
        if office:
            self.stdout.write(
                "Office: {visits} visitors, {calls} calls, {quotes} quotes, "
                "{instalments} instalments, {disputes} dispute.".format(**office)
            )
        demo_service()
        demo_insights(customers=min(customers, 600))
        from guanxi.reports.rollup import rebuild

        rebuild()  # the demo's order history is bulk-inserted, around order_create
        self.stdout.write(f"{made} customers in {elapsed:.1f} s.")
        self.stdout.write(
            f"Demo logins (password {DEMO_PASSWORD}): " + ", ".join(u[0] for u in DEMO_USERS)
        )
