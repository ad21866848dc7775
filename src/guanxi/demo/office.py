"""A living office for the demo (`guanxi demo-data`): today's duty roster and visitors, calls
with promises, quotes on quoted deals, payment plans with instalments due and overdue
(and their 催款通知), an open ownership dispute — all made through the services, as the
staff would, so every screen a newcomer opens on the first `make run` has something on it.

Sales sits above reception and interactions in the layers, so it may drive all three.
"""

import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from guanxi.core.models import OrgUnit, User
from guanxi.customers.models import Customer
from guanxi.interactions.services import interaction_log
from guanxi.reception.models import DutyRoster
from guanxi.reception.services import (
    Registration,
    dispute_open,
    pool_sweep,
    roster_set,
    visit_register,
    visit_register_and_receive,
)
from guanxi.sales import services
from guanxi.sales.models import Deal, Quote

from .customers import demo_lapse_protection

POOL_CUSTOMERS = 6
WALK_INS = [
    ("13600000001", "韩梅梅", "walk_in", "visit"),
    ("13600000002", "李雷", "walk_in", "visit"),
    ("13600000003", "王芳", "phone", "call"),
    ("13600000004", "赵强", "walk_in", "visit"),
]
CALLS = [
    ("call_out", "answered", "客户对三居室有兴趣，周末带家人来看样板间。", "发送样板间开放时间"),
    ("call_out", "no_answer", "未接通，稍后再打。", ""),
    ("wechat", "", "发了户型图和价格表，客户说考虑一下。", "询问对价格的反馈"),
]


def demo_office(*, seed: int = 23) -> dict:
    """Fill the demo's screens; returns what it made. Run once, after demo_sales."""
    if DutyRoster.objects.exists():
        return {}
    rng = random.Random(seed)
    made = {"visits": 0, "calls": 0, "quotes": 0, "instalments": 0, "disputes": 0, "pool": 0}
    users = {u.username: u for u in User.objects.all()}
    desk, sales1, sales2 = users.get("reception"), users.get("sales1"), users.get("sales2")
    manager, finance = users.get("manager"), users.get("finance")
    if not (desk and sales1 and sales2 and manager and finance and sales1.org_unit):
        return made
    branch = OrgUnit.objects.get(pk=sales1.org_unit.branch().pk)

    # The front desk: today's queue, three visitors received in turn, one still waiting.
    roster_set(actor=desk, salesperson_ids=[sales1.pk, sales2.pk], branch_id=branch.pk)
    for phone, name, source, kind in WALK_INS[:3]:
        visit_register_and_receive(
            actor=desk,
            registration=Registration(
                phone=phone, name=name, source=source, kind=kind, party_size=2
            ),
            branch_id=branch.pk,
        )
        made["visits"] += 1
    phone, name, source, kind = WALK_INS[3]
    visit_register(
        actor=desk,
        registration=Registration(phone=phone, name=name, source=source, kind=kind),
        branch_id=branch.pk,
    )
    made["visits"] += 1

    # Calls and messages by the salespeople, some with a promise due this week.
    today = timezone.localdate()
    for owner in (sales1, sales2):
        for index, customer in enumerate(Customer.objects.filter(owner=owner).order_by("id")[:6]):
            kind, outcome, summary, next_step = CALLS[index % len(CALLS)]
            promises = [("发送认购须知", today + timedelta(days=2))] if index % 3 == 0 else []
            interaction_log(
                actor=owner,
                customer_id=customer.pk,
                kind=kind,
                outcome=outcome,
                summary=summary,
                next_step=next_step,
                promises=promises,
                occurred_at=timezone.now() - timedelta(hours=rng.randint(1, 72)),
            )
            made["calls"] += 1

    # Quotes on the deals at "quoted", a few below the approval threshold (a manager's queue).
    for index, deal in enumerate(
        Deal.objects.filter(stage="quoted", product__isnull=False).select_related("product")
    ):
        if deal.product is None or deal.product_id is None:
            continue
        off = Decimal("0.97") if index % 3 else Decimal("0.88")
        price = (deal.product.list_price * off).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        if Quote.objects.filter(customer=deal.customer, product=deal.product).exists():
            continue
        services.quote_issue(
            actor=deal.owner,
            customer_id=deal.customer_id,
            product_id=deal.product_id,
            price=price,
            deal_id=deal.pk,
        )
        made["quotes"] += 1

    # Payment plans on the deals holding a unit: one instalment overdue, one due soon.
    for index, deal in enumerate(
        Deal.objects.filter(
            stage__in=["small_deposit", "large_deposit"], amount__gt=0
        ).select_related("owner")
    ):
        first = (deal.amount * Decimal("0.30")).quantize(Decimal("0.01"))
        overdue = today - timedelta(days=10 + index * 7)
        services.schedule_set(
            actor=deal.owner,
            deal_id=deal.pk,
            instalments=[
                {
                    "label": "首付款",
                    "due_date": overdue if index % 2 == 0 else today,
                    "amount": first,
                },
                {
                    "label": "银行按揭",
                    "due_date": today + timedelta(days=30),
                    "amount": deal.amount - first,
                },
            ],
        )
        made["instalments"] += 2
    services.overdue_scan()

    # A complaint at the desk: a visitor says another salesperson received them before.
    contested = Customer.objects.filter(owner=sales2).order_by("-id").first()
    if contested is not None:
        dispute_open(
            actor=desk,
            customer_id=contested.pk,
            description="客户说上周是张伟接待的，今天却由李娜跟进，请经理裁定归属。",
            party_ids=[sales1.pk, sales2.pk],
        )
        made["disputes"] += 1

    # The public pool (公海): a few of sales2's customers whose protection ran out weeks ago
    # with no contact since, returned to the branch's pool by the real sweep, as the worker
    # would have done; salespeople can claim them on the pool page.
    lapsed = list(
        Customer.objects.filter(owner=sales2, archived_at__isnull=True, deals__isnull=True)
        .exclude(pk=contested.pk if contested else 0)
        .order_by("id")
        .values_list("pk", flat=True)[:POOL_CUSTOMERS]
    )
    long_ago = timezone.now() - timedelta(days=120)
    demo_lapse_protection(lapsed, since=long_ago)
    made["pool"] = pool_sweep()
    return made
