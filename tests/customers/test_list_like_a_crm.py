"""Issue 14 item 6: the customer list works like a CRM's — columns chosen and ordered, sorted by
a column by keyset, remembered per user; bulk actions on a selection or the whole filter,
confirmed first; cells edited in place through the customer form; 省/市/区 from a list."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.core.models import AuditEntry
from guanxi.customers import bulk
from guanxi.customers.forms import CustomerForm
from guanxi.customers.list_columns import list_preference
from guanxi.customers.models import Customer
from guanxi.customers.selectors import CustomerFilter, customer_list
from guanxi.customers.services import customer_share
from tests.conftest import new_customer

pytestmark = pytest.mark.django_db

LIST = "/customers/"


def _walk(viewer, sort: str, limit: int = 3) -> list[int]:
    ids, cursor = [], None
    while True:
        page = customer_list(
            viewer=viewer, filters=CustomerFilter(sort=sort), cursor=cursor, limit=limit
        )
        ids += [c.pk for c in page.items]
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor


@pytest.fixture
def seven(owner):
    """Seven of sales1's customers, revenue 0..600 shuffled, follow-ups on four of them."""
    now = timezone.now()
    made = []
    for i, revenue in enumerate([300, 0, 600, 100, 300, 500, 200]):
        c = new_customer(owner, f"客户{i}", (f"1380000{i:04d}",))
        follow = now + timedelta(days=(i * 3) % 5) if i % 2 == 0 else None
        Customer.objects.filter(pk=c.pk).update(revenue=Decimal(revenue), next_follow_up_at=follow)
        made.append(Customer.objects.get(pk=c.pk))
    return made


def test_sort_by_revenue_pages_by_keyset_with_ties_broken_by_id(owner, seven):
    expected = [c.pk for c in sorted(seven, key=lambda c: (-c.revenue, -c.pk))]
    assert _walk(owner, "-revenue") == expected
    ascending = [c.pk for c in sorted(seven, key=lambda c: (c.revenue, c.pk))]
    assert _walk(owner, "revenue") == ascending


def test_sort_by_next_follow_up_puts_customers_without_one_last_on_every_page(owner, seven):
    dated = sorted(
        (c for c in seven if c.next_follow_up_at), key=lambda c: (c.next_follow_up_at, c.pk)
    )
    undated = sorted(c.pk for c in seven if not c.next_follow_up_at)
    assert _walk(owner, "next_follow_up", limit=2) == [c.pk for c in dated] + undated


def test_a_tampered_sort_cursor_is_refused_not_a_500(client, owner, seven):
    client.force_login(owner)
    response = client.get(LIST, {"sort": "-revenue", "cursor": "WyJ4eCIsIDFd"})  # ["xx", 1]
    assert response.status_code == 200
    assert "Invalid page cursor." in response.content.decode()


def test_the_sort_a_user_chose_is_remembered_for_them_only(client, owner, teammate, seven):
    client.force_login(owner)
    client.get(LIST, {"sort": "-revenue"})
    html = client.get(LIST).content.decode()
    richest = max(seven, key=lambda c: (c.revenue, c.pk))
    first_row = html.split("<tbody>")[1].split("</tr>")[0]
    assert richest.name in first_row
    assert list_preference(owner).sort == "-revenue"
    assert list_preference(teammate).sort == ""


def test_a_search_from_the_header_is_ranked_by_match_whatever_sort_was_remembered(
    client, owner, seven
):
    client.force_login(owner)
    client.get(LIST, {"sort": "-revenue"})
    exact = new_customer(owner, "客户", ("13600009999",))  # the exact name: ranked first
    html = client.get(LIST, {"q": "客户"}).content.decode()
    first_row = html.split("<tbody>")[1].split("</tr>")[0]
    assert f"/customers/{exact.pk}/" in first_row
    assert list_preference(owner).sort == "-revenue"


def test_chosen_columns_show_in_the_order_given_and_are_remembered(client, owner, seven):
    client.force_login(owner)
    response = client.post(
        reverse("customers:list_columns"),
        {
            "show_revenue": "1",
            "position_revenue": "1",
            "show_region": "1",
            "position_region": "2",
            "show_phone": "1",
            "position_phone": "3",
            "query": "sort=name",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?sort=name")
    html = client.get(LIST).content.decode()
    header = html.split("<thead>")[1].split("</thead>")[0]
    assert re.findall(r'<th data-column="(\w+)"', header) == ["revenue", "region", "phone"]
    assert "¥600.00" in html  # money formatted, in the revenue column


def test_a_number_typed_beside_a_column_puts_it_before_the_one_already_there(client, owner):
    client.force_login(owner)
    client.post(
        reverse("customers:list_columns"),
        {
            **{"show_phone": "1", "position_phone": "1", "was_phone": "1"},
            **{"show_revenue": "1", "position_revenue": "1", "was_revenue": "12"},
        },
    )
    assert list_preference(owner).columns == ["revenue", "phone"]


def test_no_column_ticked_keeps_the_columns_and_says_so(client, owner):
    client.force_login(owner)
    response = client.post(reverse("customers:list_columns"), {}, follow=True)
    assert "Choose at least one column." in response.content.decode()
    assert list_preference(owner).columns == [
        "phone",
        "company",
        "stage",
        "owner",
        "next_follow_up",
    ]


# Bulk actions --------------------------------------------------------------------------


def _bulk(client, **data):
    return client.post(reverse("customers:bulk"), data)


def test_bulk_assign_shows_what_will_happen_and_cancelling_changes_nothing(
    client, manager, owner, teammate, seven
):
    client.force_login(manager)
    before = AuditEntry.objects.count()
    ids = [str(c.pk) for c in seven[:4]]
    response = _bulk(client, scope="selected", ids=ids, action="assign", user=str(teammate.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"4 customers move to {teammate}." in html
    assert f"{owner}: 4" in html  # from whom
    # The person cancels (follows the Cancel link): nothing was changed or audited.
    assert client.get(LIST).status_code == 200
    assert set(Customer.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {owner.pk}
    assert AuditEntry.objects.count() == before


def test_bulk_assign_confirmed_moves_each_customer_and_audits_the_comment(
    client, manager, owner, teammate, seven
):
    client.force_login(manager)
    ids = [str(c.pk) for c in seven[:3]]
    response = _bulk(
        client,
        scope="selected",
        ids=ids,
        action="assign",
        user=str(teammate.pk),
        confirm="1",
        comment="张伟休假，客户交给李娜",
    )
    assert response.status_code == 302
    assert set(Customer.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {
        teammate.pk
    }
    run = AuditEntry.objects.get(verb="customers.bulk")
    assert run.note == "张伟休假，客户交给李娜"
    assert run.changes["bulk_done"] == 3 and run.changes["bulk_refused"] == 0
    assert AuditEntry.objects.filter(verb="customer.reassign").count() == 3


def test_a_salesperson_may_not_bulk_assign(client, owner, teammate, seven):
    client.force_login(owner)
    response = _bulk(
        client,
        scope="selected",
        ids=[str(seven[0].pk)],
        action="assign",
        user=str(teammate.pk),
        confirm="1",
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=seven[0].pk).owner_id == owner.pk
    follow = client.get(response["Location"]).content.decode()
    assert "Only a manager may reassign customers." in follow


def test_bulk_archive_refuses_the_customers_the_actor_may_not_change(
    client, owner, teammate, seven
):
    # sales2 sees one of sales1's customers (shared) but may not archive it; sales2's own goes.
    customer_share(actor=owner, customer_id=seven[0].pk, user=teammate)
    mine = new_customer(teammate, "李雷", ("13911112222",))
    client.force_login(teammate)
    _bulk(
        client,
        scope="selected",
        ids=[str(seven[0].pk), str(mine.pk)],
        action="archive",
        confirm="1",
        comment="已离职客户",
    )
    assert Customer.objects.get(pk=mine.pk).archived_at is not None
    assert Customer.objects.get(pk=seven[0].pk).archived_at is None
    run = AuditEntry.objects.get(verb="customers.bulk")
    assert (run.changes["bulk_done"], run.changes["bulk_refused"]) == (1, 1)
    assert AuditEntry.objects.get(verb="customer.archive").note == "已离职客户"


def test_bulk_tag_on_the_whole_filter_tags_every_match(client, owner, seven):
    client.force_login(owner)
    _bulk(client, scope="filter", query="q=客户", action="tag", tag="春节回访", confirm="1")
    assert Customer.objects.filter(tags__name="春节回访").count() == 7


def test_bulk_share_needs_a_salesperson_and_keeps_the_list(client, owner, seven):
    client.force_login(owner)
    response = _bulk(client, scope="selected", ids=[str(seven[0].pk)], action="share")
    assert response.status_code == 302
    assert "Choose a salesperson." in client.get(response["Location"]).content.decode()


def test_a_large_whole_filter_run_goes_to_the_worker_and_notifies(
    client, owner, teammate, manager, seven, monkeypatch, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from guanxi.notifications.models import Notification

    monkeypatch.setattr(bulk, "INLINE_LIMIT", 5)
    client.force_login(manager)
    plan = _bulk(client, scope="filter", query="", action="assign", user=str(teammate.pk))
    assert "changed in the background" in plan.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _bulk(client, scope="filter", query="", action="assign", user=str(teammate.pk), confirm="1")
    assert Customer.objects.filter(owner=teammate).count() == 0  # not yet: queued
    task = DBTaskResult.objects.get(task_path="guanxi.customers.tasks.run_bulk_action")
    actor_id, query, action, params, comment = task.args_kwargs["args"]
    bulk.bulk_run_in_worker(
        actor_id=actor_id, query=query, action=action, params=params, comment=comment
    )
    assert Customer.objects.filter(owner=teammate).count() == 7
    assert Notification.objects.filter(user=manager, key__startswith="customers.bulk:").exists()


def test_export_of_the_ticked_rows_holds_only_them(client, owner, seven):
    client.force_login(owner)
    ids = [str(seven[1].pk), str(seven[4].pk)]
    response = _bulk(client, scope="selected", ids=ids, action="export")
    assert response.status_code == 302
    export = client.get(response["Location"])
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert seven[1].name in body and seven[4].name in body
    assert seven[0].name not in body


def test_a_selection_of_other_peoples_customers_is_not_even_counted(
    client, owner, outsider, sh_customer
):
    client.force_login(owner)
    response = _bulk(client, scope="selected", ids=[str(sh_customer.pk)], action="archive")
    assert "No customer is selected" in response.content.decode()


# Inline edit ---------------------------------------------------------------------------


def test_inline_edit_saves_through_the_service_and_shows_the_cell(client, owner, seven):
    client.force_login(owner)
    url = reverse("customers:inline_edit", args=[seven[0].pk, "company"])
    editor = client.get(url).content.decode()
    assert 'name="company"' in editor
    response = client.post(url, {"company": "蓝天物流"})
    assert "蓝天物流" in response.content.decode()
    assert Customer.objects.get(pk=seven[0].pk).company == "蓝天物流"
    assert AuditEntry.objects.filter(verb="customer.update", target_id=seven[0].pk).exists()


def test_inline_edit_refuses_a_bad_value_beside_the_field_keeping_it(client, owner, seven):
    client.force_login(owner)
    url = reverse("customers:inline_edit", args=[seven[0].pk, "stage"])
    html = client.post(url, {"stage": "bogus"}).content.decode()
    assert 'data-field="stage"' in html
    assert "Select a valid choice" in html
    assert Customer.objects.get(pk=seven[0].pk).stage != "bogus"


def test_inline_edit_of_a_field_not_offered_is_404(client, owner, seven):
    client.force_login(owner)
    url = reverse("customers:inline_edit", args=[seven[0].pk, "id_number"])
    assert client.post(url, {"id_number": "x"}).status_code == 404


def test_a_colleague_who_may_only_read_gets_the_plain_cell(client, owner, teammate, seven):
    customer_share(actor=owner, customer_id=seven[0].pk, user=teammate)
    client.force_login(teammate)
    url = reverse("customers:inline_edit", args=[seven[0].pk, "company"])
    client.post(url, {"company": "改了"})
    assert Customer.objects.get(pk=seven[0].pk).company != "改了"


# 省/市/区 -------------------------------------------------------------------------------


def _form(owner, instance=None, **data):
    base = {
        "kind": "person",
        "name": "王芳",
        "stage": "lead",
        "relationship": "new",
        "preferred_channel": "",
        "news_frequency": "monthly",
    }
    return CustomerForm({**base, **data}, instance=instance, actor=owner, creating=instance is None)


def test_a_region_from_the_lists_is_accepted(owner):
    form = _form(owner, province="广东省", city="广州市", district="天河区")
    form.is_valid()
    assert not {"province", "city", "district"} & set(form.errors)


def test_a_municipality_is_its_own_city(owner):
    form = _form(owner, province="北京市", city="北京市", district="朝阳区")
    form.is_valid()
    assert not {"province", "city", "district"} & set(form.errors)


def test_a_city_of_another_province_is_refused_with_the_field_named(owner):
    form = _form(owner, province="广东省", city="杭州市")
    assert not form.is_valid()
    assert "city" in form.errors


def test_a_typed_province_not_in_the_list_is_refused(owner):
    form = _form(owner, province="广东")
    assert not form.is_valid()
    assert "province" in form.errors


def test_an_older_value_outside_the_lists_stays_valid_on_its_record(owner):
    legacy = new_customer(
        owner, "旧客户", ("13700001111",), province="四川省", city="成都市", district="高新区"
    )
    form = _form(owner, instance=legacy, province="四川省", city="成都市", district="高新区")
    form.is_valid()
    assert not {"province", "city", "district"} & set(form.errors)


def test_choosing_a_province_reloads_its_cities(client, owner):
    client.force_login(owner)
    html = client.get(
        reverse("customers:regions"), {"province": "广东省", "city": "杭州市"}
    ).content.decode()
    assert ">深圳市</option>" in html
    assert ">杭州市</option>" not in html
    assert 'id="region-fields"' in html
