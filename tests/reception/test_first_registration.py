"""首访原则 (SPEC C3) at the desk: a salesperson registering a walk-in does not own them.

customer_create protects the record of its owner from creation; the desk's record is
nobody's until received, so the protection that creation gave is taken back with the owner,
and the reception starts the period.
"""

from guanxi.customers.models import Customer
from guanxi.reception import services
from guanxi.reception.ownership import protection_end_after
from guanxi.reception.rules import Protection


def test_salesperson_registering_at_the_desk_gets_no_protection_before_reception(owner, roster):
    registration = services.Registration(phone="13933330000", name="孙先生")
    visit = services.visit_register(actor=owner, registration=registration)
    customer = Customer.objects.get(pk=visit.customer_id)
    assert (customer.owner_id, customer.protected_until) == (None, None)

    received = services.visit_receive(actor=owner, visit_id=visit.pk)
    customer.refresh_from_db()
    assert customer.owner_id == received.receiver_id
    assert customer.protected_until == protection_end_after(received.received_at, Protection())
