"""Lists cost a fixed number of queries, however many rows the page shows (STYLE 7)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import new_customer

from .helpers import API


def queries_for(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [API, "/customers/"])
def test_list_queries_do_not_grow_with_the_number_of_rows(client, manager, owner, url):
    client.force_login(manager)
    new_customer(owner, "客户0", ("13900000000",))
    few = queries_for(client, url)
    for i in range(1, 20):
        new_customer(owner, f"客户{i}", (f"139000000{i:02d}",))
    assert queries_for(client, url) == few
