"""Value classification (C6): RFM quintiles and the eight named segments, A/B/C by a
configurable weighted score and cut-offs, the lifecycle stage with its next action —
stored in insights' own table, recomputed at each payment and fully by an idempotent run."""

from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.insights.engine import recompute_all
from guanxi.insights.models import CustomerValue, InsightsSettings
from guanxi.insights.rules import (
    SEGMENT_LABELS,
    ChurnRule,
    History,
    history_of,
    lifecycle_stage,
    quintile_breaks,
    rfm_segment,
    score_high_better,
    score_low_better,
)
from tests.conftest import new_customer

from .conftest import history, purchase

D = Decimal


@pytest.mark.parametrize(
    ("r", "f", "m", "segment", "chinese"),
    [
        (5, 5, 5, "important_value", "重要价值客户"),
        (4, 1, 4, "important_develop", "重要发展客户"),
        (1, 5, 5, "important_keep", "重要保持客户"),
        (2, 2, 5, "important_winback", "重要挽留客户"),
        (5, 5, 1, "general_value", "一般价值客户"),
        (5, 1, 2, "general_develop", "一般发展客户"),
        (1, 4, 1, "general_keep", "一般保持客户"),
        (1, 1, 1, "general_winback", "一般挽留客户"),
    ],
)
def test_each_rfm_segment(r, f, m, segment, chinese):
    assert rfm_segment(r, f, m) == segment
    assert chinese in str(SEGMENT_LABELS[segment])


def test_rfm_segment_names_in_chinese(settings):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(SEGMENT_LABELS["important_value"]) == "重要价值客户"
    with translation.override("en"):
        assert str(SEGMENT_LABELS["important_value"]) == "Important value (重要价值客户)"


def test_rfm_scores_are_quintiles():
    breaks = quintile_breaks([float(n) for n in range(1, 101)])
    assert breaks == [21.0, 41.0, 61.0, 81.0]
    assert [score_high_better(v, breaks) for v in (1, 21, 22, 61, 100)] == [1, 1, 2, 3, 5]
    # Recency: fewer days since the last purchase is better.
    assert [score_low_better(v, breaks) for v in (1, 30, 100)] == [5, 4, 1]


THOUSAND = D(1000)


def _h(count, gap=30.0, spread=0.0, last=THOUSAND, usual=THOUSAND):
    return History(
        count, D(1000) * count, 0.0, 0.0, gap if count > 1 else None, spread, last, usual
    )


RULE = ChurnRule()


def test_lifecycle_cultivation_before_any_purchase():
    assert lifecycle_stage(history_of([]), None, RULE) == "cultivation"


def test_lifecycle_confirmation_at_the_first_purchase():
    assert lifecycle_stage(_h(1), 10, RULE) == "confirmation"


def test_lifecycle_trust_on_repeat_purchases_within_their_cycle():
    assert lifecycle_stage(_h(4), 20, RULE) == "trust"


def test_lifecycle_weakening_past_their_churn_threshold():
    assert lifecycle_stage(_h(4, gap=30), 61, RULE) == "weakening"  # 30 + 2 × 15
    assert lifecycle_stage(_h(1), 114, RULE) == "weakening"  # the fixed 113 days


def test_lifecycle_weakening_when_spending_drops_sharply():
    assert lifecycle_stage(_h(5, last=D(300), usual=D(1000)), 10, RULE) == "weakening"


def test_lifecycle_loss_past_twice_the_threshold():
    assert lifecycle_stage(_h(1), 227, RULE) == "loss"
    assert lifecycle_stage(_h(4, gap=30), 121, RULE) == "loss"


def test_lifecycle_moves_from_cultivation_to_confirmation_to_trust_at_each_payment(
    owner, finance, customer, goods
):
    recompute_all()
    assert CustomerValue.objects.get(customer_id=customer.pk).stage == "cultivation"
    purchase(owner, finance, customer, goods, days_ago=60)
    assert CustomerValue.objects.get(customer_id=customer.pk).stage == "confirmation"
    purchase(owner, finance, customer, goods, days_ago=30)
    purchase(owner, finance, customer, goods, days_ago=0)
    value = CustomerValue.objects.get(customer_id=customer.pk)
    assert (value.stage, value.purchases, round(value.median_gap_days)) == ("trust", 3, 30)


def _buyers(owner, finance, goods, revenues):
    people = []
    for n, revenue in enumerate(revenues):
        c = new_customer(owner, f"客户{n}", (f"1390000{n:04d}",))
        purchase(owner, finance, c, goods, amount=str(revenue), days_ago=10)
        people.append(c)
    return people


def test_abc_cut_offs_top_20_percent_are_a_next_30_percent_b(owner, finance, goods):
    people = _buyers(owner, finance, goods, [1000 * (n + 1) for n in range(10)])
    nobody = new_customer(owner, "未购客户", ("13700000000",))
    recompute_all()
    classes = dict(CustomerValue.objects.values_list("customer_id", "abc"))
    assert [classes[c.pk] for c in people] == ["C"] * 5 + ["B"] * 3 + ["A"] * 2
    assert classes[nobody.pk] == "C"


def test_abc_cut_offs_are_configurable(owner, finance, goods):
    people = _buyers(owner, finance, goods, [1000 * (n + 1) for n in range(10)])
    InsightsSettings.objects.update_or_create(
        pk=InsightsSettings.current().pk, defaults={"a_share_pct": 10, "b_share_pct": 10}
    )
    recompute_all()
    classes = dict(CustomerValue.objects.values_list("customer_id", "abc"))
    assert [classes[c.pk] for c in people] == ["C"] * 8 + ["B", "A"]


def test_abc_weighs_cost_against_revenue(owner, finance, goods):
    from guanxi.interactions.models import Interaction

    people = _buyers(owner, finance, goods, [5000, 5000, 1000, 1000, 1000])
    Interaction.objects.bulk_create(
        Interaction(customer=people[0], actor=owner, kind="call_out", summary="…")
        for _ in range(200)
    )
    config = InsightsSettings.current()
    config.a_share_pct, config.b_share_pct = 20, 20
    config.save()
    recompute_all()
    classes = dict(CustomerValue.objects.values_list("customer_id", "abc"))
    assert (classes[people[1].pk], classes[people[0].pk]) == ("A", "B")


def test_the_full_run_is_idempotent(owner, finance, goods, customer):
    _buyers(owner, finance, goods, [1000, 2000, 3000])
    history(owner, finance, customer, goods, [300, 200, 100])
    now = timezone.now()
    recompute_all(now=now)
    fields = [f.attname for f in CustomerValue._meta.concrete_fields]
    first = sorted(CustomerValue.objects.values_list(*fields))
    recompute_all(now=now)
    assert sorted(CustomerValue.objects.values_list(*fields)) == first


def test_a_payment_updates_the_customers_figures_at_once(owner, finance, goods, customer):
    recompute_all()
    purchase(owner, finance, customer, goods, amount="2500.00")
    value = CustomerValue.objects.get(customer_id=customer.pk)
    assert (value.purchases, value.revenue, value.r is not None) == (1, D("2500.00"), True)


def test_a_refunded_deal_is_not_a_purchase(owner, finance, manager, customer):
    from guanxi.sales import services as sales

    deal = sales.deal_create(actor=owner, customer_id=customer.pk, title="延保", amount="8000")
    sales.deal_take_deposit(actor=owner, deal_id=deal.pk, kind="small_deposit", amount="2000")
    sales.payment_record(
        actor=finance, deal_id=deal.pk, amount="2000", method="bank", receipt_number="DEP-9"
    )
    assert CustomerValue.objects.get(customer_id=customer.pk).purchases == 1
    change = sales.change_request(actor=owner, deal_id=deal.pk, kind="refund", reason="退", data={})
    sales.change_decide(actor=manager, change_id=change.pk, approve=True)
    assert CustomerValue.objects.get(customer_id=customer.pk).purchases == 0


def test_profitability_weighs_value_brought_against_cost(owner, finance, goods, customer):
    friend = new_customer(owner, "李四", ("13911112222",), referred_by_id=customer.pk)
    purchase(owner, finance, customer, goods, amount="10000.00")
    purchase(owner, finance, friend, goods, amount="5000.00")
    recompute_all()
    value = CustomerValue.objects.get(customer_id=customer.pk)
    # 20 % margin on ¥10,000 + 10 % of the referred ¥5,000; cost: acquisition ¥200.
    assert (value.value, value.cost, value.profit, value.referrals) == (
        D("2500.00"),
        D("200.00"),
        D("2300.00"),
        1,
    )
