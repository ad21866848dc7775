"""Two people register the same phone at the same moment: one record gets it, never two."""

import threading

import pytest
from django.db import connection

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.customers.services import customer_create


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_the_same_phone_leave_one_customer_with_it(owner, teammate):
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def register(actor, name):
        try:
            start.wait(timeout=10)
            outcomes[name] = customer_create(
                actor=actor, data={"name": name}, phones=["13812345678"], allow_similar=True
            )
        except ValidationFailed as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=register, args=(owner, "张三")),
        threading.Thread(target=register, args=(teammate, "张叁")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    created = [o for o in outcomes.values() if isinstance(o, Customer)]
    refused = [o for o in outcomes.values() if isinstance(o, ValidationFailed)]
    assert (len(created), len(refused)) == (1, 1), outcomes
    assert (refused[0].code, refused[0].field) == ("duplicate_phone", "phones")
    assert list(CustomerPhone.objects.values_list("customer_id", "number")) == [
        (created[0].pk, "+8613812345678")
    ]
    assert Customer.objects.count() == 1
