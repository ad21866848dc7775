"""What a save writes (issue 19, saves that do not queue): an edit writes the columns it
changes — every index on a column in an UPDATE's SET list is maintained, changed or not —
and touches the search index only when an indexed field changed."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Customer
from guanxi.customers.services import customer_update


def statements(fn) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return [q["sql"] for q in captured.captured_queries]


def test_an_edit_writes_only_the_columns_it_changes(owner, customer):
    sql = statements(
        lambda: customer_update(actor=owner, customer_id=customer.pk, data={"notes": "回访"})
    )
    updates = [s for s in sql if s.startswith('UPDATE "customers_customer"')]
    assert len(updates) == 1
    assert updates[0].split(" WHERE ")[0].count("=") == 2  # notes, updated_at
    assert not [s for s in sql if "customers_search" in s]
    customer.refresh_from_db()
    assert (customer.notes, customer.name, customer.company) == ("回访", "张三", "华强电子")


def test_an_edit_of_an_indexed_field_rewrites_its_entry_and_its_keys(owner, customer):
    sql = statements(
        lambda: customer_update(actor=owner, customer_id=customer.pk, data={"name": "张小三"})
    )
    assert [s for s in sql if "customers_search" in s]
    row = Customer.objects.values("name", "name_pinyin", "name_initials").get(pk=customer.pk)
    assert row == {"name": "张小三", "name_pinyin": "zhangxiaosan", "name_initials": "zxs"}


def test_an_edit_changing_phones_saves_the_new_primary_phone(owner, customer):
    customer_update(actor=owner, customer_id=customer.pk, data={}, phones=["13900001111"])
    customer.refresh_from_db()
    assert customer.primary_phone == "+8613900001111"
