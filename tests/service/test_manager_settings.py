"""The manager's settings (C5 items 3 and 4): SLA policies per ticket type and priority and
the agents' skills, edited on web pages and over the API by managers and admins, audited;
assignment follows the skills; the manager's view overrides an assignment in place."""

import json
from decimal import Decimal

import pytest

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.core.models import AuditEntry
from guanxi.sales.models import Product
from guanxi.service import services
from guanxi.service.models import AgentSkill, SlaPolicy, Ticket

from .conftest import at
from .helpers import open_ticket


@pytest.fixture
def ticket(agent, customer, owner):
    return open_ticket(owner, customer)  # a normal complaint, Thursday 10:00


def _put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


# --- SLA policies -----------------------------------------------------------------------


def test_default_policies_complaint_first_response_and_resolution_in_24_working_hours(
    client, manager
):
    for priority in ("low", "normal", "high", "urgent"):
        policy = SlaPolicy.objects.get(type="complaint", priority=priority)
        assert (policy.first_response_hours, policy.resolution_hours) == (24, 24)
    assert SlaPolicy.objects.count() == 16
    client.force_login(manager)
    page = client.get("/service/sla-policies/").content.decode()
    row = page[page.index('id="policy-complaint-normal"') :].split("</tr>")[0]
    assert row.count(">24<") == 2


def test_manager_edits_a_policy_open_tickets_follow_and_it_is_audited(client, manager, ticket):
    client.force_login(manager)
    form = client.get("/service/sla-policies/complaint/normal/")
    assert form.status_code == 200 and "1 open ticket" in form.content.decode()
    response = client.post(
        "/service/sla-policies/complaint/normal/",
        {"first_response_hours": "4", "resolution_hours": "8", "warn_before_hours": "1"},
    )
    assert response.status_code == 302 and response.url == "/service/sla-policies/"
    policy = SlaPolicy.objects.get(type="complaint", priority="normal")
    assert (policy.first_response_hours, policy.resolution_hours) == (4, 8)
    ticket.refresh_from_db()
    assert ticket.response_due_at == at(3, 15, 30)  # 4 working hours, over the lunch break
    assert ticket.resolution_due_at == at(4, 10, 30)
    entry = AuditEntry.objects.get(verb="sla.policy")
    assert entry.actor == manager
    assert entry.changes["first_response_hours"] == ["24.00", "4"]
    # Other kinds are untouched.
    assert SlaPolicy.objects.get(type="complaint", priority="high").first_response_hours == 24


@pytest.mark.parametrize(
    "values, field",
    [
        ({"first_response_hours": "8", "resolution_hours": "4"}, "resolution_hours"),
        ({"first_response_hours": "0", "resolution_hours": "4"}, "first_response_hours"),
        ({"first_response_hours": "-1", "resolution_hours": "4"}, "first_response_hours"),
        ({"first_response_hours": "abc", "resolution_hours": "4"}, "first_response_hours"),
        ({"first_response_hours": "4", "resolution_hours": "99999"}, "resolution_hours"),
        (
            {"first_response_hours": "2", "resolution_hours": "8", "warn_before_hours": "2"},
            "warn_before_hours",
        ),
    ],
)
def test_bad_policy_hours_are_refused_on_their_field_and_nothing_saved(
    client, manager, ticket, values, field
):
    before = Ticket.objects.get(pk=ticket.pk).response_due_at
    client.force_login(manager)
    response = client.post(
        "/service/sla-policies/complaint/normal/", {"warn_before_hours": "1", **values}
    )
    assert response.status_code == 200
    assert f'data-field="{field}"' in response.content.decode()
    policy = SlaPolicy.objects.get(type="complaint", priority="normal")
    assert (policy.first_response_hours, policy.resolution_hours) == (24, 24)
    assert Ticket.objects.get(pk=ticket.pk).response_due_at == before
    assert not AuditEntry.objects.filter(verb="sla.policy").exists()


def test_only_managers_and_admins_change_policies(client, agent, owner, manager):
    for user in (agent, owner):
        client.force_login(user)
        assert client.get("/service/sla-policies/").status_code == 404
        assert client.post("/service/sla-policies/complaint/normal/").status_code == 404
        assert client.get("/api/v1/service/sla-policies").status_code == 403
        with pytest.raises(Forbidden):
            services.sla_policy_set(
                actor=user,
                type="complaint",
                priority="normal",
                first_response_hours=1,
                resolution_hours=2,
            )
    client.force_login(manager)
    assert client.get("/service/sla-policies/repair/none/").status_code == 404


def test_policies_over_the_api_with_codes_and_fields(client, manager):
    client.force_login(manager)
    rows = client.get("/api/v1/service/sla-policies").json()
    assert len(rows) == 16
    bad = _put(
        client,
        "/api/v1/service/sla-policies/repair/high",
        {"first_response_hours": 10, "resolution_hours": 5},
    )
    assert bad.status_code == 422
    assert (bad.json()["code"], bad.json()["field"]) == (
        "before_first_response",
        "resolution_hours",
    )
    unknown = _put(
        client,
        "/api/v1/service/sla-policies/fax/high",
        {"first_response_hours": 1, "resolution_hours": 5},
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "type"
    good = _put(
        client,
        "/api/v1/service/sla-policies/repair/high",
        {"first_response_hours": 2.5, "resolution_hours": 16, "warn_before_hours": 1},
    )
    assert good.status_code == 200 and good.json()["first_response_hours"] == 2.5
    assert SlaPolicy.objects.get(type="repair", priority="high").first_response_hours == Decimal(
        "2.5"
    )


# --- skills -----------------------------------------------------------------------------


def test_manager_gives_an_agent_a_skill_and_assignment_uses_it(
    client, manager, agent, agent2, owner, customer
):
    # 周敏 already carries an urgent complaint; 吴强 only does repairs.
    open_ticket(owner, customer, type="complaint", priority="urgent")
    assert open_ticket(owner, customer, type="complaint").assignee == agent
    client.force_login(manager)
    page = client.get("/service/skills/").content.decode()
    assert "吴强" in page and "周敏" in page
    response = client.post(f"/service/skills/{agent2.pk}/", {"types": ["repair", "complaint"]})
    assert response.status_code == 302
    assert set(AgentSkill.objects.filter(user=agent2).values_list("type", flat=True)) == {
        "repair",
        "complaint",
    }
    # Now the less-loaded 吴强 gets the next complaint.
    assert open_ticket(owner, customer, type="complaint").assignee == agent2
    entry = AuditEntry.objects.get(verb="service.skills")
    assert entry.actor == manager and entry.target_id == agent2.pk
    assert entry.changes["types"] == [["repair"], ["complaint", "repair"]]
    # The audit log reads it in words, not codes.
    client.force_login(manager)
    log = client.get("/audit/").content.decode()
    assert "Agent&#x27;s skills changed" in log or "Agent's skills changed" in log
    assert "Complaint、Repair / after-sales" in log


def test_a_product_skill_wins_the_repair_of_that_product(
    client, manager, agent, agent2, owner, customer
):
    heater = Product.objects.create(name="燃气热水器", sku="RSQ-1", list_price=2999)
    client.force_login(manager)
    form = client.get(f"/service/skills/{agent2.pk}/").content.decode()
    assert "燃气热水器 (RSQ-1)" in form
    client.post(f"/service/skills/{agent2.pk}/", {"types": ["repair"], "products": [heater.pk]})
    entry = AuditEntry.objects.get(verb="service.skills")
    assert entry.changes["products"] == [[], ["燃气热水器"]]
    # 吴强 now repairs only heaters; 周敏 repairs everything: the heater goes to 吴强 even
    # when he carries more load, other repairs to 周敏.
    open_ticket(owner, customer, type="repair", priority="urgent", product_id=heater.pk)
    assert open_ticket(owner, customer, type="repair", product_id=heater.pk).assignee == agent2
    assert open_ticket(owner, customer, type="repair").assignee == agent


def test_bad_skills_are_refused_and_nothing_changes(manager, agent2, org):
    for kwargs, field in (
        ({"types": ["fax"]}, "types"),
        ({"types": ["repair"], "product_ids": [999999]}, "product_ids"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            services.agent_skill_set(actor=manager, user_id=agent2.pk, **kwargs)
        assert exc.value.field == field
    assert list(AgentSkill.objects.filter(user=agent2).values_list("type", flat=True)) == ["repair"]
    assert not AuditEntry.objects.filter(verb="service.skills").exists()


def test_a_manager_sets_skills_only_in_their_units(client, manager, sh_agent, agent):
    client.force_login(manager)
    assert "孙丽" not in client.get("/service/skills/").content.decode()
    assert client.get(f"/service/skills/{sh_agent.pk}/").status_code == 404
    with pytest.raises(NotFound):
        services.agent_skill_set(actor=manager, user_id=sh_agent.pk, types=["repair"])
    client.force_login(agent)
    assert client.get("/service/skills/").status_code == 404
    assert client.get("/api/v1/service/skills").status_code == 403


def test_skills_over_the_api(client, manager, agent2):
    client.force_login(manager)
    put = _put(client, f"/api/v1/service/skills/{agent2.pk}", {"types": ["inquiry"]})
    assert put.status_code == 200
    assert put.json()["skills"] == [{"type": "inquiry", "product_id": None}]
    bad = _put(client, f"/api/v1/service/skills/{agent2.pk}", {"types": ["x"]})
    assert bad.status_code == 422 and bad.json()["field"] == "types"
    extra = _put(client, f"/api/v1/service/skills/{agent2.pk}", {"types": [], "admin": True})
    assert extra.status_code == 422
    listed = {a["user_id"]: a for a in client.get("/api/v1/service/skills").json()}
    assert listed[agent2.pk]["skills"] == [{"type": "inquiry", "product_id": None}]


# --- the manager's queue view -----------------------------------------------------------


def test_manager_overrides_an_assignment_from_the_managers_view(
    client, manager, agent, agent2, ticket
):
    client.force_login(manager)
    page = client.get("/service/manager/").content.decode()
    assert 'id="link-skills"' in page and 'id="link-sla-policies"' in page
    unassigned = open_ticket(manager, ticket.customer, type="inquiry", subject="安装预约")
    Ticket.objects.filter(pk=unassigned.pk).update(assignee=None, status="new")
    page = client.get("/service/manager/").content.decode()
    assert f'id="assign-{unassigned.pk}"' in page
    response = client.post(
        f"/service/tickets/{unassigned.pk}/assign/",
        {"assignee": str(agent2.pk), "next": "/service/manager/"},
    )
    assert response.url == "/service/manager/"
    assert Ticket.objects.get(pk=unassigned.pk).assignee == agent2
    assert AuditEntry.objects.filter(verb="ticket.assign", target_id=unassigned.pk).exists()
    # An outside `next` is not followed.
    response = client.post(
        f"/service/tickets/{ticket.pk}/assign/",
        {"assignee": str(agent2.pk), "next": "https://evil.example/"},
    )
    assert response.url == ticket.get_absolute_url()
