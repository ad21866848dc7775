"""The audit log page: administrators read everything, managers their own units' actors."""

import pytest

from guanxi.core.audit import audit_record
from guanxi.core.models import AuditEntry


@pytest.fixture
def entries(owner, outsider, customer, sh_customer):
    """One entry by a Beijing salesperson, one by a Shanghai salesperson."""
    return {
        "bj": audit_record(actor=owner, verb="customer.test_bj", target=customer),
        "sh": audit_record(actor=outsider, verb="customer.test_sh", target=sh_customer),
    }


@pytest.fixture
def sh_customer(outsider):
    from tests.conftest import new_customer

    return new_customer(outsider, "王五", ("13900001111",))


def verbs_on_page(client) -> set[str]:
    response = client.get("/audit/")
    assert response.status_code == 200
    return {e.verb for e in response.context["entries"]}


def test_admin_reads_every_entry(client, admin_user, entries):
    client.force_login(admin_user)
    assert {"customer.test_bj", "customer.test_sh"} <= verbs_on_page(client)


def test_manager_reads_only_entries_of_actors_in_their_units(client, manager, entries):
    client.force_login(manager)
    verbs = verbs_on_page(client)
    assert ("customer.test_bj" in verbs, "customer.test_sh" in verbs) == (True, False)


def test_other_branch_manager_reads_their_own_branch(client, sh_manager, entries):
    client.force_login(sh_manager)
    verbs = verbs_on_page(client)
    assert ("customer.test_bj" in verbs, "customer.test_sh" in verbs) == (False, True)


@pytest.mark.parametrize("who", ["owner", "receptionist", "finance"])
def test_audit_log_is_404_for_other_roles(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/audit/").status_code == 404


def test_audit_log_filters_by_verb_prefix(client, admin_user, entries):
    client.force_login(admin_user)
    response = client.get("/audit/", {"verb": "customer.test_b"})
    assert [e.verb for e in response.context["entries"]] == ["customer.test_bj"]


def test_audit_entry_records_the_actors_unit_at_the_time(owner, entries):
    assert AuditEntry.objects.get(verb="customer.test_bj").actor_unit_id == owner.org_unit_id
