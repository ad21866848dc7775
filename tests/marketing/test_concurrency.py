"""Two departments send the same brochure to the same customers at the same instant: each
customer receives it once. Real threads and transactions; the partial unique index on
(material fingerprint, customer) decides on both engines."""

import pytest

from guanxi.core.models import Role, UserRole
from guanxi.marketing import policy, sending, services
from tests.races import run_together

from .conftest import bulk_customers
from .helpers import campaign_for, email_template, everyone_with_email

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_departments_sending_the_same_material_at_once_reach_each_customer_once(
    smtp, marketer, manager, org
):
    customers = bulk_customers(org["bj_sales"], 40)
    UserRole.objects.create(user=manager, role=Role.MARKETER)
    first = campaign_for(marketer, everyone_with_email(marketer), email_template(marketer))
    second = campaign_for(
        manager,
        everyone_with_email(manager, name="经理的名单"),
        email_template(manager, name="经理版"),
        name="经理的推广",
    )
    outcomes = run_together(
        *[lambda c=c: sending.campaign_run(campaign_id=c.pk, batch_size=5) for c in (first, second)]
    )
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sorted(smtp.recipients) == sorted(c.email for c in customers)
    skipped = (
        services.campaign_figures(first)["skipped"] + services.campaign_figures(second)["skipped"]
    )
    assert skipped == 40


def test_one_material_recorded_twice_at_once_counts_once(customer):
    fingerprint = policy.fingerprint_of("中秋礼盒")
    outcomes = run_together(
        *[
            lambda: policy.record_sent(
                customer_id=customer.pk, channel="post", purpose="greeting", fingerprint=fingerprint
            )
            for _ in range(8)
        ]
    )
    assert sorted(outcomes) == [False] * 7 + [True]
