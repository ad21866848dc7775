"""The agent queue reads a page in a fixed number of queries, however many rows it shows
(issue 15: the queue stays fast at a million tickets; a deferred field read per row was
a query per ticket)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import new_customer

from .helpers import open_ticket


def _queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/service/?status=all").status_code == 200
    return len(queries)


def test_queue_page_queries_do_not_grow_with_its_rows(client, agent, owner):
    open_ticket(owner, new_customer(owner, "客户甲", ("13800000001",)))
    client.force_login(agent)
    few = _queue_queries(client)
    for n in range(2, 12):
        open_ticket(owner, new_customer(owner, f"客户{n}", (f"138000000{n:02d}",)))
    assert _queue_queries(client) == few
