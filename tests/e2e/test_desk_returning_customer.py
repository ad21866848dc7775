"""The desk in a real browser (issue 11 item 3): a returning customer of B arrives, the desk
shows B as the owner before the receptionist confirms, B receives them without a turn and gets
a notice; a new visitor then goes to the one in turn."""

import pytest
from playwright.sync_api import expect

from guanxi.core.models import Role
from guanxi.reception import services
from guanxi.reception.models import Visit
from tests.conftest import PASSWORD, make_user

from .helpers import log_in, log_out, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office(org):
    people = [
        make_user(f"sales{i}", org["bj_sales"], Role.SALES, display_name=name)
        for i, name in enumerate(["张伟", "李娜", "王芳"], start=1)
    ]
    receptionist = make_user("reception", org["bj"], Role.RECEPTIONIST, display_name="前台小周")
    services.roster_set(actor=receptionist, salesperson_ids=[u.pk for u in people])
    for phone, name in (("13900000011", "周先生"), ("13900000012", "钱先生")):
        services.visit_register_and_receive(
            actor=receptionist, registration=services.Registration(phone=phone, name=name)
        )
    return {"people": people, "receptionist": receptionist}


def test_a_returning_customer_of_b_goes_to_b_who_is_notified(new_page, office):
    _a, b, c = office["people"]
    page = new_page()
    log_in(page, "reception", PASSWORD)
    page.goto("/reception/")
    expect(page.locator("#next-up")).to_have_text("王芳")
    page.fill("#phone", "139 0000 0012")
    expect(page.locator("#returning-customer")).to_contain_text("钱先生")
    expect(page.locator("#returning-customer")).to_contain_text("李娜")
    shot(page, "desk-returning-customer-owner-shown")
    page.click("#register-visitor")
    expect(page.locator("#decision-receiver")).to_have_text("李娜")
    expect(page.locator("#next-up")).to_have_text("王芳")  # no turn taken

    page.fill("#phone", "139 0000 0013")
    page.fill("#name", "孙女士")
    page.click("#register-visitor")
    expect(page.locator("#decision-receiver")).to_have_text("王芳")
    assert list(Visit.objects.order_by("pk").values_list("receiver_id", flat=True))[-2:] == [
        b.pk,
        c.pk,
    ]
    log_out(page)

    log_in(page, "sales2", PASSWORD)
    page.goto("/my-day/")
    expect(page.locator("body")).to_contain_text("钱先生")
    shot(page, "desk-returning-customer-notice")
