"""Field-level masking (phone, ID number, income) and the audited reveal (SPEC Roles)."""

import pytest

from guanxi.core.models import AuditEntry

from .conftest import BRANCH_ROLES
from .helpers import API, api_url

CLEAR_PHONE_FORMS = ("13812345678", "138 1234 5678", "+8613812345678")
ID_NUMBER = "110101199001011234"


def reveal_entries(customer):
    return AuditEntry.objects.filter(
        verb="customer.reveal", target_type="customers.customer", target_id=customer.pk
    )


def test_owner_reads_phone_in_clear_on_detail_page(client, owner, customer):
    client.force_login(owner)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert "138 1234 5678" in html
    assert "138****5678" not in html


def test_shared_teammate_sees_masked_phone_and_never_the_number_on_detail_page(
    client, teammate, shared_customer
):
    client.force_login(teammate)
    html = client.get(shared_customer.get_absolute_url()).content.decode()
    assert "138****5678" in html
    assert not [form for form in CLEAR_PHONE_FORMS if form in html]


def test_shared_teammate_sees_masked_phone_in_list(client, teammate, shared_customer):
    client.force_login(teammate)
    html = client.get("/customers/").content.decode()
    assert "138****5678" in html
    assert not [form for form in CLEAR_PHONE_FORMS if form in html]


def test_id_number_is_masked_for_shared_teammate(client, teammate, shared_customer):
    client.force_login(teammate)
    html = client.get(shared_customer.get_absolute_url()).content.decode()
    assert "110101********1234" in html
    assert ID_NUMBER not in html


def test_income_is_masked_for_shared_teammate(client, teammate, shared_customer):
    client.force_login(teammate)
    response = client.get(shared_customer.get_absolute_url())
    html = response.content.decode()
    assert response.context["customer"].annual_income_display == "****"
    assert "350,000" not in html and "350000" not in html


def test_branch_manager_reads_every_sensitive_field_in_clear_on_detail_page(
    client, manager, customer
):
    client.force_login(manager)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert ("138 1234 5678" in html, ID_NUMBER in html, "¥350,000.00" in html) == (
        True,
        True,
        True,
    )


def test_api_detail_masks_sensitive_fields_for_shared_teammate(client, teammate, shared_customer):
    client.force_login(teammate)
    body = client.get(api_url(shared_customer)).json()
    assert {k: body[k] for k in ("masked", "phone", "phones", "id_number", "annual_income")} == {
        "masked": True,
        "phone": "138****5678",
        "phones": ["138****5678"],
        "id_number": "110101********1234",
        "annual_income": "****",
    }


def test_api_detail_is_in_clear_for_owner(client, owner, customer):
    client.force_login(owner)
    body = client.get(api_url(customer)).json()
    assert {k: body[k] for k in ("masked", "phone", "phones", "id_number", "annual_income")} == {
        "masked": False,
        "phone": "+8613812345678",
        "phones": ["+8613812345678"],
        "id_number": ID_NUMBER,
        "annual_income": "350000.00",
    }


def test_api_detail_is_in_clear_for_branch_manager(client, manager, customer):
    client.force_login(manager)
    body = client.get(api_url(customer)).json()
    assert (body["masked"], body["phone"]) == (False, "+8613812345678")


@pytest.mark.parametrize("role", BRANCH_ROLES)
def test_branch_role_reads_customer_masked_in_api(client, request, role, customer):
    client.force_login(request.getfixturevalue(role))
    detail = client.get(api_url(customer)).json()
    row = client.get(API).json()["items"][0]
    assert (detail["masked"], detail["phone"], detail["annual_income"]) == (
        True,
        "138****5678",
        "****",
    )
    assert (row["masked"], row["phone"]) == (True, "138****5678")


def test_web_reveal_returns_clear_phone_and_writes_audit_entry(client, teammate, shared_customer):
    client.force_login(teammate)
    response = client.post(
        f"/customers/{shared_customer.pk}/reveal/", {"field": "phone"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "138 1234 5678" in response.content.decode()
    entry = reveal_entries(shared_customer).get()
    assert (entry.actor, entry.changes) == (teammate, {"field": "phone"})


def test_api_reveal_returns_clear_phone_and_writes_audit_entry(client, receptionist, customer):
    client.force_login(receptionist)
    response = client.post(
        api_url(customer, "/reveal"), {"field": "phone"}, content_type="application/json"
    )
    assert (response.status_code, response.json()) == (
        200,
        {"field": "phone", "value": ["+8613812345678"]},
    )
    assert reveal_entries(customer).get().actor == receptionist


def test_api_reveal_of_id_number_returns_it_in_clear(client, teammate, shared_customer):
    client.force_login(teammate)
    response = client.post(
        api_url(shared_customer, "/reveal"), {"field": "id_number"}, content_type="application/json"
    )
    assert response.json() == {"field": "id_number", "value": ID_NUMBER}
    assert reveal_entries(shared_customer).get().changes == {"field": "id_number"}


def test_marketer_may_not_reveal_phone_on_the_web(client, marketer, customer):
    client.force_login(marketer)
    response = client.post(f"/customers/{customer.pk}/reveal/", {"field": "phone"})
    assert response.status_code == 403
    assert "+8613812345678" not in response.content.decode()
    assert not reveal_entries(customer).exists()


def test_marketer_may_not_reveal_phone_in_api(client, marketer, customer):
    client.force_login(marketer)
    response = client.post(
        api_url(customer, "/reveal"), {"field": "phone"}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert not reveal_entries(customer).exists()


def test_outsider_reveal_gets_404_on_web_and_api(client, outsider, customer):
    client.force_login(outsider)
    web = client.post(f"/customers/{customer.pk}/reveal/", {"field": "phone"})
    api = client.post(
        api_url(customer, "/reveal"), {"field": "phone"}, content_type="application/json"
    )
    assert (web.status_code, api.status_code) == (404, 404)
    assert not reveal_entries(customer).exists()


def test_reveal_of_a_field_that_is_not_sensitive_is_refused(client, teammate, shared_customer):
    client.force_login(teammate)
    response = client.post(
        api_url(shared_customer, "/reveal"), {"field": "notes"}, content_type="application/json"
    )
    assert (response.status_code, response.json()["field"]) == (422, "field")
    assert not reveal_entries(shared_customer).exists()
