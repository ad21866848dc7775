"""Issue 14 item 8: a short first-login tour per role on the home page, dismissable and
remembered per user, with no inline script (CSP `script-src 'self'`)."""

import pytest

from guanxi.core.models import TourDismissal
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_salesperson_sees_the_sales_tour_with_links_to_its_pages(client, owner):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'id="first-tour"' in html
    tour = html.split('id="first-tour"')[1].split("</section>")[0]
    assert 'href="/customers/"' in tour and 'href="/reception/pool/"' in tour
    assert "<script" not in tour


def test_a_manager_sees_the_managers_tour(client, manager):
    client.force_login(manager)
    tour = client.get("/").content.decode().split('id="first-tour"')[1].split("</section>")[0]
    assert 'href="/sales/approvals/"' in tour and 'href="/reception/redistribute/"' in tour


def test_dismissing_the_tour_hides_it_for_that_user_only(client, owner, teammate):
    client.force_login(owner)
    response = client.post("/tour/dismiss/", {"tour": "sales"})
    assert response.status_code == 302
    assert 'id="first-tour"' not in client.get("/").content.decode()
    client.post("/tour/dismiss/", {"tour": "sales"})  # twice is once
    assert TourDismissal.objects.filter(user=owner).count() == 1
    client.force_login(teammate)
    assert 'id="first-tour"' in client.get("/").content.decode()


def test_an_unknown_tour_name_is_ignored(client, owner):
    client.force_login(owner)
    assert client.post("/tour/dismiss/", {"tour": "x" * 500}).status_code == 302
    assert not TourDismissal.objects.exists()
