"""SPEC (notification centre): a bell with the unread count in the header of every page,
polled cheaply (204 while nothing changed), a dropdown and a list page, mark read / all
read, links to the object; a withdrawn (stale) notice disappears from the count."""

import pytest
from django.utils.translation import gettext_lazy

from guanxi.notifications.models import Notification
from guanxi.notifications.services import notify, notify_withdraw
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401


def send(user, key="k1", url="/customers/", title="Visitor waiting: %(name)s", name="肖佳"):
    notify(recipient=user, key=key, title=gettext_lazy(title), params={"name": name}, url=url)
    return Notification.objects.get(user=user, key=key)


def count_in(html: str) -> str:
    start = html.index('id="notification-count"')
    tag = html[start : html.index(">", start)]
    return tag.split('data-unread="')[1].split('"')[0]


@pytest.mark.parametrize("url", ["/", "/customers/", "/my-day/", "/sales/", "/notifications/"])
def test_every_page_shows_the_unread_count(client, owner, url):
    send(owner, "a")
    send(owner, "b")
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert count_in(response.content.decode()) == "2"


def test_poll_answers_204_while_nothing_changed(client, owner):
    send(owner)
    client.force_login(owner)
    first = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    version = first.content.decode().split("?v=")[1].split('"')[0]
    assert client.get("/notifications/bell/", {"v": version}).status_code == 204
    send(owner, "k2")
    changed = client.get("/notifications/bell/", {"v": version})
    assert changed.status_code == 200 and 'data-unread="2"' in changed.content.decode()


def test_unchanged_poll_costs_one_query_beyond_the_session(
    client, owner, django_assert_max_num_queries
):
    notice = send(owner)
    client.force_login(owner)
    version = f"1.{notice.pk}"
    client.get("/notifications/bell/", {"v": version})
    with django_assert_max_num_queries(3):  # session, user, the indexed aggregate
        assert client.get("/notifications/bell/", {"v": version}).status_code == 204


def test_withdrawn_notice_disappears_from_the_bell(client, owner):
    send(owner, "followups:today")
    client.force_login(owner)
    notify_withdraw(key="followups:today", recipient=owner)
    html = client.get("/").content.decode()
    assert count_in(html) == "0"


def test_colleagues_notices_are_not_counted_nor_openable(client, owner, teammate):
    theirs = send(teammate)
    client.force_login(owner)
    assert count_in(client.get("/").content.decode()) == "0"
    assert client.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    client.post("/notifications/mark-read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notice_marks_it_read_and_goes_to_its_object(client, owner, customer):
    notice = send(owner, url=customer.get_absolute_url())
    client.force_login(owner)
    response = client.get(f"/notifications/{notice.pk}/open/")
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_a_notice_never_redirects_off_site(client, owner):
    notice = send(owner, url="//evil.example/")
    client.force_login(owner)
    assert client.get(f"/notifications/{notice.pk}/open/").url == "/notifications/"


def test_mark_all_read_empties_the_count(client, owner):
    send(owner, "a")
    send(owner, "b")
    client.force_login(owner)
    client.post("/notifications/mark-read/")
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_mark_one_read_with_htmx_returns_the_list(client, owner):
    first, second = send(owner, "a"), send(owner, "b")
    client.force_login(owner)
    response = client.post("/notifications/mark-read/", {"id": first.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Trigger"] == "notifications-changed"
    assert 'id="notice-list"' in response.content.decode()
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.read_at is not None, second.read_at is None) == (True, True)


def test_list_pages_by_keyset(client, owner):
    for n in range(35):
        send(owner, f"n{n}", name=f"客户{n}")
    client.force_login(owner)
    page = client.get("/notifications/")
    assert len(page.context["notices"]) == 30 and page.context["next_before"]
    older = client.get("/notifications/", {"before": page.context["next_before"]})
    assert len(older.context["notices"]) == 5


def test_unread_filter(client, owner):
    read, unread = send(owner, "a", name="甲"), send(owner, "b", name="乙")
    client.force_login(owner)
    client.post("/notifications/mark-read/", {"id": read.pk})
    page = client.get("/notifications/", {"unread": "1"})
    assert [n.pk for n in page.context["notices"]] == [unread.pk]


def test_menu_reads_in_the_readers_language(client, owner, settings):
    send(owner, title="Customers moved to you")
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    html = client.get("/notifications/menu/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "全部标为已读" in html and "查看全部通知" in html


def test_empty_list_says_what_will_appear(client, owner, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    html = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "还没有通知" in html


def test_anonymous_poll_goes_to_login(client, db):
    assert client.get("/notifications/bell/").status_code == 302
