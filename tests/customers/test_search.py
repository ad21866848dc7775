"""Search as users type (name, pinyin, initials, phone, company, e-mail) and keyset pages."""

import base64
import json

import pytest

from tests.conftest import new_customer

from .helpers import API


@pytest.fixture
def people(owner, customer):
    """张三 (the shared fixture) and four more of sales1's customers to tell apart."""
    return {
        "张三": customer,
        "李四": new_customer(owner, "李四", ("13987654321",), company="长城电脑"),
        "赵六": new_customer(owner, "赵六", ("0755 8888 1234",), email="boss@zhaoliu.cn"),
        "John Smith": new_customer(owner, "John Smith", ("13700009999",), company="Acme Ltd"),
        "张伟": new_customer(owner, "张伟", ("13600006666",)),
    }


def names_found(client, q: str) -> set[str]:
    response = client.get(API, {"q": q, "limit": 200})
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["items"]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("zhangsan", {"张三"}),
        ("zs", {"张三"}),
        ("张", {"张三", "张伟"}),
        ("5678", {"张三"}),
        ("138123", {"张三"}),
        ("１３８１２３４５６７８", {"张三"}),
        ("+86 138-1234-5678", {"张三"}),
        ("0755 8888", {"赵六"}),
        ("华强", {"张三"}),
        ("长城电", {"李四"}),
        ("zhangsan@exa", {"张三"}),
        ("boss@zhao", {"赵六"}),
        ("js", {"John Smith"}),
        ("john", {"John Smith"}),
        ("John Sm", {"John Smith"}),
        ("acme", {"John Smith"}),
    ],
)
def test_search_finds_customer_by_what_users_type(client, owner, people, q, expected):
    client.force_login(owner)
    assert names_found(client, q) == expected


def test_search_is_the_same_on_the_web_list(client, owner, people):
    client.force_login(owner)
    html = client.get("/customers/", {"q": "zs"}).content.decode()
    assert (
        people["张三"].get_absolute_url() in html,
        people["张伟"].get_absolute_url() in html,
    ) == (
        True,
        False,
    )


def test_search_for_an_unknown_name_finds_nothing(client, owner, people):
    client.force_login(owner)
    assert names_found(client, "wangwu") == set()


# Keyset pagination ---------------------------------------------------------------------

SURNAMES = "赵钱孙李周吴郑王"


@pytest.fixture
def sixty(owner):
    """60 customers of sales1; names repeat, so the name order needs its id tie-break."""
    return [
        new_customer(owner, SURNAMES[i % 8] + "先生", (f"1391234{i:04d}",)).pk for i in range(60)
    ]


def walk(client, sort: str, limit: int = 25) -> list[dict]:
    rows, cursor, pages = [], None, 0
    while True:
        params = {"sort": sort, "limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get(API, params).json()
        rows += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            return rows
        assert pages < 10, "pagination does not end"


def test_walking_pages_newest_first_returns_every_customer_once_in_order(client, owner, sixty):
    client.force_login(owner)
    ids = [row["id"] for row in walk(client, "recent")]
    assert ids == sorted(sixty, reverse=True)


def test_walking_pages_by_name_returns_every_customer_once_in_pinyin_order(client, owner, sixty):
    from guanxi.customers.models import Customer

    client.force_login(owner)
    ids = [row["id"] for row in walk(client, "name")]
    expected = list(
        Customer.objects.filter(pk__in=sixty)
        .order_by("name_pinyin", "id")
        .values_list("id", flat=True)
    )
    assert (len(ids), len(set(ids)), ids) == (60, 60, expected)


def test_web_list_next_page_link_continues_where_the_page_ended(client, owner, sixty):
    client.force_login(owner)
    first = client.get("/customers/")
    cursor = first.context["page"].next_cursor
    second = client.get("/customers/", {"cursor": cursor})
    first_ids = [c.pk for c in first.context["page"].items]
    second_ids = [c.pk for c in second.context["page"].items]
    assert second_ids == sorted(sixty, reverse=True)[25:50]
    assert not set(first_ids) & set(second_ids)


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("recent", "not a cursor!"),
        ("recent", _cursor(["x"])),
        ("name", "not a cursor!"),
        ("name", _cursor([5])),  # a "recent" cursor replayed on the name order
        ("name", _cursor(["zhang", "x"])),
    ],
)
def test_invalid_cursor_is_rejected_with_422(client, owner, customer, sort, cursor):
    client.force_login(owner)
    response = client.get(API, {"sort": sort, "cursor": cursor})
    assert (response.status_code, response.json()["code"]) == (422, "invalid_cursor")
