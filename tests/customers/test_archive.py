"""Archive instead of delete: archived records leave the lists, restore brings them back."""

import pytest

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_archive, customer_restore

from .helpers import api_ids, api_url


@pytest.fixture
def archived(owner, customer):
    customer_archive(actor=owner, customer_id=customer.pk, reason="搬家了")
    return customer


def web_list_has(client, customer, **params) -> bool:
    return (
        f'href="{customer.get_absolute_url()}"'
        in client.get("/customers/", params).content.decode()
    )


def test_archived_customer_leaves_the_default_lists(client, owner, archived):
    client.force_login(owner)
    assert (web_list_has(client, archived), archived.pk in api_ids(client)) == (False, False)


def test_archived_customer_appears_with_archived_filter(client, owner, archived):
    client.force_login(owner)
    assert (
        web_list_has(client, archived, archived="1"),
        archived.pk in api_ids(client, archived="true"),
    ) == (True, True)


def test_archived_customer_is_still_readable_on_its_page(client, owner, archived):
    client.force_login(owner)
    assert client.get(archived.get_absolute_url()).status_code == 200


def test_restored_customer_is_back_in_the_default_list(client, owner, archived):
    client.force_login(owner)
    response = client.post(api_url(archived, "/restore"), content_type="application/json")
    assert (response.status_code, response.json()["archived_at"]) == (200, None)
    assert archived.pk in api_ids(client)


def test_web_archive_button_archives_and_audits_with_reason(client, owner, customer):
    client.force_login(owner)
    client.post(f"/customers/{customer.pk}/archive/", {"reason": "重复录入"})
    entry = AuditEntry.objects.get(verb="customer.archive", target_id=customer.pk)
    assert (Customer.objects.get(pk=customer.pk).is_archived, entry.note) == (True, "重复录入")


def test_web_restore_button_restores(client, owner, archived):
    client.force_login(owner)
    client.post(f"/customers/{archived.pk}/restore/")
    assert Customer.objects.get(pk=archived.pk).archived_at is None


def test_shared_teammate_may_not_archive(client, teammate, shared_customer):
    client.force_login(teammate)
    response = client.post(api_url(shared_customer, "/archive"), content_type="application/json")
    assert response.status_code == 403
    assert Customer.objects.get(pk=shared_customer.pk).archived_at is None


def test_archived_customer_cannot_be_edited_until_restored(client, owner, archived):
    client.force_login(owner)
    response = client.patch(api_url(archived), {"name": "改名"}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (409, "archived")


def test_there_is_no_delete_endpoint(client, admin_user, customer):
    client.force_login(admin_user)
    response = client.delete(api_url(customer))
    assert response.status_code == 405
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_archiving_twice_is_refused(owner, archived):
    from guanxi.core.errors import Conflict

    with pytest.raises(Conflict):
        customer_archive(actor=owner, customer_id=archived.pk)


def test_restoring_a_customer_who_is_not_archived_is_refused(owner, customer):
    from guanxi.core.errors import Conflict

    with pytest.raises(Conflict):
        customer_restore(actor=owner, customer_id=customer.pk)


def test_outsider_archiving_through_the_web_gets_404_and_changes_nothing(
    client, outsider, customer
):
    client.force_login(outsider)
    response = client.post(f"/customers/{customer.pk}/archive/", {"reason": "x"})
    assert response.status_code == 404
    assert Customer.objects.get(pk=customer.pk).archived_at is None
