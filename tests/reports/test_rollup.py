"""The monthly roll-up of order lines (decision 0009): the pivot read from it gives the scan's
figures, for every role, and it stays exact through every change that moves a line."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from guanxi.customers import services as customers
from guanxi.customers.models import Customer, LoadBatch
from guanxi.customers.ownership import Reason, ownership_change
from guanxi.reports import rollup
from guanxi.reports.models import OrderLineMonth
from guanxi.reports.pivot import PivotSpec, pivot_compute
from guanxi.sales import services as sales
from guanxi.sales.models import Product
from tests.conftest import new_customer

D = Decimal
BY_BRANCH = PivotSpec("order_lines", rows="branch", columns="month", measure="amount")
BY_PRODUCT = PivotSpec("order_lines", rows="product", columns="month", measure="count")


def order(actor, customer, at: datetime, *items):
    with time_machine.travel(at, tick=False):
        return sales.order_create(
            actor=actor,
            customer_id=customer.pk,
            items=[
                {"product_id": p.pk, "quantity": q, "unit_price": str(price)}
                for p, q, price in items
            ],
            ship_method="pickup",
            receiver_name=customer.name,
            payer=customer.name,
        )


@pytest.fixture
def goods(db):
    return (
        Product.objects.create(name="茶叶", sku="TEA", list_price=D("88.80")),
        Product.objects.create(name="茶具", sku="CUP", list_price=D("299.00")),
    )


@pytest.fixture
def shop(owner, teammate, outsider, goods):
    """张伟's 张三: ¥88.80 × 2 in February, ¥299 on 31 March at 01:30 in Beijing (still March)
    and ¥88.80 on 1 April at 01:30 in Beijing (31 March in UTC); 李娜's 李四: ¥299 × 3 in March;
    陈静's (Shanghai) 王五: ¥88.80 in April."""
    tea, cup = goods
    zhang = new_customer(owner, "张三", ("13800000001",))
    li = new_customer(teammate, "李四", ("13800000002",))
    wang = new_customer(outsider, "王五", ("13800000003",))
    order(owner, zhang, datetime(2026, 2, 10, 3, tzinfo=UTC), (tea, 2, "88.80"))
    order(owner, zhang, datetime(2026, 3, 30, 17, 30, tzinfo=UTC), (cup, 1, "299.00"))
    order(owner, zhang, datetime(2026, 3, 31, 17, 30, tzinfo=UTC), (tea, 1, "88.80"))
    order(teammate, li, datetime(2026, 3, 5, 8, tzinfo=UTC), (cup, 3, "299.00"), (tea, 1, "88.80"))
    order(outsider, wang, datetime(2026, 4, 2, 8, tzinfo=UTC), (tea, 1, "88.80"))
    return {"zhang": zhang, "li": li, "wang": wang}


def cells(result) -> dict:
    return {
        (label, column): value
        for _k, label, values, _t in result.rows
        for (_c, column), value in zip(result.columns, values, strict=True)
    }


def both(viewer, spec=BY_BRANCH) -> dict:
    """The pivot from the roll-up, after checking it equals the scan's."""
    summed = pivot_compute(viewer=viewer, spec=spec, page=None)
    scanned = pivot_compute(viewer=viewer, spec=spec, page=None, summary_first=False)
    assert cells(summed) == cells(scanned)
    assert (summed.total, summed.column_totals) == (scanned.total, scanned.column_totals)
    return cells(summed)


def rows() -> list:
    return sorted(
        OrderLineMonth.objects.filter(lines__gt=0).values_list(
            "month", "unit_id", "owner", "product_id", "lines", "quantity", "amount_cents"
        )
    )


def assert_equals_a_rebuild():
    before = rows()
    rollup.rebuild()
    assert rows() == before


def test_the_pivot_reads_the_rollup_not_the_lines(shop, manager):
    assert both(manager)
    OrderLineMonth.objects.all().delete()
    assert pivot_compute(viewer=manager, spec=BY_BRANCH).rows == []


def test_rollup_pivot_equals_the_scan_and_differs_by_role(
    shop, manager, owner, sh_manager, admin_user
):
    assert both(manager) == {
        ("北京分店", "2026-02"): D("177.60"),
        ("北京分店", "2026-03"): D("1284.80"),  # 299 + 3 × 299 + 88.80
        ("北京分店", "2026-04"): D("88.80"),
    }
    assert both(owner) == {
        ("北京分店", "2026-02"): D("177.60"),
        ("北京分店", "2026-03"): D("299.00"),
        ("北京分店", "2026-04"): D("88.80"),
    }
    assert both(sh_manager) == {("上海分店", "2026-04"): D("88.80")}
    assert both(admin_user)[("上海分店", "2026-04")] == D("88.80")
    assert both(owner, BY_PRODUCT) == {
        ("茶叶", "2026-02"): 1,
        ("茶叶", "2026-04"): 1,
        ("茶具", "2026-03"): 1,
        ("茶具", "2026-02"): 0,
        ("茶具", "2026-04"): 0,
        ("茶叶", "2026-03"): 0,
    }
    assert_equals_a_rebuild()


def test_a_month_is_the_offices_month(shop, owner):
    """31 March 17:30 UTC is 1 April in Beijing: the line is April's, in both paths."""
    assert both(owner, PivotSpec("order_lines", rows="month", measure="amount")) == {
        ("2026-02", "Amount"): D("177.60"),
        ("2026-03", "Amount"): D("299.00"),
        ("2026-04", "Amount"): D("88.80"),
    }


def test_whole_months_read_the_rollup_and_any_period_equals_the_scan(shop, manager):
    march = PivotSpec(
        "order_lines",
        rows="branch",
        measure="amount",
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
    )
    assert both(manager, march) == {("北京分店", "Amount"): D("1284.80")}
    part = PivotSpec(
        "order_lines", rows="branch", measure="amount", start=date(2026, 3, 6), end=date(2026, 4, 1)
    )
    assert both(manager, part) == {("北京分店", "Amount"): D("387.80")}


def test_a_reassigned_customer_takes_its_lines_to_the_new_owner(shop, manager, owner, teammate):
    customers.customer_reassign(
        actor=manager, customer_id=shop["zhang"].pk, to=teammate, reason="休假"
    )
    assert both(owner) == {}
    assert sum(both(teammate).values()) == D("1551.20")  # 张三's 565.40 + 李四's 985.80
    assert_equals_a_rebuild()


def test_a_unit_change_under_the_same_owner_moves_the_lines(shop, org, manager, sh_manager):
    customer = Customer.objects.select_for_update().get(pk=shop["zhang"].pk)
    ownership_change(
        customer=customer, reason=Reason.MANUAL_REASSIGNMENT, actor=None, org_unit=org["sh_sales"]
    )
    assert both(sh_manager) == {
        ("上海分店", "2026-02"): D("177.60"),
        ("上海分店", "2026-03"): D("299.00"),
        ("上海分店", "2026-04"): D("177.60"),
    }
    assert sum(both(manager).values()) == D("985.80")
    assert_equals_a_rebuild()


def test_a_merge_moves_the_merged_customers_lines_to_the_kept_one(shop, manager, owner, goods):
    unowned = new_customer(manager, "张三丰", ("13800000009",))
    Customer.objects.filter(pk=unowned.pk).update(owner=None)  # a desk record, say
    order(manager, unowned, datetime(2026, 2, 20, 8, tzinfo=UTC), (goods[1], 1, "299.00"))
    customers.customer_merge(actor=manager, keep_id=unowned.pk, merge_id=shop["li"].pk)
    assert_equals_a_rebuild()
    customers.customer_merge(actor=manager, keep_id=shop["zhang"].pk, merge_id=unowned.pk)
    assert sum(both(owner).values()) == D("1850.20")  # 565.40 + 985.80 + 299.00
    assert_equals_a_rebuild()


def test_shared_customers_are_added_and_unpublished_loads_left_out(
    shop, owner, outsider, admin_user
):
    customers.customer_share(actor=outsider, customer_id=shop["wang"].pk, user=owner)
    assert both(owner)[("上海分店", "2026-04")] == D("88.80")
    batch = LoadBatch.objects.create(label="导入")
    Customer.objects.filter(pk=shop["li"].pk).update(load_batch=batch.pk)
    assert sum(both(admin_user).values()) == D("654.20")  # 565.40 + 88.80, no 李四
    batch.published_at = batch.created_at
    batch.save()
    assert sum(both(admin_user).values()) == D("1640.00")


def test_reports_rebuild_recovers_a_lost_rollup(shop, manager):
    expected = rows()
    OrderLineMonth.objects.all().delete()
    call_command("reports_rebuild", verbosity=0)
    assert rows() == expected
    assert both(manager)


def test_the_demo_office_pivots_the_same_from_the_rollup(db):
    """The demo's order history is bulk-inserted: the demo command rebuilds the roll-up."""
    from guanxi.core.models import User

    call_command("demo_data", customers=80, verbosity=0)
    assert OrderLineMonth.objects.exists()
    assert both(User.objects.get(username="admin"))
    assert both(User.objects.get(username="manager"))
