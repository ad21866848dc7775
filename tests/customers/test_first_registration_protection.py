"""首访原则 (SPEC C3): the first registration owns the customer for the protection period.

A customer entered with an owner through the web form or the API is that owner's first
registration: protected from its creation for the protection period of the owner's branch
(2 calendar months by default, to the end of the last day; configurable per branch), as a
first reception at the desk is.
"""

from datetime import timedelta

from guanxi.customers.models import Customer
from guanxi.customers.services import customer_create
from guanxi.reception.models import ReceptionSettings
from guanxi.reception.ownership import protection_end_after
from guanxi.reception.rules import Protection
from tests.conftest import new_customer

from .helpers import API, form_data


def two_months_from(start):
    return protection_end_after(start, Protection(months=2))


def test_first_registration_is_protected_for_the_default_two_calendar_months(owner):
    customer = new_customer(owner, "孙先生", ("13933330000",))
    assert customer.owner_id == owner.pk
    assert customer.protected_until == two_months_from(customer.created_at)
    assert customer.claim_is_valid(customer.created_at + timedelta(days=59))
    customer.refresh_from_db()  # written, not only set on the instance
    assert customer.protected_until == two_months_from(customer.created_at)


def test_first_registration_protection_follows_the_branchs_configured_period(org, owner):
    ReceptionSettings.objects.create(branch=org["bj"], protection_days=30, protection_months=0)
    customer = new_customer(owner, "孙先生", ("13933330000",))
    assert customer.protected_until == customer.created_at + timedelta(days=30)


def test_first_registration_through_the_web_form_is_protected(client, owner):
    client.force_login(owner)
    response = client.post("/customers/new/", form_data(name="孙先生", phones="13933330000"))
    assert response.status_code == 302, response.content
    customer = Customer.objects.get(name="孙先生")
    assert customer.owner_id == owner.pk
    assert customer.protected_until == two_months_from(customer.created_at)


def test_first_registration_through_the_api_for_another_owner_protects_that_owner(
    client, manager, owner
):
    client.force_login(manager)
    response = client.post(
        API,
        {"name": "孙先生", "phones": ["13933330000"], "owner_id": owner.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.owner_id == owner.pk
    assert customer.protected_until == two_months_from(customer.created_at)


def test_first_registration_without_an_owner_has_no_protection_yet(receptionist):
    """The desk's record is nobody's until received; reception then starts the period."""
    customer = customer_create(
        actor=receptionist, data={"name": "孙先生"}, phones=["13933330000"], allow_similar=True
    )
    assert (customer.owner_id, customer.protected_until) == (None, None)
