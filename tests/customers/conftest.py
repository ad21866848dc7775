"""Customer fixtures on top of the shared ones: a Shanghai customer and a shared one."""

import pytest

from guanxi.customers.services import customer_share
from tests.conftest import new_customer
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

BRANCH_ROLES = ("receptionist", "service_agent", "marketer", "finance")


@pytest.fixture
def sh_customer(outsider):
    """王五, owned by sales3 in the Shanghai branch."""
    return new_customer(outsider, "王五", ("13900001111",), company="申江贸易")


@pytest.fixture
def shared_customer(owner, teammate, customer):
    """张三, owned by sales1 and shared with sales2."""
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    return customer
