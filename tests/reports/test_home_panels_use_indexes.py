"""The home panels of sales, reception, interactions and customers read through indexes for
every role (issue 18: home p95 ≤ 100 ms at a million customers): the plan of each query,
asked of the database (core.query_plans). Not yet: the team pipeline of a manager or an
administrator (a GROUP BY over their deals, from a covering index: a running figure per
stage is the next step), core's system health and recent activity, marketing's consent
counts (docs/performance.md, issue 18)."""

import pytest

from guanxi.core.home import home_panels_for
from guanxi.core.query_plans import full_scans
from guanxi.sales import services
from tests.conftest import new_customer
from tests.sales.conftest import deposit, open_deal, pay

# Settings, rules, stages, org units and users: rows by the dozen in an office, read whole.
SMALL = frozenset(
    {
        "customers_loadbatch",
        "core_user",
        "core_userrole",
        "core_orgunit",
        "core_businesscalendar",
        "core_holiday",
        "sales_pipelinestage",
    }
)
CHECKED = ("sales.", "reception.", "interactions.", "customers.")
NOT_YET = {("manager", "sales.pipeline"), ("admin_user", "sales.pipeline")}


@pytest.fixture
def office(owner, teammate, finance, customer, flat, units):
    bought = open_deal(owner, customer, flat, title="小定", amount="2000000")
    deposit(owner, bought, units[0], amount="50000")
    pay(finance, bought, "50000.00", instalment=bought.instalments.get())
    other = new_customer(teammate, "李四", ("13800001111",))
    quoted = open_deal(teammate, other, flat, title="报价", amount="1800000")
    services.deal_move(actor=teammate, deal_id=quoted.pk, to_stage="quoted")


@pytest.mark.parametrize(
    "role",
    ["owner", "manager", "finance", "receptionist", "service_agent", "marketer", "admin_user"],
)
def test_every_home_panel_reads_through_indexes(office, role, request):
    user = request.getfixturevalue(role)
    panels = home_panels_for(user)
    assert panels
    found = {
        panel.name: scans
        for panel, _context in panels
        if panel.name.startswith(CHECKED)
        and (role, panel.name) not in NOT_YET
        and (scans := full_scans(lambda p=panel: p.context(user), small_tables=SMALL))
    }
    assert found == {}
