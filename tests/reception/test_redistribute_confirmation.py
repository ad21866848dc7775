"""Issue 14 item 5: redistributing a salesperson's customers first says what will happen
("5 customers move from 张伟 to 2 people"), takes a comment that is audited, and a cancelled
confirmation moves nobody."""

import pytest

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from tests.conftest import new_customer

pytestmark = pytest.mark.django_db

URL = "/reception/redistribute/"


@pytest.fixture
def five(owner):
    return [new_customer(owner, f"客户{i}", (f"1370000{i:04d}",)) for i in range(5)]


def _ask(client, owner, teammate, third, **extra):
    return client.post(
        URL,
        {
            "from": owner.pk,
            "to": [teammate.pk, third.pk],
            "method": "even",
            "reason": "张伟调离",
            **extra,
        },
    )


@pytest.fixture
def third(org):
    from guanxi.core.models import Role
    from tests.conftest import make_user

    return make_user("sales4", org["bj_sales"], Role.SALES, display_name="赵敏")


def test_the_plan_names_how_many_move_from_whom_to_whom_and_moves_nobody(
    client, manager, owner, teammate, third, five
):
    client.force_login(manager)
    html = _ask(client, owner, teammate, third).content.decode()
    assert "5 customers move from 张伟 to 2 people." in html
    assert "李娜: 3" in html and "赵敏: 2" in html
    assert "张伟调离" in html  # the comment typed is kept for the confirmation
    # The manager cancels: nothing moved, nothing audited.
    assert client.get(URL).status_code == 200
    assert set(Customer.objects.values_list("owner_id", flat=True)) == {owner.pk}
    assert not AuditEntry.objects.filter(verb="customers.redistribute").exists()


def test_the_confirmed_redistribution_moves_them_and_audits_the_comment(
    client, manager, owner, teammate, third, five
):
    client.force_login(manager)
    response = _ask(client, owner, teammate, third, confirm="1")
    assert response.status_code == 302
    owners = sorted(Customer.objects.values_list("owner_id", flat=True))
    assert owners == sorted([teammate.pk] * 3 + [third.pk] * 2)
    assert AuditEntry.objects.get(verb="customers.redistribute").note == "张伟调离"


def test_a_plan_that_cannot_run_says_why_before_any_confirmation(client, manager, owner, five):
    client.force_login(manager)
    response = client.post(URL, {"from": owner.pk, "method": "even"}, follow=True)
    assert "Choose who takes over." in response.content.decode()
    assert set(Customer.objects.values_list("owner_id", flat=True)) == {owner.pk}
