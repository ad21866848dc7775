"""Reports (SPEC C6): each figure against a hand count on a small fixed data set, and the same
report as two roles giving different, correct totals (visibility)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.reports import selectors
from guanxi.reports.models import ForecastSnapshot, SavedPivot
from guanxi.reports.pivot import PivotSpec, pivot_compute
from guanxi.sales import services
from guanxi.sales.models import Deal
from tests.conftest import new_customer
from tests.sales.conftest import deposit, open_deal, pay


@pytest.fixture
def office(owner, teammate, finance, customer, flat, units):
    """张伟 (owner): three deals — one left as a lead, one quoted, one with a small deposit
    paid in full (¥50,000) and a second payment of ¥100,000; 李娜 (teammate): one deal with
    a ¥30,000 deposit paid."""
    lead = open_deal(owner, customer, flat, title="线索", amount="1000000")
    quoted = open_deal(owner, customer, flat, title="报价", amount="2000000")
    services.deal_move(actor=owner, deal_id=quoted.pk, to_stage="quoted")
    bought = open_deal(owner, customer, flat, title="小定", amount="2000000")
    deposit(owner, bought, units[0], amount="50000")
    pay(finance, bought, "50000.00", instalment=bought.instalments.get())
    pay(finance, bought, "100000.00")
    other = new_customer(teammate, "李四", ("13800001111",))
    theirs = open_deal(teammate, other, flat, title="同事", amount="1800000")
    deposit(teammate, theirs, units[1], amount="30000")
    pay(finance, theirs, "30000.00", instalment=theirs.instalments.get())
    return {"lead": lead, "quoted": quoted, "bought": bought, "theirs": theirs}


def _today():
    return timezone.localdate()


def test_funnel_counts_deals_that_reached_each_stage_skipped_stages_included(office, owner):
    steps = {s.code: s for s in selectors.funnel(viewer=owner, start=_today(), end=_today())}
    assert steps["lead"].reached == 3
    assert steps["needs_confirmed"].reached == 2  # quoted and the deposit skipped it
    assert steps["quoted"].reached == 2
    assert steps["small_deposit"].reached == 1
    assert steps["large_deposit"].reached == 0
    assert steps["needs_confirmed"].conversion == pytest.approx(0.667, abs=0.001)
    assert steps["small_deposit"].conversion == 0.5


def test_funnel_as_manager_and_as_salesperson_differ_by_what_each_may_see(
    office, owner, manager, outsider
):
    def leads(user):
        steps = selectors.funnel(viewer=user, start=_today(), end=_today())
        return next(s.reached for s in steps if s.code == "lead")

    assert (leads(owner), leads(manager), leads(outsider)) == (3, 4, 0)


def test_revenue_by_salesperson_sums_the_payments_received(office, owner, manager, teammate):
    spec = PivotSpec("revenue", rows="owner", measure="amount")
    as_manager = pivot_compute(viewer=manager, spec=spec)
    totals = {label: total for _key, label, _values, total in as_manager.rows}
    assert totals == {"张伟": Decimal("150000.00"), "李娜": Decimal("30000.00")}
    assert as_manager.total == Decimal("180000.00")
    assert pivot_compute(viewer=owner, spec=spec).total == Decimal("150000.00")


def test_pivot_deals_by_stage_and_salesperson_counts_each_cell(office, manager):
    result = pivot_compute(
        viewer=manager, spec=PivotSpec("deals", rows="stage", columns="owner", measure="count")
    )
    columns = [label for _key, label in result.columns]
    cells = {
        label: dict(zip(columns, values, strict=True)) for _k, label, values, _t in result.rows
    }
    assert cells["Lead"] == {"张伟": 1, "李娜": 0}
    assert cells["Small deposit (小定)"] == {"张伟": 1, "李娜": 1}
    assert result.total == 4


def test_pivot_refuses_unknown_choices_with_the_field_named(manager):
    with pytest.raises(ValidationFailed) as refused:
        pivot_compute(viewer=manager, spec=PivotSpec("deals", rows="nonsense", measure="count"))
    assert refused.value.field == "rows"
    with pytest.raises(ValidationFailed) as refused:
        pivot_compute(viewer=manager, spec=PivotSpec("deals", rows="stage", columns="stage"))
    assert refused.value.field == "columns"


def test_a_marketer_may_not_pivot_money(marketer):
    with pytest.raises(Forbidden):
        pivot_compute(viewer=marketer, spec=PivotSpec("revenue", rows="month", measure="amount"))


def test_staff_performance_counts_won_and_lost_deals_and_receipts(office, owner, manager):
    services.deal_move(actor=owner, deal_id=office["lead"].pk, to_stage="lost", lost_reason="价格")
    rows = {
        r.name: r for r in selectors.staff_performance(viewer=manager, start=_today(), end=_today())
    }
    assert rows["张伟"].opened == 3 and rows["张伟"].lost == 1 and rows["张伟"].won == 0
    assert rows["张伟"].success_rate == 0.0
    assert rows["张伟"].revenue == Decimal("150000.00")
    assert rows["李娜"].revenue == Decimal("30000.00")


def test_forecast_weighs_open_deals_by_stage_probability_in_their_closing_month(
    office, owner, client
):
    next_month = (_today().replace(day=1) + timedelta(days=32)).replace(day=1)
    Deal.objects.filter(pk=office["quoted"].pk).update(expected_close=next_month)
    months = {m.month: m for m in selectors.forecast(viewer=owner)}
    assert months[next_month].weighted == Decimal("600000.00")  # 2,000,000 × 30 %
    assert months[_today().replace(day=1)].actual == Decimal("150000.00")
    client.force_login(owner)
    client.get("/reports/forecast/")
    client.get("/reports/forecast/")
    snapshot = ForecastSnapshot.objects.get(viewer=owner, month=next_month)
    assert snapshot.weighted == Decimal("600000.00")


def test_csv_and_excel_exports_carry_the_table_and_no_formula(office, owner, finance, client, flat):
    evil = new_customer(owner, '=HYPERLINK("http://x")', ("13800002222",))
    deal = open_deal(owner, evil, flat, amount="100")
    pay(finance, deal, "100.00")
    client.force_login(owner)
    response = client.get("/reports/revenue/", {"by": "customer", "export": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert any(row[0].startswith("'=HYPERLINK") for row in rows)
    response = client.get("/reports/revenue/", {"by": "customer", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[0].value for row in sheet.iter_rows()]
    assert '=HYPERLINK("http://x")' in names
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_report_pages_render_for_a_manager_and_hide_from_a_receptionist(
    office, manager, receptionist, client
):
    client.force_login(manager)
    for url in (
        "/reports/",
        "/reports/funnel/",
        "/reports/staff/",
        "/reports/revenue/",
        "/reports/forecast/",
        "/reports/pivot/?dataset=deals&rows=stage&measure=count",
    ):
        assert client.get(url).status_code == 200, url
    client.force_login(receptionist)
    assert client.get("/reports/funnel/").status_code == 404
    assert client.get("/reports/revenue/").status_code == 404


def test_a_bad_period_keeps_what_was_typed_and_names_the_field(manager, client):
    client.force_login(manager)
    html = client.get("/reports/funnel/", {"start": "2026-05-01", "end": "2026-01-01"}).content
    assert b"The end is before the start." in html
    assert b'value="2026-05-01"' in html
    assert client.get("/reports/staff/", {"start": "1066-10-14"}).status_code == 200


def test_saved_pivots_are_the_owners_and_shared_ones_are_listed_for_all(
    office, owner, teammate, client
):
    client.force_login(owner)
    form = {"dataset": "deals", "rows": "stage", "columns": "", "measure": "count"}
    client.post("/reports/pivot/save/", {**form, "name": "各阶段", "shared": "on"})
    client.post("/reports/pivot/save/", {**form, "name": "各阶段"})
    assert SavedPivot.objects.filter(owner=owner).count() == 1
    saved = SavedPivot.objects.get()
    client.force_login(teammate)
    assert "各阶段" in client.get("/reports/pivot/").content.decode()
    client.post(f"/reports/pivot/{saved.pk}/delete/")
    assert SavedPivot.objects.filter(pk=saved.pk).exists()


def test_pivot_rolls_departments_up_to_their_branch(office, admin_user, outsider, flat):
    shanghai = new_customer(outsider, "王五", ("13800003333",))
    open_deal(outsider, shanghai, flat, amount="500000")
    result = pivot_compute(
        viewer=admin_user, spec=PivotSpec("deals", rows="branch", measure="amount")
    )
    totals = {label: total for _key, label, _values, total in result.rows}
    assert totals == {"北京分店": Decimal("6800000.00"), "上海分店": Decimal("500000.00")}
