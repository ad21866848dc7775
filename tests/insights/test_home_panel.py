"""The churn watch on the home page (issue 18): the owner sees their slipping customer with
the reason in words; a colleague of another branch does not."""

from guanxi.insights import services
from guanxi.insights.engine import recompute_all

from .conftest import history


def test_the_owner_sees_a_slipping_customer_and_why_on_the_home_page(
    client, owner, outsider, finance, customer, goods
):
    history(owner, finance, customer, goods, [300, 120])
    recompute_all()
    services.churn_scan()
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'data-panel="insights.churn"' in html
    assert customer.name in html
    assert "120 days without a purchase (warning after 113)." in html
    client.force_login(outsider)
    html = client.get("/").content.decode()
    assert 'data-panel="insights.churn"' in html and customer.name not in html
