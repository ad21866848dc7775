"""Record-level visibility per role, through the web pages, the API and search (SPEC Roles)."""

import pytest

from guanxi.customers.services import customer_unshare, customer_update, household_link
from tests.conftest import new_customer

from .conftest import BRANCH_ROLES
from .helpers import CHANNELS, api_url, channels_seeing


def test_owner_sees_own_customer_through_every_channel(client, owner, customer):
    client.force_login(owner)
    assert channels_seeing(client, customer) == CHANNELS


def test_teammate_does_not_see_unshared_customer_through_any_channel(client, teammate, customer):
    client.force_login(teammate)
    assert channels_seeing(client, customer) == set()


def test_teammate_sees_shared_customer_through_every_channel(client, teammate, shared_customer):
    client.force_login(teammate)
    assert channels_seeing(client, shared_customer) == CHANNELS


def test_unsharing_hides_the_customer_from_the_teammate_again(
    client, owner, teammate, shared_customer
):
    customer_unshare(actor=owner, customer_id=shared_customer.pk, user=teammate)
    client.force_login(teammate)
    assert channels_seeing(client, shared_customer) == set()


def test_outsider_does_not_see_other_branchs_customer_through_any_channel(
    client, outsider, customer
):
    client.force_login(outsider)
    assert channels_seeing(client, customer) == set()


def test_branch_manager_sees_customer_of_a_department_below(client, manager, customer):
    client.force_login(manager)
    assert channels_seeing(client, customer) == CHANNELS


def test_other_branch_manager_does_not_see_the_customer(client, sh_manager, customer):
    client.force_login(sh_manager)
    assert channels_seeing(client, customer) == set()


def test_admin_sees_customers_of_every_branch(client, admin_user, customer, sh_customer):
    client.force_login(admin_user)
    assert (channels_seeing(client, customer), channels_seeing(client, sh_customer)) == (
        CHANNELS,
        CHANNELS,
    )


@pytest.mark.parametrize("role", BRANCH_ROLES)
def test_branch_role_sees_own_branchs_customer(client, request, role, customer):
    client.force_login(request.getfixturevalue(role))
    assert channels_seeing(client, customer) == CHANNELS


@pytest.mark.parametrize("role", BRANCH_ROLES)
def test_branch_role_does_not_see_other_branchs_customer(client, request, role, sh_customer):
    client.force_login(request.getfixturevalue(role))
    assert channels_seeing(client, sh_customer) == set()


def test_hidden_customer_answers_exactly_like_a_missing_one(client, outsider, customer):
    client.force_login(outsider)
    missing_id = customer.pk + 1000
    hidden_web, missing_web = (
        client.get(f"/customers/{customer.pk}/"),
        client.get(f"/customers/{missing_id}/"),
    )
    hidden_api, missing_api = client.get(api_url(customer)), client.get(api_url(missing_id))
    assert (hidden_web.status_code, hidden_api.status_code, hidden_api.json()) == (
        missing_web.status_code,
        missing_api.status_code,
        missing_api.json(),
    )


def test_detail_page_does_not_name_referrals_the_viewer_cannot_see(
    client, manager, owner, teammate, customer
):
    # The teammate cannot name 张三 as referrer (not theirs to see); their manager can.
    theirs = new_customer(teammate, "李四", ("13900002222",))
    customer_update(actor=manager, customer_id=theirs.pk, data={"referred_by_id": customer.pk})
    client.force_login(owner)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert (theirs.name in html, theirs.get_absolute_url() in html) == (False, False)


def test_detail_page_names_referrals_the_viewer_can_see(client, owner, customer):
    mine = new_customer(owner, "李四", ("13900002222",), referred_by_id=customer.pk)
    client.force_login(owner)
    assert mine.get_absolute_url() in client.get(customer.get_absolute_url()).content.decode()


def test_detail_page_does_not_name_family_members_the_viewer_cannot_see(
    client, manager, owner, teammate, customer
):
    theirs = new_customer(teammate, "李四", ("13900002222",))
    household_link(actor=manager, customer_id=customer.pk, member_id=theirs.pk, role="spouse")
    client.force_login(owner)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert (theirs.name in html, theirs.get_absolute_url() in html) == (False, False)
