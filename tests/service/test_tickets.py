"""Tickets (C5): who sees them, masking on the ticket page, the queue with filters and
keyset pages, quick create from the customer page, the API, the timeline, webhooks and
assignment by skill and load."""

import json

import pytest

from guanxi.core.errors import Forbidden
from guanxi.core.models import Webhook, WebhookDelivery
from guanxi.service import services
from guanxi.service.models import Status, Ticket
from tests.conftest import new_customer

from .helpers import open_ticket


@pytest.fixture
def ticket(agent, customer, owner):
    return open_ticket(owner, customer)


# --- visibility -----------------------------------------------------------------------


def test_agent_sees_the_tickets_of_their_unit(client, agent, ticket):
    client.force_login(agent)
    assert client.get(ticket.get_absolute_url()).status_code == 200


def test_agent_of_another_branch_gets_404(client, sh_agent, ticket):
    client.force_login(sh_agent)
    assert client.get(ticket.get_absolute_url()).status_code == 404
    assert client.get(f"/api/v1/service/tickets/{ticket.pk}").json()["code"] == "not_found"


def test_salesperson_sees_only_their_customers_tickets(client, owner, teammate, ticket):
    client.force_login(owner)
    assert client.get(ticket.get_absolute_url()).status_code == 200
    client.force_login(teammate)
    assert client.get(ticket.get_absolute_url()).status_code == 404
    assert "热水器" not in client.get("/service/?status=all").content.decode()


def test_ticket_page_masks_the_customers_phone_for_the_agent(client, agent, owner, ticket):
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "138****5678" in page and "138 1234 5678" not in page
    client.force_login(owner)
    assert "138****5678" not in client.get(ticket.get_absolute_url()).content.decode()


def test_web_contact_phone_is_clear_to_the_agent_masked_to_the_front_desk(
    client, agent, receptionist, org
):
    web = services.ticket_create(
        actor=None,
        customer_id=None,
        type="inquiry",
        channel="web",
        subject="咨询保修",
        org_unit=org["bj"],
        contact={"name": "李先生", "phone": "13900001111"},
    )
    client.force_login(agent)
    assert "139 0000 1111" in client.get(web.get_absolute_url()).content.decode()
    client.force_login(receptionist)
    page = client.get(web.get_absolute_url()).content.decode()
    assert "139****1111" in page and "13900001111" not in page


# --- the queue --------------------------------------------------------------------------


def test_queue_shows_the_sla_timer_most_urgent_first(client, agent, customer, owner):
    later = open_ticket(owner, customer, type="complaint", priority="high", subject="态度差")
    sooner = open_ticket(owner, customer, type="repair", subject="空调漏水")  # answer in 8 h
    client.force_login(agent)
    page = client.get("/service/").content.decode()
    assert page.index("空调漏水") < page.index("态度差")
    assert "Due 4 Dec, 10:30" in page and "Due 8 Dec, 11:30" in page
    assert later.due_at > sooner.due_at


def test_queue_pages_by_keyset_without_overlap(client, agent, customer, owner):
    for i in range(30):
        open_ticket(owner, customer, subject=f"工单{i:02d}", auto_assign=False)
    client.force_login(agent)
    first = client.get("/api/v1/service/tickets?limit=25").json()
    second = client.get(f"/api/v1/service/tickets?limit=25&cursor={first['next_cursor']}").json()
    ids = [t["id"] for t in first["items"]] + [t["id"] for t in second["items"]]
    assert len(first["items"]) == 25 and len(second["items"]) == 5
    assert len(set(ids)) == 30 and second["next_cursor"] == ""


def test_queue_filters_by_type_and_assignee(client, agent, customer, owner):
    open_ticket(owner, customer, type="repair", subject="空调漏水")
    open_ticket(owner, customer, type="inquiry", subject="营业时间", auto_assign=False)
    client.force_login(agent)
    page = client.get("/service/?type=repair").content.decode()
    assert "空调漏水" in page and "营业时间" not in page
    page = client.get("/service/?assignee=none").content.decode()
    assert "营业时间" in page and "空调漏水" not in page


def test_bad_queue_filters_are_a_clear_error_not_a_500(client, agent):
    client.force_login(agent)
    response = client.get("/service/?status=nonsense")
    assert response.status_code == 200 and "Unknown status." in response.content.decode()
    api = client.get("/api/v1/service/tickets?cursor=%%%")
    assert api.status_code == 422 and api.json()["code"] == "invalid_cursor"


# --- creating ---------------------------------------------------------------------------


def test_quick_create_from_the_customer_page(client, owner, customer, agent):
    client.force_login(owner)
    form = client.get(f"/service/new/?customer={customer.pk}")
    assert form.status_code == 200
    response = client.post(
        f"/service/new/?customer={customer.pk}",
        {"type": "repair", "priority": "normal", "channel": "visit", "subject": "洗衣机异响"},
    )
    ticket = Ticket.objects.get(subject="洗衣机异响")
    assert response.url == ticket.get_absolute_url()
    assert ticket.customer == customer and ticket.assignee == agent


def test_oversized_subject_is_refused_and_nothing_saved(client, owner, customer):
    client.force_login(owner)
    response = client.post(
        "/api/v1/service/tickets",
        json.dumps({"customer_id": customer.pk, "type": "repair", "subject": "长" * 201}),
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["field"] == "subject"
    response = client.post(
        "/api/v1/service/tickets",
        json.dumps({"customer_id": customer.pk, "type": "broken", "subject": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["field"] == "type"
    assert not Ticket.objects.exists()


def test_api_create_reply_and_resolve(client, agent, owner, customer):
    client.force_login(owner)
    created = client.post(
        "/api/v1/service/tickets",
        json.dumps({"customer_id": customer.pk, "type": "complaint", "subject": "送货延迟"}),
        content_type="application/json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    client.force_login(agent)
    reply = client.post(
        f"/api/v1/service/tickets/{pk}/reply",
        json.dumps({"body": "已联系物流"}),
        content_type="application/json",
    )
    assert reply.json()["status"] == "in_progress"
    wrong = client.post(
        f"/api/v1/service/tickets/{pk}/status",
        json.dumps({"status": "closed"}),
        content_type="application/json",
    )
    assert wrong.status_code == 409 and wrong.json()["code"] == "invalid_transition"
    done = client.post(
        f"/api/v1/service/tickets/{pk}/status",
        json.dumps({"status": "resolved", "resolution": "补发"}),
        content_type="application/json",
    )
    assert done.json()["status"] == "resolved"


def test_customer_page_timeline_shows_the_ticket(client, owner, ticket):
    client.force_login(owner)
    page = client.get(ticket.customer.get_absolute_url()).content.decode()
    assert "Ticket opened: Complaint" in page


def test_webhooks_for_created_and_resolved(agent, owner, customer):
    Webhook.objects.create(
        name="h", url="https://example.cn/h", events=["ticket.created", "ticket.resolved"]
    )
    ticket = open_ticket(owner, customer)
    services.ticket_transition(
        actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED, resolution="已解决"
    )
    events = list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))
    assert events == ["ticket.created", "ticket.resolved"]


# --- assignment -------------------------------------------------------------------------


def test_assignment_goes_to_the_least_loaded_skilled_agent(agent, agent2, owner, customer):
    first = open_ticket(owner, customer, type="repair", priority="urgent")
    second = open_ticket(owner, customer, type="repair")
    assert {first.assignee, second.assignee} == {agent, agent2}
    # A complaint only 周敏 has the skill for, whatever the load.
    assert open_ticket(owner, customer, type="complaint").assignee == agent


def test_nobody_with_the_skill_leaves_it_unassigned(agent2, owner, customer):
    ticket = open_ticket(owner, customer, type="inquiry")
    assert ticket.assignee is None and ticket.status == Status.NEW


def test_manager_overrides_the_assignment(manager, agent, agent2, ticket):
    services.ticket_assign(actor=manager, ticket_id=ticket.pk, assignee_id=agent2.pk)
    ticket.refresh_from_db()
    assert ticket.assignee == agent2


def test_an_agent_cannot_reassign_a_colleagues_ticket(agent, agent2, ticket):
    with pytest.raises(Forbidden):
        services.ticket_assign(actor=agent2, ticket_id=ticket.pk, assignee_id=agent2.pk)


def test_manager_view_shows_loads_and_late_tickets(client, manager, agent, ticket, clock):
    from .conftest import at

    clock.move_to(at(9, 10))
    services.sla_scan()
    client.force_login(manager)
    page = client.get("/service/manager/").content.decode()
    assert "周敏" in page and "热水器不出热水" in page and "Late since" in page


def test_customer_of_another_branch_goes_to_its_branch(outsider, sh_agent):
    customer = new_customer(outsider, "王五", ("13700001234",))
    ticket = open_ticket(outsider, customer)
    assert ticket.org_unit.name == "上海分店" and ticket.assignee == sh_agent


def test_agents_home_shows_their_open_and_late_tickets(client, agent, ticket, clock):
    from .conftest import at

    clock.move_to(at(9, 10))
    services.sla_scan()
    client.force_login(agent)
    page = client.get("/").content.decode()
    assert 'data-panel="service.my_service"' in page and "My open tickets" in page
