"""C8: no existence oracles, and exports of customer data are audited (issue #12 items 6, 8)."""

from guanxi.core.models import AuditEntry
from tests.conftest import new_customer


def test_a_hidden_agreement_answers_exactly_as_a_missing_one(client, owner, outsider, flat):
    from guanxi.sales import services

    customer = new_customer(owner, "张三", ("13812345678",))
    deal = services.deal_create(
        actor=owner, customer_id=customer.pk, title="三居室", amount="0", product_id=flat.pk
    )
    from guanxi.sales.models import InventoryUnit
    from tests.sales.conftest import make_units

    unit = make_units(flat, 1)[0]
    services.deal_take_deposit(
        actor=owner, deal_id=deal.pk, kind="small_deposit", amount="5000", unit_id=unit.pk
    )
    agreement = services.agreement_issue(actor=owner, deal_id=deal.pk)
    assert InventoryUnit.objects.get(pk=unit.pk).status == "subscribed"
    client.force_login(outsider)
    hidden = client.get(f"/api/v1/sales/agreements/{agreement.pk}/pdf")
    missing = client.get(f"/api/v1/sales/agreements/{agreement.pk + 1000}/pdf")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_every_export_is_on_the_audit_log(client, owner, customer):
    client.force_login(owner)
    response = client.get("/customers/export/?format=csv&stage=potential")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = AuditEntry.objects.get(verb="customer.export")
    assert entry.actor == owner and "stage=potential" in entry.note
