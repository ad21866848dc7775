"""Linking households (SPEC C1; C3 case 11) moves only records the actor may edit.

When both customers already belong to different households, the member's whole household
joins the customer's. A salesperson may not move another salesperson's customer that way:
the link is refused as a whole, with a message saying why, and nothing moves.
"""

import pytest
from django.utils import translation

from guanxi.core.errors import Forbidden
from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.customers.services import household_link
from tests.conftest import new_customer


@pytest.fixture
def families(manager, owner, teammate, customer):
    """张三 (sales1) with his wife 张太太 (sales1), and 李四 (sales1) with his brother 李五,
    who is sales2's customer (linked by their manager)."""
    wife = new_customer(owner, "张太太", ("13800000001",))
    household_link(actor=owner, customer_id=customer.pk, member_id=wife.pk, role="spouse")
    li = new_customer(owner, "李四", ("13800000002",))
    brother = new_customer(teammate, "李五", ("13800000003",))
    household_link(actor=manager, customer_id=li.pk, member_id=brother.pk)
    return customer, wife, li, brother


def _households(*people) -> list[int | None]:
    return [Customer.objects.get(pk=p.pk).household_id for p in people]


def test_linking_into_a_household_with_another_salespersons_customer_is_forbidden(owner, families):
    zhang, wife, li, brother = families
    before = _households(zhang, wife, li, brother)
    with pytest.raises(Forbidden) as refused:
        household_link(actor=owner, customer_id=zhang.pk, member_id=li.pk, role="child")
    assert refused.value.code == "household_not_editable"
    assert "may not edit" in str(refused.value.message)
    assert _households(zhang, wife, li, brother) == before
    assert Customer.objects.get(pk=li.pk).household_role == ""
    assert not AuditEntry.objects.filter(
        verb="customer.household_link", target_id=zhang.pk, changes__member=[None, li.pk]
    ).exists()


def test_household_refusal_is_translated(owner, families):
    zhang, _wife, li, _brother = families
    with translation.override("zh-hans"), pytest.raises(Forbidden) as refused:
        household_link(actor=owner, customer_id=zhang.pk, member_id=li.pk)
    assert "may not edit" not in str(refused.value.message)


def test_household_refusal_reaches_the_web_page(client, owner, families):
    zhang, wife, li, brother = families
    before = _households(zhang, wife, li, brother)
    client.force_login(owner)
    response = client.post(f"/customers/{zhang.pk}/household/", {"member": str(li.pk)}, follow=True)
    assert "may not edit" in response.content.decode()
    assert _households(zhang, wife, li, brother) == before


def test_manager_linking_households_moves_the_whole_other_household(manager, families):
    zhang, wife, li, brother = families
    household_link(actor=manager, customer_id=zhang.pk, member_id=li.pk)
    assert len(set(_households(zhang, wife, li, brother))) == 1
    entry = (
        AuditEntry.objects.filter(verb="customer.household_link", target_id=zhang.pk)
        .order_by("pk")
        .last()
    )
    assert entry.changes["moved"] == 1  # 李五; 李四 is the named member


def test_linking_households_of_own_customers_moves_every_member(owner, customer):
    wife = new_customer(owner, "张太太", ("13800000001",))
    household_link(actor=owner, customer_id=customer.pk, member_id=wife.pk)
    li = new_customer(owner, "李四", ("13800000002",))
    sister = new_customer(owner, "李梅", ("13800000004",))
    household_link(actor=owner, customer_id=li.pk, member_id=sister.pk)
    household_link(actor=owner, customer_id=customer.pk, member_id=li.pk)
    assert len(set(_households(customer, wife, li, sister))) == 1
