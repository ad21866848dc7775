"""Demo service data: skills, knowledge-base articles, tickets in every state (some late),
a survey and a return visit."""

import random
from datetime import timedelta

from django.utils import timezone

from guanxi.core.models import User
from guanxi.customers.models import Customer
from guanxi.service import knowledge
from guanxi.service.models import AgentSkill, Article, Status, Ticket, TicketType
from guanxi.service.services import sla_scan, ticket_create, ticket_reply, ticket_transition

ARTICLES = [
    (
        "热水器不出热水怎么办",
        "The water heater gives no hot water",
        "1. 检查燃气阀门是否打开。\n2. 检查电源和电池。\n3. 仍不出热水请联系客服。",
        "1. Check that the gas valve is open.\n2. Check the power and the battery.\n"
        "3. Still cold? Contact service.",
    ),
    (
        "手机无法开机",
        "The phone does not switch on",
        "长按电源键 15 秒强制重启；充电 30 分钟后再试。",
        "Hold the power key for 15 seconds; charge for 30 minutes and try again.",
    ),
    (
        "如何办理延保",
        "How to extend the warranty",
        "购买后 30 天内可在门店或线上办理延保服务。",
        "Within 30 days of purchase, in a shop or online.",
    ),
    (
        "交房验收注意事项",
        "What to check at the handover of a flat",
        "检查门窗、水电、墙面空鼓，问题当场登记。",
        "Check doors, windows, water, power and walls; report issues on the spot.",
    ),
]
SUBJECTS = [
    (TicketType.COMPLAINT, "安装师傅迟到两小时"),
    (TicketType.REPAIR, "热水器点不着火"),
    (TicketType.REPAIR, "手机屏幕失灵"),
    (TicketType.INQUIRY, "延保怎么办理"),
    (TicketType.REQUEST, "申请开具发票"),
    (TicketType.COMPLAINT, "交房时墙面空鼓"),
]


def demo_service(*, seed: int = 5) -> None:
    if Ticket.objects.exists():
        return
    rng = random.Random(seed)
    agent = User.objects.filter(username="service").first()
    manager = User.objects.filter(username="manager").first()
    if agent is None or manager is None or agent.org_unit is None:
        return
    AgentSkill.objects.bulk_create(
        [AgentSkill(user=agent, type=t) for t in TicketType.values], ignore_conflicts=True
    )
    if not Article.objects.exists():
        for title_zh, title_en, body_zh, body_en in ARTICLES:
            knowledge.article_save(
                actor=manager,
                data={
                    "title_zh": title_zh,
                    "title_en": title_en,
                    "body_zh": body_zh,
                    "body_en": body_en,
                    "type": TicketType.REPAIR,
                    "published": True,
                },
            )
    customers = list(
        Customer.objects.filter(org_unit__path__startswith=agent.org_unit.branch().path)
        .select_related("owner")
        .order_by("id")[:40]
    )
    if not customers:
        return
    now = timezone.now()
    plan = [
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING,
        Status.RESOLVED,
        Status.CLOSED,
    ]
    for i in range(30):
        ticket_type, subject = SUBJECTS[i % len(SUBJECTS)]
        customer = customers[i % len(customers)]
        # A third were opened a week or two ago: still open, they are late.
        opened = now - timedelta(days=rng.choice([0, 0, 1, 2, 8, 12]), hours=rng.randint(0, 6))
        target = plan[i % len(plan)]
        ticket = ticket_create(
            actor=customer.owner or manager,
            customer_id=customer.pk,
            type=ticket_type,
            channel=rng.choice(["phone", "visit", "web", "wechat"]),
            priority=rng.choice(["normal", "normal", "high", "urgent", "low"]),
            subject=subject,
            now=opened,
            auto_assign=target != Status.NEW,
        )
        if target in (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED, Status.CLOSED):
            ticket_reply(
                actor=agent,
                ticket_id=ticket.pk,
                body="您好，已收到，正在处理。",
                wait=target == Status.WAITING,
            )
        if target in (Status.RESOLVED, Status.CLOSED):
            ticket_transition(
                actor=agent,
                ticket_id=ticket.pk,
                to_status=Status.RESOLVED,
                resolution="已上门处理。",
            )
        if target == Status.CLOSED:
            ticket_transition(actor=agent, ticket_id=ticket.pk, to_status=Status.CLOSED)
    sla_scan()
