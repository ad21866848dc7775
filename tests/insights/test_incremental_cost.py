"""The incremental update at each payment (C6: ≤ 5 ms per order) takes the same few
statements whatever the customer's history, and gives the row the full run gives."""

import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.insights.engine import recompute_all
from guanxi.insights.models import CustomerValue
from guanxi.insights.services import value_refresh
from guanxi.interactions.services import interaction_log
from tests.conftest import new_customer

from .conftest import history, purchase

# The settings row, the customer's inputs (created, interactions, referrals), their
# purchases, the upsert of their row, their live churn warnings.
STATEMENTS = 5


def _statements(customer_id: int) -> list[str]:
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        value_refresh(customer_id)
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN"))
    ]


def test_the_incremental_update_takes_five_statements_however_long_the_history(
    owner, finance, goods, customer
):
    newcomer = new_customer(owner, "王五", ("13700001111",))
    purchase(owner, finance, newcomer, goods)
    history(owner, finance, customer, goods, [400, 330, 290, 230, 200, 160, 120, 90, 60, 30, 9])
    new_customer(owner, "李四", ("13911112222",), referred_by_id=customer.pk)
    for n in range(3):
        interaction_log(actor=owner, customer_id=customer.pk, kind="call_out", summary=f"回访 {n}")
    assert len(_statements(newcomer.pk)) == STATEMENTS
    assert len(_statements(customer.pk)) == STATEMENTS


def test_the_incremental_update_gives_the_row_the_full_run_gives(owner, finance, goods, customer):
    history(owner, finance, customer, goods, [300, 200, 120, 40], amount="2500.00")
    friend = new_customer(owner, "李四", ("13911112222",), referred_by_id=customer.pk)
    purchase(owner, finance, friend, goods, amount="4000.00")
    interaction_log(actor=owner, customer_id=customer.pk, kind="call_out", summary="回访")
    with time_machine.travel(timezone.now(), tick=False):  # one "now" for both
        recompute_all()
        full = CustomerValue.objects.get(customer_id=customer.pk)
        value_refresh(customer.pk)
    one = CustomerValue.objects.get(customer_id=customer.pk)
    fields = [f.attname for f in CustomerValue._meta.concrete_fields if f.attname != "computed_at"]
    assert {f: getattr(one, f) for f in fields} == {f: getattr(full, f) for f in fields}
    assert (one.purchases, one.interactions, one.referrals) == (4, 1, 1)
