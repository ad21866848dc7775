"""Webhooks from the sales services: a deal's stage change and a payment recorded."""

from guanxi.core.models import WebhookDelivery
from guanxi.core.webhooks import webhook_create
from guanxi.sales import services
from tests.sales.conftest import _pipeline, deal, deposit, flat, make_units, pay  # noqa: F401


def test_stage_change_and_payment_are_queued(admin_user, owner, finance, deal, flat):  # noqa: F811
    webhook_create(
        actor=admin_user,
        name="ERP",
        url="http://127.0.0.1:9/",
        events=["deal.stage_changed", "payment.recorded"],
    )
    services.deal_move(actor=owner, deal_id=deal.pk, to_stage="quoted")
    unit = make_units(flat, 1)[0]
    deposit(owner, deal, unit, amount="50000")
    pay(finance, deal, "10000")
    events = list(WebhookDelivery.objects.order_by("id").values_list("event", "payload"))
    stage_changes = [p for e, p in events if e == "deal.stage_changed"]
    assert stage_changes[0]["from_stage"] == "lead" and stage_changes[0]["to_stage"] == "quoted"
    payments = [p for e, p in events if e == "payment.recorded"]
    assert len(payments) == 1 and payments[0]["amount"] == "10000.00"
    assert payments[0]["deal_id"] == deal.pk
