"""SPEC (demo data that shows every screen working): after `guanxi demo-data` the front desk
has today's roster and visitors (one waiting), salespeople have calls and promises, quoted
deals have quotes, finance has instalments due and overdue with 催款通知, and a manager
has a dispute to decide."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.interactions.models import Interaction, Promise
from guanxi.notifications.models import Notification
from guanxi.reception.models import Dispute, DutyRoster, Visit
from guanxi.sales.models import Deal, Instalment, Quote
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401


@pytest.fixture
def demo(db):
    call_command("demo_data", customers=80, verbosity=0)


def test_front_desk_has_todays_roster_and_visitors(demo):
    assert DutyRoster.objects.filter(date=timezone.localdate()).exists()
    assert Visit.objects.filter(state="received").count() >= 3
    assert Visit.objects.filter(state="waiting").exists()


def test_salespeople_have_calls_and_promises(demo):
    assert Interaction.objects.count() >= 12 and Promise.objects.exists()


def test_quoted_deals_have_quotes(demo):
    quoted = Deal.objects.filter(stage="quoted")
    assert quoted.exists()
    assert Quote.objects.filter(deal__in=quoted).count() == quoted.count()
    assert Quote.objects.filter(status="pending").exists()  # the manager's approvals


def test_finance_has_instalments_due_and_overdue_with_reminders(demo):
    today = timezone.localdate()
    assert Instalment.objects.filter(due_date__lt=today, status="due").exists()
    assert Instalment.objects.filter(due_date__gte=today, status="due").exists()
    assert Notification.objects.filter(user__username="finance").exists()


def test_manager_has_a_dispute_to_decide(demo):
    assert Dispute.objects.filter(state="open").exists()


def test_the_public_pool_has_customers_to_claim(demo):
    from guanxi.customers.models import Customer

    pool = Customer.objects.filter(owner__isnull=True, in_pool_since__isnull=False)
    assert pool.count() >= 3


def test_demo_pages_show_their_data(client, demo, settings):
    from guanxi.core.models import User

    client.force_login(User.objects.get(username="finance"))
    assert "首付款" in client.get("/sales/finance/").content.decode()
    client.force_login(User.objects.get(username="reception"))
    register = client.get("/reception/register/").content.decode()
    assert "韩梅梅" in register and "赵强" in register
