"""Who may change a customer (owner, managers), and the audit entry every change writes."""

import pytest

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from tests.conftest import new_customer

from .helpers import api_url, form_data


def patch(client, customer, body):
    return client.patch(api_url(customer), body, content_type="application/json")


def name_of(customer) -> str:
    return Customer.objects.get(pk=customer.pk).name


def update_entries(customer):
    return AuditEntry.objects.filter(verb="customer.update", target_id=customer.pk)


@pytest.mark.parametrize("editor", ["owner", "manager"])
def test_owner_and_manager_edit_through_the_web_form(client, request, editor, customer):
    client.force_login(request.getfixturevalue(editor))
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, name="张三丰"))
    assert (response.status_code, response.url) == (302, customer.get_absolute_url())
    assert name_of(customer) == "张三丰"


@pytest.mark.parametrize("editor", ["owner", "manager"])
def test_owner_and_manager_edit_through_api_patch(client, request, editor, customer):
    client.force_login(request.getfixturevalue(editor))
    response = patch(client, customer, {"name": "张三丰"})
    assert (response.status_code, response.json()["name"]) == (200, "张三丰")
    assert name_of(customer) == "张三丰"


@pytest.mark.parametrize("who", ["teammate", "receptionist", "outsider"])
def test_who_may_not_edit_gets_404_for_the_edit_page(client, request, who, shared_customer):
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/customers/{shared_customer.pk}/edit/").status_code == 404


@pytest.mark.parametrize("who", ["teammate", "receptionist", "outsider"])
def test_who_may_not_edit_changes_nothing_by_posting_the_web_form(
    client, request, who, shared_customer
):
    client.force_login(request.getfixturevalue(who))
    response = client.post(
        f"/customers/{shared_customer.pk}/edit/", form_data(shared_customer, name="改名")
    )
    assert response.status_code == 404
    assert name_of(shared_customer) == "张三"


@pytest.mark.parametrize(
    ("who", "status"), [("teammate", 403), ("receptionist", 403), ("outsider", 404)]
)
def test_who_may_not_edit_is_refused_by_api_patch(client, request, who, status, shared_customer):
    client.force_login(request.getfixturevalue(who))
    response = patch(client, shared_customer, {"name": "改名"})
    assert response.status_code == status
    assert name_of(shared_customer) == "张三"
    assert not update_entries(shared_customer).exists()


def test_update_writes_audit_entry_with_old_and_new_values(client, owner, customer):
    client.force_login(owner)
    patch(client, customer, {"name": "张三丰", "company": "华强北"})
    entry = update_entries(customer).get()
    assert (entry.actor, entry.changes) == (
        owner,
        {"name": ["张三", "张三丰"], "company": ["华强电子", "华强北"]},
    )


def test_phone_change_is_audited_with_old_and_new_numbers(client, owner, customer):
    client.force_login(owner)
    patch(client, customer, {"phones": ["139 0000 2222"]})
    assert update_entries(customer).get().changes == {
        "phones": [["+8613812345678"], ["+8613900002222"]]
    }


def test_web_edit_records_only_the_fields_that_changed(client, owner, customer):
    client.force_login(owner)
    client.post(f"/customers/{customer.pk}/edit/", form_data(customer, company="华强北"))
    assert update_entries(customer).get().changes == {"company": ["华强电子", "华强北"]}


def test_saving_without_changes_writes_no_audit_entry(client, owner, customer):
    client.force_login(owner)
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer))
    assert response.status_code == 302
    assert not update_entries(customer).exists()


def test_linking_a_household_needs_edit_rights_on_the_member_too(client, teammate, shared_customer):
    theirs = new_customer(teammate, "李娜的客户", ("13900002222",))
    client.force_login(teammate)
    client.post(f"/customers/{theirs.pk}/household/", {"member": shared_customer.pk})
    assert Customer.objects.get(pk=shared_customer.pk).household_id is None


def test_owner_links_two_own_customers_into_one_household(client, owner, customer):
    spouse = new_customer(owner, "李梅", ("13900002222",))
    client.force_login(owner)
    client.post(f"/customers/{customer.pk}/household/", {"member": spouse.pk, "role": "spouse"})
    customer.refresh_from_db()
    spouse.refresh_from_db()
    assert (spouse.household_id, spouse.household_role) == (customer.household_id, "spouse")
    assert customer.household_id is not None


@pytest.mark.parametrize("who", ["marketer", "service_agent", "finance"])
def test_roles_that_do_not_register_customers_cannot_create_them(client, request, who):
    client.force_login(request.getfixturevalue(who))
    web = client.get("/customers/new/")
    api = client.post("/api/v1/customers", {"name": "李四"}, content_type="application/json")
    assert (web.status_code, api.status_code) == (404, 403)
    assert not Customer.objects.exists()


def test_receptionist_registers_a_customer_for_a_salesperson_who_then_owns_it(
    client, receptionist, owner
):
    client.force_login(receptionist)
    response = client.post(
        "/api/v1/customers",
        {"name": "李四", "phones": ["13900002222"], "owner_id": owner.pk},
        content_type="application/json",
    )
    created = Customer.objects.get(pk=response.json()["id"])
    assert (created.owner, created.org_unit) == (owner, owner.org_unit)
