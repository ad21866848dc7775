"""违约 (篇五): an overdue instalment sends a reminder notice (催款通知) to the deal's owner
and to finance — once, however often the scan runs — puts the customer's follow-up due
now, and after two months (60 days by default) the deal is in default."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.notifications.models import Notification
from guanxi.sales import services
from guanxi.sales.models import Deal

from .conftest import deposit, pay


@pytest.fixture
def now():
    return timezone.now()


def overdue_deposit(owner, deal, unit, days, now, amount="50000.00"):
    due = timezone.localdate(now) - timedelta(days=days)
    return deposit(owner, deal, unit, amount=amount, due_date=due)


def test_an_overdue_instalment_notifies_owner_and_finance_once(
    owner, finance, manager, deal, units, customer, now
):
    overdue_deposit(owner, deal, units[0], 10, now)
    first = services.overdue_scan(now=now)
    second = services.overdue_scan(now=now)
    notices = Notification.objects.filter(key__startswith="overdue:")
    assert sorted(notices.values_list("user_id", flat=True)) == sorted([owner.pk, finance.pk])
    assert first["notices"] == 2 and second["defaulted"] == 0
    notice = notices.get(user=owner)
    assert "10" in notice.text and "张三" in notice.text and "50000.00" in notice.text
    assert notice.url == f"/sales/deals/{deal.pk}/"
    customer.refresh_from_db()
    assert customer.next_follow_up_at == now and customer.follow_up_rule == "overdue"
    assert Deal.objects.get(pk=deal.pk).in_default is False


def test_a_follow_up_already_due_earlier_is_kept(owner, finance, deal, units, customer, now):
    from guanxi.customers.models import Customer

    earlier = now - timedelta(days=3)
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_at=earlier)
    overdue_deposit(owner, deal, units[0], 5, now)
    services.overdue_scan(now=now)
    assert Customer.objects.get(pk=customer.pk).next_follow_up_at == earlier


def test_over_two_months_overdue_is_in_default(owner, finance, deal, units, now):
    overdue_deposit(owner, deal, units[0], 60, now)
    assert services.overdue_scan(now=now)["defaulted"] == 0
    assert services.overdue_scan(now=now + timedelta(days=1))["defaulted"] == 1
    assert Deal.objects.get(pk=deal.pk).in_default is True


def test_paying_the_arrears_lifts_the_default(owner, finance, deal, units, now):
    overdue_deposit(owner, deal, units[0], 61, now, amount="1000.00")
    services.overdue_scan(now=now)
    assert Deal.objects.get(pk=deal.pk).in_default is True
    pay(finance, deal, "1000.00")
    assert Deal.objects.get(pk=deal.pk).in_default is False


def test_nothing_is_overdue_on_time_paid_or_lost(
    owner, finance, manager, customer, flat, units, now
):
    from .conftest import open_deal

    on_time = open_deal(owner, customer, flat, title="按时")
    deposit(owner, on_time, units[0], due_date=timezone.localdate(now))
    paid = open_deal(owner, customer, flat, title="已付")
    overdue_deposit(owner, paid, units[1], 20, now, amount="100.00")
    pay(finance, paid, "100.00")
    refunded = open_deal(owner, customer, flat, title="退房")
    overdue_deposit(owner, refunded, units[2], 20, now)
    change = services.change_request(
        actor=owner, deal_id=refunded.pk, kind="refund", reason="退", data={}
    )
    services.change_decide(actor=manager, change_id=change.pk, approve=True)
    assert services.overdue_scan(now=now) == {"notices": 0, "defaulted": 0}
    assert not Notification.objects.filter(key__startswith="overdue:").exists()
    assert Decimal("0") == sum(
        Deal.objects.filter(in_default=True).values_list("amount", flat=True)
    )


def test_finance_of_another_branch_is_not_told(owner, finance, org, deal, units, now):
    from guanxi.core.models import Role
    from tests.conftest import make_user

    sh_finance = make_user("sh_finance", org["sh"], Role.FINANCE)
    hq_finance = make_user("hq_finance", org["hq"], Role.FINANCE)
    overdue_deposit(owner, deal, units[0], 3, now)
    services.overdue_scan(now=now)
    told = set(
        Notification.objects.filter(key__startswith="overdue:").values_list("user_id", flat=True)
    )
    assert told == {owner.pk, finance.pk, hq_finance.pk}
    assert sh_finance.pk not in told
