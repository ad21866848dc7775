"""C1/C8: one live customer per e-mail, held by the database under concurrency.

Twenty people create a customer with the same e-mail at the same instant: exactly one
record gets it; the others get the field error `duplicate_email`, never a 500. On SQLite and
PostgreSQL alike (the partial unique index `unique_live_customer_email` decides).
"""

import pytest
from django.db import IntegrityError

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_create, customer_merge, customer_update
from tests.conftest import new_customer
from tests.races import run_together


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_creates_with_one_email_leave_one_customer(owner):
    def create(n):
        return lambda: customer_create(
            actor=owner,
            data={"name": f"客户{n}", "email": "Same@Example.cn"},
            allow_similar=True,
        )

    outcomes = run_together(*(create(n) for n in range(20)))
    created = [o for o in outcomes if isinstance(o, Customer)]
    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert (len(created), len(refused)) == (1, 19), outcomes
    assert {(e.code, e.field) for e in refused} == {("duplicate_email", "email")}
    assert Customer.objects.filter(email_key="same@example.cn").count() == 1


def test_the_database_refuses_a_second_live_customer_with_the_email(owner, customer):
    other = new_customer(owner, "李四", ("13900001111",))
    with pytest.raises(IntegrityError):
        Customer.objects.filter(pk=other.pk).update(email_key=customer.email_key)


def test_editing_to_a_taken_email_is_a_field_error(owner, customer):
    other = new_customer(owner, "李四", ("13900001111",))
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=owner, customer_id=other.pk, data={"email": customer.email})
    assert (caught.value.code, caught.value.field) == ("duplicate_email", "email")


def test_a_merged_away_record_frees_its_email_and_merge_fills_it(manager, owner):
    keep = new_customer(owner, "张三", ("13900001111",))
    other = new_customer(owner, "张叁", ("13900002222",), email="zs@example.cn")
    customer_merge(actor=manager, keep_id=keep.pk, merge_id=other.pk)
    keep.refresh_from_db()
    assert keep.email == "zs@example.cn"
    # A third record may not take it from the kept one…
    with pytest.raises(ValidationFailed):
        new_customer(owner, "王五", ("13900003333",), email="zs@example.cn")


def test_another_users_customer_is_not_named_in_the_email_error(owner, outsider, customer):
    with pytest.raises(ValidationFailed) as caught:
        new_customer(outsider, "李四", ("13900001111",), email=customer.email)
    assert caught.value.code == "duplicate_email"
    assert f"#{customer.pk}" not in str(caught.value.message)
    assert "ask a manager" in str(caught.value.message)


def test_another_users_customer_is_not_named_in_the_phone_error(owner, outsider, customer):
    with pytest.raises(ValidationFailed) as caught:
        new_customer(outsider, "李四", (customer.primary_phone,))
    assert caught.value.code == "duplicate_phone"
    assert f"#{customer.pk}" not in str(caught.value.message)


def test_the_owner_still_sees_which_of_their_customers_has_the_phone(owner, customer):
    with pytest.raises(ValidationFailed) as caught:
        new_customer(owner, "李四", (customer.primary_phone,))
    assert f"#{customer.pk}" in str(caught.value.message)


def test_referred_by_accepts_only_a_visible_customer(owner, outsider, customer):
    with pytest.raises(ValidationFailed) as caught:
        new_customer(outsider, "李四", ("13900001111",), referred_by_id=customer.pk)
    assert (caught.value.code, caught.value.field) == ("not_found", "referred_by_id")
    missing_message = None
    with pytest.raises(ValidationFailed) as missing:
        new_customer(outsider, "李四", ("13900001111",), referred_by_id=10**9)
    missing_message = str(missing.value.message)
    assert str(caught.value.message) == missing_message  # hidden and missing read the same
    referred = new_customer(owner, "王五", ("13900002222",), referred_by_id=customer.pk)
    assert referred.referred_by_id == customer.pk
