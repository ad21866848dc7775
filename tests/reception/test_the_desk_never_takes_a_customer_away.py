"""The desk never takes an owned customer away (issue 11 items 3 and 4) and sees only its own
branch's customers (issue 12 item 1)."""

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer
from guanxi.notifications.models import Notification
from guanxi.reception import services
from guanxi.reception.models import Dispute, Visit
from guanxi.reception.permissions import can_manage_desk
from tests.conftest import new_customer

from .helpers import new_phone

SH_PHONE = "13955550001"


@pytest.fixture
def sh_customer(outsider):
    """王总, a customer of 陈静 at the Shanghai branch."""
    return new_customer(outsider, "上海王总", (SH_PHONE,))


def ownership(customer):
    c = Customer.objects.get(pk=customer.pk)
    return (c.owner_id, c.org_unit_id, c.protected_until, c.credit_holder_id, c.in_pool_since)


def test_a_beijing_receptionist_registering_a_shanghai_customers_phone_leaves_it_unchanged_and_shows_no_name(  # noqa: E501
    client, receptionist, roster, trio, sh_customer, org
):
    before = ownership(sh_customer)
    client.force_login(receptionist)
    response = client.post("/reception/", {"phone": SH_PHONE, "name": "来访的王先生"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "上海王总" not in html and "陈静" not in html
    assert 'id="other-branch"' in html
    assert ownership(sh_customer) == before
    visit = Visit.objects.get()
    assert visit.customer_id != sh_customer.pk and visit.phone_elsewhere
    here = visit.customer
    assert (here.name, here.org_unit_id, here.owner_id) == (
        "来访的王先生",
        org["bj_sales"].pk,
        trio[0].pk,
    )
    assert not here.phones.exists()
    dispute = Dispute.objects.get(visit=visit)
    assert dispute.branch_id == org["bj"].pk and "上海王总" not in dispute.description
    # The lookup as the phone is typed says nothing either.
    lookup = client.get("/reception/lookup/", {"phone": SH_PHONE}).content.decode()
    assert "上海王总" not in lookup


def test_the_same_over_the_api(client, receptionist, roster, trio, sh_customer):
    before = ownership(sh_customer)
    client.force_login(receptionist)
    response = client.post(
        "/api/v1/reception/visits",
        {"phone": SH_PHONE, "name": "来电的王先生", "kind": "call"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["customer_id"] != sh_customer.pk
    assert "上海王总" not in response.content.decode()
    assert ownership(sh_customer) == before
    # A visitor without a name gets the same answer as for an unknown phone.
    nameless = client.post(
        "/api/v1/reception/visits", {"phone": SH_PHONE}, content_type="application/json"
    )
    assert (nameless.status_code, nameless.json()["field"]) == (422, "name")


def test_a_returning_customer_of_b_goes_to_b_takes_no_turn_and_b_is_notified(desk, trio):
    _a, b, _c = trio
    desk.walk_in()  # A's turn
    first = desk.walk_in("13911112222", "钱先生")  # B's turn
    assert first.receiver_id == b.pk
    turns = {pk: s.turns_taken for pk, s in desk.slots().items()}
    again = desk.walk_in("13911112222")
    assert (again.receiver_id, again.case_number, again.via_rotation) == (b.pk, 1, False)
    assert {pk: s.turns_taken for pk, s in desk.slots().items()} == turns
    assert Customer.objects.get(pk=again.customer_id).owner_id == b.pk
    notices = Notification.objects.filter(user=b, key__startswith="visit.received:")
    assert notices.count() == 2
    assert not Notification.objects.filter(user=desk.actor).exists()
    assert desk.next_up() == trio[2].pk


def test_naming_another_salesperson_over_a_valid_protection_opens_a_dispute(desk, trio):
    _a, b, c = trio
    desk.walk_in()
    bs = desk.walk_in("13911113333", "孙女士")
    assert bs.receiver_id == b.pk
    visit = desk.walk_in("13911113333", named=(c.pk,))
    customer = Customer.objects.get(pk=bs.customer_id)
    assert (visit.state, visit.receiver_id) == ("disputed", c.pk)
    assert (customer.owner_id, customer.credit_holder_id) == (b.pk, b.pk)
    dispute = Dispute.objects.get(visit=visit)
    assert set(dispute.parties.values_list("pk", flat=True)) == {b.pk, c.pk}


def test_a_salesperson_at_the_desk_cannot_name_themselves(roster, trio):
    a = trio[0]

    def register(**options):
        registration = services.Registration(phone=new_phone(), name="新客", **options)
        return services.visit_register_and_receive(actor=a, registration=registration)

    for option in ({"named": (a.pk,)}, {"prefers": a.pk}):
        with pytest.raises(ValidationFailed) as exc:
            register(**option)
        assert (exc.value.code, exc.value.field) == ("self_named", next(iter(option)))
    assert not Visit.objects.exists()
    # Without naming anyone, the queue decides.
    assert register().receiver_id == a.pk  # A's turn anyway: first in the queue


def test_a_receptionist_or_manager_may_name_anyone_on_the_branch(desk, manager, trio, fourth):
    visit = desk.walk_in(new_phone(), "新客", named=(trio[2].pk,))
    assert visit.receiver_id == trio[2].pk
    with pytest.raises(ValidationFailed) as exc:
        desk.walk_in(new_phone(), "新客", named=(manager.pk,))
    assert (exc.value.code, exc.value.field) == ("invalid_user", "named")


def test_a_salesperson_cannot_read_another_visit_by_its_id(client, desk, trio):
    visit = desk.walk_in(new_phone(), "保密客户")
    client.force_login(trio[1])
    html = client.get(f"/reception/?received={visit.pk}").content.decode()
    assert "保密客户" not in html and 'id="decision"' not in html
    assert can_manage_desk(desk.actor, visit.branch)
