"""Bad input to the manager's settings (C5 items 3 and 4; SPEC: never a 500 for bad input,
clear errors, nothing half-saved): the SLA policy and skills endpoints, over the API and on
the web forms, with oversized values, negative or huge hours, control characters, unknown
ids and wrong types. The API answers a documented 4xx with a machine-readable `code` and
the `field` concerned; the form shows the error on its field; the policy, the skills, the
open tickets' deadlines and the audit log are as before."""

import json

import pytest

from guanxi.core.models import AuditEntry
from guanxi.sales.models import Product
from guanxi.service.models import AgentSkill, SlaPolicy, Ticket

from .helpers import open_ticket

POLICY_API = "/api/v1/service/sla-policies/complaint/normal"
POLICY_FORM = "/service/sla-policies/complaint/normal/"
HUGE_ID = 2**70  # beyond any database integer


@pytest.fixture
def ticket(agent, customer, owner):
    return open_ticket(owner, customer)  # a normal complaint: its deadlines follow the policy


def _put(client, url, body: str):
    return client.put(url, body, content_type="application/json")


def _unchanged(ticket, before) -> None:
    policy = SlaPolicy.objects.get(type="complaint", priority="normal")
    assert (policy.first_response_hours, policy.resolution_hours, policy.warn_before_hours) == (
        24,
        24,
        2,
    )
    assert Ticket.objects.get(pk=ticket.pk).response_due_at == before
    assert not AuditEntry.objects.filter(verb="sla.policy").exists()


GOOD = {"first_response_hours": 4, "resolution_hours": 8, "warn_before_hours": 1}


def _body(**changes) -> str:
    return json.dumps({**GOOD, **changes})


@pytest.mark.parametrize(
    "body, field, code",
    [
        (_body(first_response_hours=-5), "first_response_hours", "invalid"),
        (_body(resolution_hours=-0.01), "resolution_hours", "invalid"),
        (_body(warn_before_hours=-1), "warn_before_hours", "invalid"),
        (_body(first_response_hours=1e300), "first_response_hours", "invalid"),
        (_body(resolution_hours=10000.01), "resolution_hours", "invalid"),
        (_body(first_response_hours=0.001), "first_response_hours", "invalid"),
        (_body(first_response_hours=0), "first_response_hours", "invalid"),
        (_body(first_response_hours="abc"), "first_response_hours", "float_parsing"),
        (_body(first_response_hours="4\x00"), "first_response_hours", "nul_character"),
        (_body(first_response_hours="4\x1b[2J"), "first_response_hours", "control_character"),
        (_body(first_response_hours="9" * 5000), "first_response_hours", "invalid"),
        (_body(first_response_hours=None), "first_response_hours", "float_type"),
        (_body(first_response_hours=[4]), "first_response_hours", "float_type"),
        (_body(first_response_hours={"h": 4}), "first_response_hours", "float_type"),
        (_body(first_response_hours=True), "first_response_hours", "float_type"),
        (json.dumps({"resolution_hours": 8}), "first_response_hours", "missing"),
        (_body(stored=True), "stored", "unknown_field"),
        (_body(resolution_hours=2), "resolution_hours", "before_first_response"),
        (_body(warn_before_hours=4), "warn_before_hours", "too_early"),
    ],
)
def test_bad_policy_over_the_api_is_a_422_on_its_field_and_nothing_saved(
    client, manager, ticket, body, field, code
):
    before = ticket.response_due_at
    client.force_login(manager)
    response = _put(client, POLICY_API, body)
    assert response.status_code == 422, response.content
    assert (response.json()["field"], response.json()["code"]) == (field, code)
    assert response.json()["message"]
    _unchanged(ticket, before)


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/service/sla-policies/fax/normal", "type"),
        ("/api/v1/service/sla-policies/complaint/asap", "priority"),
        ("/api/v1/service/sla-policies/complaint%00/normal", "type"),
        ("/api/v1/service/sla-policies/complaint/normal%0A", "priority"),
        ("/api/v1/service/sla-policies/" + "x" * 3000 + "/normal", "type"),
    ],
)
def test_unknown_policy_kind_over_the_api_is_a_422_on_its_field(
    client, manager, ticket, url, field
):
    before = ticket.response_due_at
    client.force_login(manager)
    response = _put(client, url, _body())
    assert response.status_code == 422, response.content
    assert (response.json()["field"], response.json()["code"]) == (field, "invalid_choice")
    _unchanged(ticket, before)
    assert SlaPolicy.objects.count() == 16


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[1, 2]",
        '"4"',
        "{" * 5000,
        json.dumps({"x": "y" * 2_000_000}),
        _body(resolution_hours=float("inf")),  # Infinity and NaN are not JSON
        _body(first_response_hours=float("nan")),
    ],
)
def test_a_policy_body_that_is_not_an_object_is_a_4xx_with_a_code(client, manager, ticket, body):
    before = ticket.response_due_at
    client.force_login(manager)
    response = _put(client, POLICY_API, body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] and "field" in response.json()
    _unchanged(ticket, before)


@pytest.mark.parametrize(
    "values, field",
    [
        ({"first_response_hours": "NaN"}, "first_response_hours"),
        ({"resolution_hours": "Infinity"}, "resolution_hours"),
        ({"resolution_hours": "-Infinity"}, "resolution_hours"),
        ({"first_response_hours": "1e400"}, "first_response_hours"),
        ({"first_response_hours": "4\x00"}, "first_response_hours"),
        ({"first_response_hours": "\x1b[2J4"}, "first_response_hours"),
        ({"resolution_hours": "9" * 5000}, "resolution_hours"),
        ({"warn_before_hours": "-0.5"}, "warn_before_hours"),
        ({"warn_before_hours": ""}, "warn_before_hours"),
        ({"first_response_hours": "1,5"}, "first_response_hours"),
        ({"first_response_hours": "0.001"}, "first_response_hours"),
        ({"first_response_hours": "４"}, None),  # a full-width digit is a digit: accepted
    ],
)
def test_bad_policy_on_the_web_form_shows_on_its_field_and_nothing_saved(
    client, manager, ticket, values, field
):
    before = ticket.response_due_at
    client.force_login(manager)
    data = {"first_response_hours": "4", "resolution_hours": "8", "warn_before_hours": "1"}
    response = client.post(POLICY_FORM, {**data, **values})
    if field is None:
        assert response.status_code == 302
        assert SlaPolicy.objects.get(type="complaint", priority="normal").first_response_hours == 4
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-field="{field}"' in page
    _unchanged(ticket, before)


@pytest.mark.parametrize(
    "url",
    [
        "/service/sla-policies/fax/normal/",
        "/service/sla-policies/complaint/asap/",
        "/service/sla-policies/complaint%00/normal/",
        "/service/sla-policies/" + "x" * 3000 + "/normal/",
    ],
)
def test_unknown_policy_kind_on_the_web_is_a_404(client, manager, ticket, url):
    before = ticket.response_due_at
    client.force_login(manager)
    assert client.get(url).status_code == 404
    assert client.post(url, {"first_response_hours": "4", "resolution_hours": "8"}).status_code == (
        404
    )
    _unchanged(ticket, before)


# --- skills -----------------------------------------------------------------------------------


@pytest.fixture
def product(db):
    return Product.objects.create(name="燃气热水器", sku="RS-16", list_price=2999)


def _skills(agent) -> list:
    return sorted(AgentSkill.objects.filter(user=agent).values_list("type", "product_id"))


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"types": ["fax"]}, "types", "invalid_choice"),
        ({"types": ["repair\x00"]}, "types", "nul_character"),
        ({"types": ["x" * 100_000]}, "types", "invalid_choice"),
        ({"types": "repair"}, "types", "list_type"),
        ({"types": [1, 2]}, "types.0", "string_type"),
        ({"types": [None]}, "types.0", "string_type"),
        ({"types": ["repair"] * 11}, "types", "too_long"),
        ({"types": ["repair"], "product_ids": [999_999]}, "product_ids", "not_found"),
        ({"types": ["repair"], "product_ids": [-1]}, "product_ids", "not_found"),
        ({"types": ["repair"], "product_ids": [HUGE_ID]}, "product_ids", "out_of_range"),
        ({"types": ["repair"], "product_ids": ["abc"]}, "product_ids.0", "int_parsing"),
        ({"types": ["repair"], "product_ids": [1.5]}, "product_ids.0", "int_from_float"),
        ({"types": ["repair"], "product_ids": list(range(201))}, "product_ids", "too_long"),
        ({"types": [], "product_ids": ["PRODUCT"]}, "types", "required"),
        ({"types": ["repair"], "is_admin": True}, "is_admin", "unknown_field"),
    ],
)
def test_bad_skills_over_the_api_are_a_422_on_their_field_and_nothing_changes(
    client, manager, agent2, product, body, field, code
):
    body = {
        k: [product.pk if p == "PRODUCT" else p for p in v] if k == "product_ids" else v
        for k, v in body.items()
    }
    client.force_login(manager)
    response = _put(client, f"/api/v1/service/skills/{agent2.pk}", json.dumps(body))
    assert response.status_code == 422, response.content
    assert (response.json()["field"], response.json()["code"]) == (field, code)
    assert _skills(agent2) == [("repair", None)]
    assert not AuditEntry.objects.filter(verb="service.skills").exists()


@pytest.mark.parametrize("user_id", ["999999", "0", "-1", str(HUGE_ID)])
def test_skills_of_an_unknown_agent_over_the_api_are_a_404_on_user_id(
    client, manager, agent2, user_id
):
    client.force_login(manager)
    response = _put(client, f"/api/v1/service/skills/{user_id}", json.dumps({"types": ["repair"]}))
    assert response.status_code == 404, response.content
    assert (response.json()["code"], response.json()["field"]) == ("not_found", "user_id")
    assert not AgentSkill.objects.exclude(user=agent2).exists()
    assert not AuditEntry.objects.filter(verb="service.skills").exists()


@pytest.mark.parametrize("user_id", ["abc", "1.5", "1%00"])
def test_a_skills_url_without_a_number_is_a_4xx_with_a_code(client, manager, agent2, user_id):
    client.force_login(manager)
    response = _put(client, f"/api/v1/service/skills/{user_id}", json.dumps({"types": ["repair"]}))
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] and "field" in response.json()
    assert _skills(agent2) == [("repair", None)]


def test_skills_of_a_user_who_is_no_agent_are_refused_on_user_id(client, manager, owner, org):
    owner.org_unit = org["bj"]
    owner.save(update_fields=["org_unit"])
    client.force_login(manager)
    response = _put(client, f"/api/v1/service/skills/{owner.pk}", json.dumps({"types": ["repair"]}))
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("not_an_agent", "user_id")
    assert not AgentSkill.objects.filter(user=owner).exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"types": ["fax"]}, "types"),
        ({"types": ["repair\x00"]}, "types"),
        ({"types": ["x" * 100_000]}, "types"),
        ({"types": ["repair"], "products": ["999999"]}, "products"),
        ({"types": ["repair"], "products": ["abc"]}, "products"),
        ({"types": ["repair"], "products": [str(HUGE_ID)]}, "products"),
        ({"types": ["repair"], "products": ["\x00"]}, "products"),
        ({"products": ["PRODUCT"]}, "types"),
    ],
)
def test_bad_skills_on_the_web_form_show_on_their_field_and_nothing_changes(
    client, manager, agent2, product, data, field
):
    data = {
        k: [str(product.pk) if p == "PRODUCT" else p for p in v] if k == "products" else v
        for k, v in data.items()
    }
    client.force_login(manager)
    response = client.post(f"/service/skills/{agent2.pk}/", data)
    assert response.status_code == 200
    assert f'data-field="{field}"' in response.content.decode()
    assert _skills(agent2) == [("repair", None)]
    assert not AuditEntry.objects.filter(verb="service.skills").exists()


@pytest.mark.parametrize("user_id", ["999999", "0", str(HUGE_ID)])
def test_the_skills_form_of_an_unknown_agent_is_a_404(client, manager, agent2, user_id):
    client.force_login(manager)
    assert client.get(f"/service/skills/{user_id}/").status_code == 404
    assert client.post(f"/service/skills/{user_id}/", {"types": ["repair"]}).status_code == 404
    assert _skills(agent2) == [("repair", None)]
