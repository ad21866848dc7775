"""Merging two records keeps every related row of both (C1 "merge two records")."""

import datetime
from decimal import Decimal

import pytest

from guanxi.core.errors import Conflict, Forbidden
from guanxi.core.models import AuditEntry, Role
from guanxi.customers.models import (
    ContactPerson,
    Customer,
    CustomerPhone,
    CustomerShare,
    ImportantDate,
)
from guanxi.customers.services import (
    contact_add,
    customer_merge,
    customer_share,
    household_link,
    important_date_add,
)
from tests.conftest import make_user, new_customer

from .helpers import API

RELATED = {
    "phones": (CustomerPhone, "customer"),
    "shares": (CustomerShare, "customer"),
    "dates": (ImportantDate, "customer"),
    "contacts": (ContactPerson, "organisation"),
    "referrals": (Customer, "referred_by"),
}


def build(owner, share_with, name, phones, figures):
    """An organisation with every kind of related row, and running figures."""
    org = new_customer(owner, name, phones, kind="organisation")
    customer_share(actor=owner, customer_id=org.pk, user=share_with)
    important_date_add(
        actor=owner,
        customer_id=org.pk,
        data={"kind": "anniversary", "label": f"{name}成立", "date": datetime.date(2010, 5, 1)},
    )
    contact_add(actor=owner, customer_id=org.pk, data={"name": f"{name}联系人", "phone": ""})
    family = new_customer(owner, f"{name}家属", ())
    household_link(actor=owner, customer_id=org.pk, member_id=family.pk, role="spouse")
    new_customer(owner, f"{name}介绍的客户", (), referred_by_id=org.pk)
    Customer.objects.filter(pk=org.pk).update(**figures)
    org.tags.add(*_tags(name))
    return Customer.objects.get(pk=org.pk)


def _tags(name):
    from guanxi.customers.models import Tag

    return [
        Tag.objects.get_or_create(name=f"{name}标签")[0],
        Tag.objects.get_or_create(name="共同")[0],
    ]


@pytest.fixture
def pair(owner, teammate, org):
    other_sales = make_user("sales4", org["bj_sales"], Role.SALES)
    keep = build(
        owner,
        teammate,
        "华强电子",
        ("13812345678", "13812340000"),
        {"order_count": 3, "revenue": Decimal("1000.50")},
    )
    merged = build(
        owner,
        other_sales,
        "华强电子有限公司",
        ("13900001111",),
        {"order_count": 2, "revenue": Decimal("250.25")},
    )
    return keep, merged


def counts(*customers) -> dict[str, int]:
    return {
        name: model.objects.filter(**{f"{fk}__in": customers}).count()
        for name, (model, fk) in RELATED.items()
    }


def test_merge_moves_every_related_row_to_the_kept_customer(owner, pair):
    keep, merged = pair
    before = counts(keep, merged)
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    assert (counts(keep), counts(merged)) == (before, dict.fromkeys(RELATED, 0))


def test_merge_keeps_the_tags_of_both(owner, pair):
    keep, merged = pair
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    assert sorted(keep.tags.values_list("name", flat=True)) == [
        "共同",
        "华强电子有限公司标签",
        "华强电子标签",
    ]


def test_merge_keeps_the_family_of_both_in_the_kept_household(owner, pair):
    keep, merged = pair
    families = set(
        Customer.objects.filter(name__in=["华强电子家属", "华强电子有限公司家属"]).values_list(
            "pk", flat=True
        )
    )
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    keep.refresh_from_db()
    household = set(
        Customer.objects.filter(household_id=keep.household_id, archived_at__isnull=True)
        .exclude(pk=keep.pk)
        .values_list("pk", flat=True)
    )
    assert household == families


def test_merged_record_stays_archived_and_points_at_the_kept_one(owner, pair):
    keep, merged = pair
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    merged = Customer.objects.get(pk=merged.pk)
    assert (merged.merged_into_id, merged.archived_at is not None) == (keep.pk, True)


def test_merge_sums_the_running_figures(owner, pair):
    keep, merged = pair
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    keep.refresh_from_db()
    assert (keep.order_count, keep.revenue) == (5, Decimal("1250.75"))


def test_merge_keeps_the_kept_customers_primary_phone(owner, pair):
    keep, merged = pair
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    keep.refresh_from_db()
    assert keep.primary_phone == "+8613812345678"
    assert list(keep.phones.filter(is_primary=True).values_list("number", flat=True)) == [
        "+8613812345678"
    ]


def test_merge_writes_audit_entries_on_both_records(owner, pair):
    keep, merged = pair
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    entries = set(
        AuditEntry.objects.filter(verb__startswith="customer.merge").values_list(
            "verb", "target_id", "actor"
        )
    )
    assert entries == {
        ("customer.merge", keep.pk, owner.pk),
        ("customer.merged_into", merged.pk, owner.pk),
    }


def test_api_merge_returns_the_kept_customer_with_everything(client, owner, pair):
    keep, merged = pair
    client.force_login(owner)
    response = client.post(
        f"{API}/merge", {"keep_id": keep.pk, "merge_id": merged.pk}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["id"], len(response.json()["phones"])) == (keep.pk, 3)


def test_shared_teammate_may_not_merge(client, teammate, pair):
    keep, merged = pair
    client.force_login(teammate)
    response = client.post(
        f"{API}/merge", {"keep_id": keep.pk, "merge_id": merged.pk}, content_type="application/json"
    )
    assert response.status_code in (403, 404)
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None


def test_merge_needs_edit_rights_on_both_records(owner, teammate, pair):
    keep, _merged = pair
    theirs = new_customer(teammate, "华强电子集团", ("13700007777",), kind="organisation")
    customer_share(actor=teammate, customer_id=theirs.pk, user=owner)
    with pytest.raises(Forbidden):
        customer_merge(actor=owner, keep_id=keep.pk, merge_id=theirs.pk)
    assert Customer.objects.get(pk=theirs.pk).merged_into_id is None


def test_merging_the_same_record_twice_fails_with_already_merged(client, owner, pair):
    keep, merged = pair
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    client.force_login(owner)
    response = client.post(
        f"{API}/merge", {"keep_id": keep.pk, "merge_id": merged.pk}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "already_merged")


def test_merging_into_a_merged_record_fails_with_already_merged(owner, pair):
    keep, merged = pair
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    with pytest.raises(Conflict) as refused:
        customer_merge(actor=owner, keep_id=merged.pk, merge_id=keep.pk)
    assert refused.value.code == "already_merged"
    assert Customer.objects.get(pk=keep.pk).merged_into_id is None


def test_web_merge_confirmed_merges_the_records(client, owner, pair):
    keep, merged = pair
    client.force_login(owner)
    response = client.post(f"/customers/{keep.pk}/merge/", {"other": merged.pk, "confirm": "1"})
    assert (response.status_code, response.url) == (302, keep.get_absolute_url())
    assert Customer.objects.get(pk=merged.pk).merged_into_id == keep.pk


def test_merging_into_an_archived_record_is_refused(owner, pair):
    from guanxi.customers.services import customer_archive

    keep, merged = pair
    customer_archive(actor=owner, customer_id=keep.pk)
    with pytest.raises(Conflict) as refused:
        customer_merge(actor=owner, keep_id=keep.pk, merge_id=merged.pk)
    assert refused.value.code == "archived"
    assert Customer.objects.get(pk=merged.pk).archived_at is None


def test_merge_does_not_leave_the_kept_record_referring_to_itself(owner):
    keep = new_customer(owner, "张三", ("13812345678",))
    duplicate = new_customer(owner, "张三(重复)", ("13900001111",), referred_by_id=keep.pk)
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=duplicate.pk)
    assert Customer.objects.get(pk=keep.pk).referred_by_id is None


def test_phone_merged_into_a_record_without_phones_becomes_its_primary(owner):
    keep = new_customer(owner, "张三", ())
    duplicate = new_customer(owner, "张三", ("13900001111",))
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=duplicate.pk)
    keep.refresh_from_db()
    assert keep.primary_phone == "+8613900001111"
    assert list(keep.phones.values_list("number", "is_primary")) == [("+8613900001111", True)]


def test_company_and_email_taken_over_by_merge_are_searchable(client, owner):
    keep = new_customer(owner, "张三", ("13812345678",))
    duplicate = new_customer(
        owner, "张三", ("13900001111",), company="华强电子", email="zs@huaqiang.cn"
    )
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=duplicate.pk)
    client.force_login(owner)
    found = [
        [row["id"] for row in client.get(API, {"q": q}).json()["items"]]
        for q in ("华强", "zs@huaqiang")
    ]
    assert found == [[keep.pk], [keep.pk]]
