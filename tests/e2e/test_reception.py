"""The front desk in a real browser: the receptionist registers three walk-ins and the "who
is next" panel follows the queue; a manager then settles an ownership dispute."""

import re

import pytest
from playwright.sync_api import expect

from guanxi.core.models import Role
from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.models import CreditDecision, Dispute, Visit
from tests.conftest import PASSWORD, make_user

from .helpers import log_in, log_out, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office(org):
    """北京分店: a receptionist, a manager and three salespeople on today's queue, in order."""
    people = [
        make_user(f"sales{i}", org["bj_sales"], Role.SALES, display_name=name)
        for i, name in enumerate(["张伟", "李娜", "王芳"], start=1)
    ]
    receptionist = make_user("reception", org["bj"], Role.RECEPTIONIST, display_name="前台小周")
    manager = make_user("manager", org["bj"], Role.MANAGER, display_name="王经理")
    services.roster_set(actor=receptionist, salesperson_ids=[u.pk for u in people])
    return {"people": people, "receptionist": receptionist, "manager": manager}


def test_three_walk_ins_follow_the_queue_and_a_manager_settles_a_dispute(new_page, office):
    a, b, c = office["people"]
    page = new_page()
    log_in(page, "reception", PASSWORD)
    page.goto("/reception/")
    expect(page.locator("#next-up")).to_have_text("张伟")
    expect(page.locator("#after-next")).to_have_text("李娜")
    shot(page, "reception-01-desk-empty")

    walk_ins = [
        ("139 0000 0001", "周先生"),
        ("139 0000 0002", "吴女士"),
        ("139 0000 0003", "郑先生"),
    ]
    expected = [(a, b), (b, c), (c, a)]
    for n, ((phone, name), (receiver, next_up)) in enumerate(
        zip(walk_ins, expected, strict=True), start=1
    ):
        page.fill("#phone", phone)
        page.fill("#name", name)
        page.click("#register-visitor")
        expect(page.locator("#decision")).to_contain_text(name)
        expect(page.locator("#decision-receiver")).to_have_text(str(receiver))
        expect(page.locator("#next-up")).to_have_text(str(next_up))
        expect(page.locator("#phone")).to_have_value("")  # ready for the next visitor
        shot(page, f"reception-0{n + 1}-walk-in-{n}")

    receivers = list(Visit.objects.order_by("pk").values_list("receiver_id", flat=True))
    assert receivers == [a.pk, b.pk, c.pk]
    # The big screen agrees: A is next again.
    page.goto("/reception/next/")
    expect(page.locator("#next-up")).to_have_text("张伟")
    log_out(page)

    # 周先生 comes back, names 张伟 but refuses him and complains: received by the one in
    # turn while the manager looks into it.
    visit = services.visit_register_and_receive(
        actor=office["receptionist"],
        registration=services.Registration(
            phone="13900000001", named=(a.pk,), refuses=a.pk, complaint=True
        ),
    )
    dispute = Dispute.objects.get(visit=visit, state="open")
    customer = Customer.objects.get(pk=visit.customer_id)

    log_in(page, "manager", PASSWORD)
    page.goto("/reception/disputes/")
    row = page.locator("#disputes li", has_text="周先生")
    expect(row).to_have_count(1)
    shot(page, "reception-05-open-disputes")
    row.get_by_role("link").last.click()
    expect(page).to_have_url(re.compile(rf"/reception/disputes/{dispute.pk}/$"))
    page.select_option("#credit", str(b.pk))
    page.fill(f"#pct-{b.pk}", "100")
    page.fill("#reason", "投诉属实，由李娜跟进")
    shot(page, "reception-06-decide")
    page.click("#decide")
    expect(page).to_have_url(re.compile(r"/reception/disputes/$"))
    expect(page.locator("#disputes")).not_to_contain_text("周先生")
    expect(page.locator("#disputes")).to_contain_text("No open disputes")
    shot(page, "reception-07-dispute-settled")

    dispute.refresh_from_db()
    customer.refresh_from_db()
    assert (dispute.state, dispute.decided_by_id) == ("decided", office["manager"].pk)
    assert dispute.reason == "投诉属实，由李娜跟进"
    assert customer.owner_id == b.pk
    current = CreditDecision.objects.get(customer=customer, is_current=True)
    assert [(s.salesperson_id, s.percent) for s in current.shares.all()] == [(b.pk, 100)]
