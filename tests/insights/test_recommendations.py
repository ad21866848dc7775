"""Recommendations (C6): what to offer next from co-purchase history (item-item), with the
reason, excluding what the customer owns or holds, none for a do-not-contact customer; and
the churn warning's precision measured on the two-year demo history."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from guanxi.customers.services import customer_update
from guanxi.insights.engine import churn_backtest
from guanxi.insights.recommend import rebuild_pairs, recommend_for
from guanxi.sales import services as sales
from guanxi.sales.models import Product
from tests.conftest import new_customer


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
        receipt_number=f"REC-{order.pk}",
    )


def _catalogue():
    def make(sku, name, price):
        return Product.objects.create(sku=sku, name=name, list_price=Decimal(price))

    return make("AC", "空调", "3000"), make("EXT", "延保", "300"), make("TV", "电视", "4000")


def test_recommends_what_buyers_of_the_same_product_also_bought_with_the_reason(
    owner, finance, customer
):
    ac, ext, _tv = _catalogue()
    for n in range(3):
        _buy(owner, finance, new_customer(owner, f"买家{n}", (f"1360000000{n}",)), ac, ext)
    _buy(owner, finance, new_customer(owner, "买家9", ("13600000009",)), ac)
    _buy(owner, finance, customer, ac)
    rebuild_pairs()
    [first] = recommend_for(customer)
    assert first.product == "延保"
    assert first.reason == "Customers who bought 空调 also bought 延保: 3 of 5."


def test_does_not_recommend_what_the_customer_owns_or_holds(owner, finance, customer):
    ac, ext, tv = _catalogue()
    for n in range(3):
        _buy(owner, finance, new_customer(owner, f"买家{n}", (f"1360000000{n}",)), ac, ext, tv)
    _buy(owner, finance, customer, ac, ext)
    sales.quote_issue(actor=owner, customer_id=customer.pk, product_id=tv.pk, price="4000")
    rebuild_pairs()
    assert recommend_for(customer) == []


def test_a_do_not_contact_customer_gets_no_recommendations(owner, finance, customer):
    ac, ext, _tv = _catalogue()
    for n in range(3):
        _buy(owner, finance, new_customer(owner, f"买家{n}", (f"1360000000{n}",)), ac, ext)
    _buy(owner, finance, customer, ac)
    customer_update(actor=owner, customer_id=customer.pk, data={"do_not_contact": True})
    rebuild_pairs()
    customer.refresh_from_db()
    assert recommend_for(customer) == []


def test_the_recommendations_api(client, owner, finance, customer):
    ac, ext, _tv = _catalogue()
    for n in range(2):
        _buy(owner, finance, new_customer(owner, f"买家{n}", (f"1360000000{n}",)), ac, ext)
    _buy(owner, finance, customer, ac)
    rebuild_pairs()
    client.force_login(owner)
    [item] = client.get(f"/api/v1/insights/customers/{customer.pk}/recommendations").json()
    assert (item["product"], item["together"], item["buyers"]) == ("延保", 2, 3)


def test_churn_warning_precision_on_the_demo_history(owner, finance):
    from guanxi.demo.history import demo_order_history

    people = [new_customer(owner, f"演示{n}", (f"135{n:08d}",)) for n in range(120)]
    patterns = demo_order_history(customers=people, actor=finance)
    result = churn_backtest(as_of=timezone.now() - timedelta(days=150), horizon_days=150)
    assert result["warned"] > 0
    # Most warned customers really stopped buying (the demo's slipping ones).
    assert result["precision"] >= 0.6, (result, patterns)


def test_a_withdrawn_product_is_not_recommended(owner, finance, customer):
    ac, ext, tv = _catalogue()
    for n in range(3):
        _buy(owner, finance, new_customer(owner, f"买家{n}", (f"1360000000{n}",)), ac, ext, tv)
    _buy(owner, finance, customer, ac)
    rebuild_pairs()
    Product.objects.filter(pk=ext.pk).update(active=False)
    assert [r.product for r in recommend_for(customer)] == ["电视"]
