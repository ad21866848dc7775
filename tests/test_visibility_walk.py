"""SPEC (visibility enforced in one place, errors reveal nothing): every page of a record is
closed to the same role in another branch.

For each working role, a walker logs in as the Beijing user of that role on the demo,
follows every link it finds and keeps the pages of one record (a number in the path:
customers, deals, tickets, disputes, visits…). The Shanghai user of the same role then asks
for each of them and must get 404 (or 403), never the page and never a server error —
unless the page is one that user reaches through their own links (records every branch
shares, such as the product catalogue and the knowledge base). The same check runs on the
API's record endpoints for the customers found.
"""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve

from guanxi.core.models import OrgUnit, Role, User, UserRole
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

RECORD = re.compile(r"/\d+(?:/|\.|$)")
SKIP = re.compile(r"^/(logout|i18n|admin|static)/|\.(pdf|ics|csv|xlsx)$|/export|/calendar/feed")
MAX_PAGES = 120
PER_ROUTE = 4
# Beijing user of each working role → the Shanghai user made for the same role.
PAIRS = [
    ("sales1", "sales3", None),
    ("manager", "manager_sh", None),
    ("reception", "sh_reception", Role.RECEPTIONIST),
    ("service", "sh_service", Role.SERVICE),
    ("finance", "sh_finance", Role.FINANCE),
]


@pytest.fixture
def demo(db):
    call_command("demo_data", customers=60, verbosity=0)
    shanghai = OrgUnit.objects.get(name="上海分店")
    for _bj, username, role in PAIRS:
        if role is not None:
            user = User.objects.create_user(
                username=username, password=None, org_unit=shanghai, display_name=username
            )
            UserRole.objects.create(user=user, role=role)
    return {u.username: u for u in User.objects.all()}


def _route(path: str) -> str | None:
    try:
        return resolve(path).route
    except Resolver404:
        return None


def walk(client: Client) -> tuple[set[str], set[str]]:
    """Every page reached from the home page; and those of them that show one record."""
    visited: set[str] = set()
    reached: set[str] = set()
    per_route: dict[str, int] = {}
    queue = deque(["/"])
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        if url in visited:
            continue
        visited.add(url)
        route = _route(urlsplit(url).path)
        if route is None or per_route.get(route, 0) >= PER_ROUTE:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        response = client.get(url)
        assert response.status_code < 500, f"{url}: HTTP {response.status_code}"
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        reached.add(url)
        for href in re.findall(r'href="([^"#]+)"', response.content.decode()):
            parts = urlsplit(href.replace("&amp;", "&"))
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if SKIP.search(parts.path) or parts.path.startswith("/api/"):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return reached, {url for url in reached if RECORD.search(urlsplit(url).path)}


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("beijing", "shanghai", "_role"), PAIRS)
def test_a_record_page_is_closed_to_the_same_role_in_another_branch(demo, beijing, shanghai, _role):
    _reached, records = walk(_logged_in(demo[beijing]))
    assert records, f"{beijing} reached no page of a record"
    theirs, _own = walk(_logged_in(demo[shanghai]))
    foreign = _logged_in(demo[shanghai])
    opened = {}
    for url in sorted(records - theirs):
        status = foreign.get(url).status_code
        if status not in (403, 404):
            opened[url] = status
    assert not opened, f"{shanghai} opened {beijing}'s records: {opened}"


@pytest.mark.parametrize(("beijing", "shanghai", "_role"), PAIRS[:2])
def test_a_customer_found_on_the_pages_is_closed_on_the_api_too(demo, beijing, shanghai, _role):
    _reached, records = walk(_logged_in(demo[beijing]))
    ids = {int(m.group(1)) for url in records if (m := re.match(r"^/customers/(\d+)/$", url))}
    assert ids, f"{beijing} reached no customer page"
    foreign = _logged_in(demo[shanghai])
    answers = {pk: foreign.get(f"/api/v1/customers/{pk}") for pk in sorted(ids)}
    assert {pk: r.status_code for pk, r in answers.items()} == {pk: 404 for pk in ids}
    assert all(r.json()["code"] == "not_found" for r in answers.values())
