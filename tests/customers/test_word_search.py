"""Word and substring search (C1): any word of a Latin name, any part of a Chinese name,
a word inside a company, an e-mail, an address or a tag — through visibility, ranked, and
kept in step with every change (create, edit, archive, merge, import)."""

import pytest
from django.core.management import call_command

from guanxi.customers import selectors
from guanxi.customers.search_index import matching_ids, rebuild_search_index
from guanxi.customers.services import (
    customer_archive,
    customer_merge,
    customer_restore,
    customer_update,
)
from tests.conftest import new_customer

from .helpers import API


def found(client, q: str, **params) -> list[str]:
    response = client.get(API, {"q": q, "limit": 200, **params})
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["items"]]


@pytest.fixture
def book(owner):
    """sales1's customers: Latin and Chinese names, companies, e-mails, addresses, tags."""
    people = [
        ("Anna Smith", {"company": "Acme Trading Ltd"}, ["18600000001"], ()),
        ("张伟", {"company": "深圳华为技术有限公司"}, ["18600000002"], ()),
        ("李小红", {"email": "xh.li@mail.cn"}, ["18600000003"], ()),
        ("王芳", {"address": "人民路188号", "district": "朝阳区"}, ["18600000004"], ("钻石会员",)),
        ("Peter Brown", {"company": "Sale 100% Off"}, ["18600000005"], ()),
        ("Tom Jones", {"company": "a_b Studio"}, ["18600000006"], ()),
        ("Wei Li", {"company": 'The "Best" Shop'}, ["18600000007"], ()),
        ("陈静", {"company": "axb Studio"}, ["18600000008"], ()),
    ]
    made = {}
    for name, data, phones, tags in people:
        customer = new_customer(owner, name, phones, **data)
        if tags:
            customer = customer_update(actor=owner, customer_id=customer.pk, data={}, tags=tags)
        made[name] = customer
    return made


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Smith", {"Anna Smith"}),
        ("smith", {"Anna Smith"}),
        ("mit", {"Anna Smith"}),  # inside a word
        ("伟", {"张伟"}),  # a given name of one character
        ("小红", {"李小红"}),  # a given name of two
        ("trading", {"Anna Smith"}),  # a word inside a company name
        ("华为", {"张伟"}),
        ("技术有限", {"张伟"}),
        ("mail.cn", {"李小红"}),  # part of an e-mail
        ("人民路188", {"王芳"}),  # part of an address
        ("朝阳区人民路", {"王芳"}),  # district and street
        ("钻石", {"王芳"}),  # a tag
        ("li", {"Wei Li", "李小红"}),  # a two-letter word, whole; and the pinyin li…
    ],
)
def test_word_and_substring_search_finds_what_users_type(client, owner, book, q, expected):
    client.force_login(owner)
    assert set(found(client, q)) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("100%", {"Peter Brown"}),
        ("0% O", {"Peter Brown"}),
        ("a_b", {"Tom Jones"}),  # not "axb": _ is no wildcard
        ('"best"', {"Wei Li"}),
        ('"Best" Shop', {"Wei Li"}),
        ("smith OR brown", set()),  # FTS operators are text
        ("smi*", set()),
        ("NEAR(smith brown)", set()),
        ("-smith", set()),
        ("Smith AND", set()),
        ("%%%", set()),
        ("___", set()),
        ("'", set()),
        ('"', set()),
        ("\\", set()),
    ],
)
def test_wildcards_quotes_and_operators_in_the_query_are_literal(client, owner, book, q, expected):
    client.force_login(owner)
    assert set(found(client, q)) == expected


def test_search_never_returns_a_customer_the_user_may_not_see(client, owner, outsider, manager):
    new_customer(owner, "Anna Smith", ("18600000001",), company="Acme")
    new_customer(outsider, "Mary Smith", ("18600000002",), company="Acme")
    client.force_login(owner)
    assert (set(found(client, "smith")), set(found(client, "acm"))) == (
        {"Anna Smith"},
        {"Anna Smith"},
    )
    client.force_login(manager)  # the Beijing branch: not the Shanghai salesperson's
    assert set(found(client, "smith")) == {"Anna Smith"}


def test_broad_search_walks_visibility_and_still_hides_others(client, owner, outsider, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 1)
    for i in range(3):
        new_customer(owner, f"Anna Smith{i}", (f"1860000000{i}",))
        new_customer(outsider, f"Mary Smith{i}", (f"1870000000{i}",))
    client.force_login(owner)
    assert sorted(found(client, "smith")) == ["Anna Smith0", "Anna Smith1", "Anna Smith2"]
    assert sorted(found(client, "mith", sort="name")) == [
        "Anna Smith0",
        "Anna Smith1",
        "Anna Smith2",
    ]


@pytest.fixture
def ranked(owner):
    names = ["Goldsmith", "Anna Smith", "Smithson Lee", "Smith"]
    return [new_customer(owner, n, (f"1860000000{i}",)).name for i, n in enumerate(names)]


def test_exact_name_first_then_prefixes_then_words_then_substrings(client, owner, ranked):
    client.force_login(owner)
    assert found(client, "smith") == ["Smith", "Smithson Lee", "Anna Smith", "Goldsmith"]


@pytest.mark.parametrize("narrow", [True, False])
def test_ranked_pages_return_every_match_once_in_rank_order(
    client, owner, ranked, monkeypatch, narrow
):
    if not narrow:  # every tier walked along the visibility parts
        monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 1)
    client.force_login(owner)
    names, cursor = [], None
    for _page in range(6):
        params = {"q": "smith", "limit": 1, **({"cursor": cursor} if cursor else {})}
        body = client.get(API, params).json()
        names += [row["name"] for row in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    # Walked, words and substrings share a tier, newest first: the same order here.
    assert names == ["Smith", "Smithson Lee", "Anna Smith", "Goldsmith"]


def test_exact_phone_comes_before_digits_found_elsewhere(client, owner):
    new_customer(owner, "邮箱有号", ("18600000001",), email="c13812345678@mail.cn")
    new_customer(owner, "号码", ("13812345678",))
    new_customer(owner, "地址有号", ("18600000002",), address="13812345678号")
    client.force_login(owner)
    assert found(client, "13812345678") == ["号码", "地址有号", "邮箱有号"]


def test_the_web_list_highlights_the_match(client, owner, book):
    client.force_login(owner)
    html = client.get("/customers/", {"q": "smith"}).content.decode()
    assert "Anna <mark>Smith</mark>" in html
    html = client.get("/customers/", {"q": "mail.cn"}).content.decode()
    assert "xh.li@<mark>mail.cn</mark>" in html  # where it matched, under the name


def test_a_highlighted_name_stays_escaped(client, owner):
    new_customer(owner, "<b>Smith</b>", ("18600000001",))
    client.force_login(owner)
    html = client.get("/customers/", {"q": "smith"}).content.decode()
    assert "&lt;b&gt;<mark>Smith</mark>&lt;/b&gt;" in html


def test_an_archived_customer_leaves_the_index_and_a_restored_one_returns(client, owner, book):
    anna = book["Anna Smith"]
    customer_archive(actor=owner, customer_id=anna.pk)
    assert matching_ids("smith", 10) == []
    client.force_login(owner)
    assert found(client, "smith") == []
    assert found(client, "smith", archived="1") == ["Anna Smith"]  # the archive still searches
    customer_restore(actor=owner, customer_id=anna.pk)
    assert matching_ids("smith", 10) == [anna.pk]


def test_a_merged_customer_leaves_the_index_and_the_kept_one_takes_its_words(owner):
    keep = new_customer(owner, "张伟", ("18600000001",))
    other = new_customer(owner, "张伟", ("18600000002",), company="Acme Trading")
    customer_merge(actor=owner, keep_id=keep.pk, merge_id=other.pk)
    assert (matching_ids("张伟", 10), matching_ids("trading", 10)) == ([keep.pk], [keep.pk])


def test_an_edit_moves_the_customer_in_the_index(client, owner, book):
    anna = book["Anna Smith"]
    customer_update(actor=owner, customer_id=anna.pk, data={"name": "Anna Miller"})
    client.force_login(owner)
    assert (found(client, "smith"), found(client, "mille")) == ([], ["Anna Miller"])
    customer_update(actor=owner, customer_id=anna.pk, data={}, tags=["Golfer"])
    assert found(client, "golf") == ["Anna Miller"]


def test_imported_customers_are_found_by_word(client, admin_user):
    from tests.transfer.helpers import csv_bytes, import_file

    rows = [["姓名", "手机", "公司"], ["Grace Taylor", "13812345678", "蓝天物流有限公司"]]
    job = import_file(admin_user, "a.csv", csv_bytes(rows))
    assert job.created_count == 1
    client.force_login(admin_user)
    assert (found(client, "taylor"), found(client, "物流")) == (["Grace Taylor"], ["Grace Taylor"])
    rows[1][2] = "Blue Sky Logistics"
    import_file(admin_user, "b.csv", csv_bytes(rows), duplicates="update")
    assert (found(client, "物流"), found(client, "logistic")) == ([], ["Grace Taylor"])


def test_the_rebuild_command_restores_a_lost_index(client, owner, book):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_search")
    assert matching_ids("smith", 10) == []
    call_command("rebuild_search_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert matching_ids("smith", 10) == [book["Anna Smith"].pk]
    assert rebuild_search_index() == len(book)


def test_a_bulk_build_finds_the_same_customers(monkeypatch, owner, book):
    """Big loads (demo generation, rebuilds) write the index in chunks — on PostgreSQL with
    COPY and the GIN indexes built once at the end."""
    from guanxi.customers import search_index

    monkeypatch.setattr(search_index, "BULK_FROM", 1)
    assert rebuild_search_index() == len(book)
    assert (matching_ids("smith", 10), matching_ids("小红", 10), matching_ids("华为", 10)) == (
        [book["Anna Smith"].pk],
        [book["李小红"].pk],
        [book["张伟"].pk],
    )
