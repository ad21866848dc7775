"""The next best action in "my day" (C6: each lifecycle stage "with the work it calls for (a
suggested next action on the customer page and in 'my day')"), with what to offer next:
the salesperson's own customers that call for work first, slipping ones at the top."""

from decimal import Decimal

from guanxi.customers.services import customer_update
from guanxi.insights import services
from guanxi.insights.engine import recompute_all
from guanxi.insights.recommend import rebuild_pairs
from guanxi.insights.rules import NEXT_ACTIONS
from guanxi.sales import services as sales
from guanxi.sales.models import Product
from tests.conftest import new_customer

from .conftest import history


def _buy(owner, finance, customer, *products):
    order = sales.order_create(
        actor=owner,
        customer_id=customer.pk,
        items=[{"product_id": p.pk} for p in products],
        ship_method="pickup",
        receiver_name="x",
        payer="x",
    )
    sales.payment_record(
        actor=finance,
        order_id=order.pk,
        amount=str(order.total),
        method="cash",
        receipt_number=f"MD-{order.pk}",
    )


def _co_purchases(owner, finance):
    ac = Product.objects.create(sku="AC", name="空调", list_price=Decimal("3000"))
    ext = Product.objects.create(sku="EXT", name="延保", list_price=Decimal("300"))
    for n in range(3):
        _buy(owner, finance, new_customer(owner, f"买家{n}", (f"1360000000{n}",)), ac, ext)
    return ac, ext


def _section(html: str) -> str:
    start = html.index('data-my-day-section="insights.next_actions"')
    return html[start : html.index("</ul>", start)]


def test_my_day_shows_the_customers_next_best_action_and_what_to_offer(
    client, owner, finance, customer
):
    ac, _ext = _co_purchases(owner, finance)
    _buy(owner, finance, customer, ac)  # one purchase: confirmation, return visit due
    recompute_all()
    rebuild_pairs()
    client.force_login(owner)
    section = _section(client.get("/my-day/").content.decode())
    assert customer.name in section
    assert str(NEXT_ACTIONS["confirmation"]) in section
    assert "Offer 延保:" in section
    assert "Customers who bought 空调 also bought 延保: 3 of 4." in section


def test_a_slipping_customer_comes_first_with_the_reason_in_words(
    client, owner, finance, customer, goods
):
    _co_purchases(owner, finance)  # others bought too: the stage order decides, not value
    history(owner, finance, customer, goods, [300, 120])
    recompute_all()
    services.churn_scan()
    client.force_login(owner)
    section = _section(client.get("/my-day/").content.decode())
    first = section.index('data-customer="')
    assert section[first:].startswith(f'data-customer="{customer.pk}"')
    assert "120 days without a purchase (warning after 113)." in section


def test_my_day_lists_only_the_salespersons_own_customers(
    client, owner, teammate, finance, customer, goods
):
    history(owner, finance, customer, goods, [10])
    recompute_all()
    client.force_login(teammate)
    section = _section(client.get("/my-day/").content.decode())
    assert customer.name not in section
    assert "No figures for your customers yet" in section


def test_a_do_not_contact_customer_gets_the_work_but_no_offer(client, owner, finance, customer):
    ac, _ext = _co_purchases(owner, finance)
    _buy(owner, finance, customer, ac)
    customer_update(actor=owner, customer_id=customer.pk, data={"do_not_contact": True})
    recompute_all()
    rebuild_pairs()
    client.force_login(owner)
    section = _section(client.get("/my-day/").content.decode())
    item = section[section.index(f'data-customer="{customer.pk}"') :].split("</li>")[0]
    assert str(NEXT_ACTIONS["confirmation"]) in item and "Offer" not in item


def test_my_day_shows_the_work_in_chinese(client, settings, owner, finance, customer, goods):
    settings.LANGUAGE_CODE = "zh-hans"
    history(owner, finance, customer, goods, [10])
    recompute_all()
    client.force_login(owner)
    html = client.get("/my-day/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "下一步最佳行动" in _section(html)


def test_the_api_gives_the_same_next_actions(client, owner, finance, customer):
    ac, _ext = _co_purchases(owner, finance)
    _buy(owner, finance, customer, ac)
    recompute_all()
    rebuild_pairs()
    client.force_login(owner)
    rows = client.get("/api/v1/insights/next-actions?limit=20").json()
    mine = next(r for r in rows if r["customer_id"] == customer.pk)
    assert mine["stage"] == "confirmation"
    assert mine["next_action"] == str(NEXT_ACTIONS["confirmation"])
    assert mine["recommendation"]["product"] == "延保"
    assert mine["recommendation"]["reason"].endswith("3 of 4.")
