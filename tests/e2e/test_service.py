"""The service flow in a real browser (SPEC C5): a customer writes in through the public
contact form (the proof-of-work captcha solved by the ALTCHA widget); the agent on duty
sees the ticket with its SLA timer, answers and resolves it; the survey link records a
score; the return visit (回访) appears on the owner's "my day"."""

import re

import pytest
from playwright.sync_api import expect

from guanxi.service.models import Survey, Ticket
from tests.conftest import PASSWORD, new_customer
from tests.service.conftest import _skilled

from .helpers import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_public_request_to_resolution_survey_and_return_visit(
    new_page, settings, org, owner, service_agent
):
    settings.GUANXI_CAPTCHA_PREFIX = "00"
    settings.GUANXI_SERVICE_WEB_UNIT = org["bj"].pk
    _skilled(service_agent, "repair")
    customer = new_customer(owner, "王小明", ("13912340000",))

    visitor = new_page()
    visitor.goto("/help/contact/")
    visitor.fill("#c-name", "王小明")
    visitor.fill("#c-phone", "139 1234 0000")
    visitor.select_option("#c-type", "repair")
    visitor.fill("#c-message", "热水器点不着火\n已经检查过燃气阀门")
    # The widget solves the challenge on load and puts its payload in the form.
    expect(visitor.locator("input[name=altcha]")).to_have_value(re.compile(r".{40,}"))
    shot(visitor, "service-01-contact-form")
    visitor.click("#contact-send")
    expect(visitor.locator("#contact-done")).to_contain_text("Your request number is")
    ticket = Ticket.objects.get()
    assert ticket.customer == customer and ticket.assignee == service_agent

    agent = new_page()
    log_in(agent, "service", PASSWORD)
    agent.click("#nav-service")
    row = agent.locator(".ticket-row", has_text="热水器点不着火")
    expect(row).to_contain_text("Due ")
    shot(agent, "service-02-queue")
    row.get_by_role("link", name="热水器点不着火").click()
    expect(agent.locator("#sla-timer")).to_contain_text("Due ")
    agent.fill("#id_body", "您好，师傅明天上午上门。")
    agent.click("#reply-send")
    expect(agent.locator("#ticket-status")).to_have_text("In progress")
    agent.fill("#resolution", "更换点火针")
    agent.click("#to-resolved")
    expect(agent.locator("#ticket-status")).to_have_text("Resolved")
    survey_url = agent.locator("#survey-link").input_value()
    shot(agent, "service-03-resolved")

    customer_page = new_page()
    customer_page.goto(survey_url)
    customer_page.check("#score-5")
    customer_page.fill("#s-comment", "师傅很专业")
    customer_page.click("#survey-send")
    expect(customer_page.locator("#survey-done")).to_be_visible()
    assert Survey.objects.get(ticket=ticket).score == 5

    sales = new_page()
    log_in(sales, "sales1", PASSWORD)
    sales.goto("/my-day/")
    expect(sales.get_by_text("Return visit (回访) due")).to_be_visible()
    shot(sales, "service-04-my-day-return-visit")
