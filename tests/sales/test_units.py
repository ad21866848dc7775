"""Units and sales control: a deposit reserves the unit in the same transaction, a unit is
never held by two deals, only a manager releases or holds back (预销控), and the board."""

from decimal import Decimal

import pytest

from guanxi.core.errors import Conflict, Forbidden, ValidationFailed
from guanxi.sales import services
from guanxi.sales.models import Deal, Instalment, InventoryUnit, UnitEvent

from .conftest import FLAT_PRICE, deposit, make_units, open_deal


def test_a_deposit_reserves_the_unit_and_goes_on_the_schedule(owner, deal, units):
    unit = units[0]
    taken = deposit(owner, deal, unit, amount="20000.00")
    unit.refresh_from_db()
    assert (unit.status, unit.deal_id) == ("reserved", deal.pk)
    assert (taken.stage, taken.unit_id, taken.amount) == ("small_deposit", unit.pk, FLAT_PRICE)
    events = list(UnitEvent.objects.filter(unit=unit).values_list("from_status", "to_status"))
    assert events == [("available", "reserved")]
    instalment = Instalment.objects.get(deal=deal)
    assert (instalment.amount, instalment.status, instalment.paid_amount) == (
        Decimal("20000.00"),
        "due",
        Decimal("0.00"),
    )


def test_a_second_deal_on_the_same_unit_is_refused(owner, customer, deal, units, flat):
    deposit(owner, deal, units[0])
    other = open_deal(owner, customer, flat, title="另一套")
    with pytest.raises(Conflict) as caught:
        deposit(owner, other, units[0])
    assert (caught.value.code, caught.value.field) == ("unit_not_available", "unit_id")
    assert Deal.objects.get(pk=other.pk).stage == "lead"
    assert not Instalment.objects.filter(deal=other).exists()
    assert InventoryUnit.objects.get(pk=units[0].pk).deal_id == deal.pk
    assert UnitEvent.objects.filter(unit=units[0], to_status="reserved").count() == 1


def test_a_unit_held_back_is_not_for_sale(owner, deal, flat):
    held = make_units(flat, 1, status="held", first=40)[0]
    with pytest.raises(Conflict) as caught:
        deposit(owner, deal, held)
    assert caught.value.code == "unit_not_available"


def test_a_large_deposit_after_a_small_one_keeps_the_same_unit(owner, deal, units):
    deposit(owner, deal, units[0])
    taken = deposit(owner, deal, kind="large_deposit", amount="100000")
    assert (taken.stage, taken.unit_id) == ("large_deposit", units[0].pk)
    assert UnitEvent.objects.filter(unit=units[0]).count() == 1
    assert Instalment.objects.filter(deal=deal).count() == 2
    with pytest.raises(Conflict) as caught:
        deposit(owner, deal, units[1], kind="large_deposit")
    assert caught.value.code == "has_unit"


def test_a_product_sold_by_units_needs_the_unit(owner, deal, units):
    with pytest.raises(ValidationFailed) as caught:
        deposit(owner, deal, None)
    assert (caught.value.code, caught.value.field) == ("required", "unit_id")


def test_a_unit_of_another_product_is_refused(owner, deal, phone_product):
    phone = make_units(phone_product, 1)[0]
    with pytest.raises(ValidationFailed) as caught:
        deposit(owner, deal, phone)
    assert (caught.value.code, caught.value.field) == ("wrong_product", "unit_id")
    assert InventoryUnit.objects.get(pk=phone.pk).status == "available"


def test_deposit_amount_must_be_exact_and_positive(owner, deal, units):
    for amount, code in [(0.1, "inexact"), ("0", "not_positive"), ("abc", "invalid")]:
        with pytest.raises(ValidationFailed) as caught:
            deposit(owner, deal, units[0], amount=amount)
        assert caught.value.code == code
    assert InventoryUnit.objects.get(pk=units[0].pk).status == "available"


def test_only_a_manager_releases_or_holds_back_a_unit(owner, manager, flat):
    unit = make_units(flat, 1, status="held")[0]
    with pytest.raises(Forbidden):
        services.unit_set_release(actor=owner, unit_id=unit.pk, release=True)
    assert services.unit_set_release(actor=manager, unit_id=unit.pk, release=True).status == (
        "available"
    )
    with pytest.raises(Forbidden):
        services.unit_set_release(actor=owner, unit_id=unit.pk, release=False)
    assert services.unit_set_release(actor=manager, unit_id=unit.pk, release=False).status == (
        "held"
    )
    with pytest.raises(Conflict) as caught:
        services.unit_set_release(actor=manager, unit_id=unit.pk, release=False)
    assert caught.value.code == "wrong_status"
    assert list(UnitEvent.objects.filter(unit=unit).values_list("to_status", flat=True)) == [
        "available",
        "held",
    ]


def test_a_reserved_unit_cannot_be_held_back(owner, manager, deal, units):
    deposit(owner, deal, units[0])
    with pytest.raises(Conflict) as caught:
        services.unit_set_release(actor=manager, unit_id=units[0].pk, release=False)
    assert caught.value.code == "wrong_status"


def test_new_units_start_held_back_until_released(manager, flat):
    created = services.units_create(
        actor=manager, product_id=flat.pk, units=[{"code": "A-0101"}, {"code": "A-0102"}]
    )
    assert {u.status for u in created} == {"held"}
    with pytest.raises(ValidationFailed) as caught:
        services.units_create(actor=manager, product_id=flat.pk, units=[{"code": "A-0101"}])
    assert caught.value.code == "duplicate"


def test_release_through_the_web_and_the_api(client, owner, manager, flat):
    held = make_units(flat, 2, status="held")
    client.force_login(owner)
    response = client.post(f"/api/v1/sales/units/{held[0].pk}/release?release=true")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    client.post(f"/sales/units/{held[0].pk}/release/", {"release": "1"})
    assert InventoryUnit.objects.get(pk=held[0].pk).status == "held"
    client.force_login(manager)
    response = client.post(f"/sales/units/{held[0].pk}/release/", {"release": "1"})
    assert response.status_code == 302
    response = client.post(f"/api/v1/sales/units/{held[1].pk}/release?release=true")
    assert (response.status_code, response.json()["status"]) == (200, "available")
    assert set(InventoryUnit.objects.values_list("status", flat=True)) == {"available"}


def test_the_board_shows_each_unit_by_status(client, owner, deal, units):
    deposit(owner, deal, units[2])
    client.force_login(owner)
    html = client.get("/sales/board/").content.decode()
    assert f'id="unit-{units[2].pk}" data-status="reserved"' in html
    assert f'id="unit-{units[0].pk}" data-status="available"' in html
    assert "release" not in html  # no held units and not a manager
    partial = client.get("/sales/board/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and f'id="unit-{units[2].pk}" data-status="reserved"' in partial
    rows = {u["id"]: u for u in client.get("/api/v1/sales/units").json()}
    assert (rows[units[2].pk]["status"], rows[units[2].pk]["deal_id"]) == ("reserved", deal.pk)


def test_deposit_from_the_deal_page(client, owner, deal, units):
    client.force_login(owner)
    page = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert f'<option value="{units[1].pk}"' in page
    response = client.post(
        f"/sales/deals/{deal.pk}/deposit/",
        {"kind": "small_deposit", "amount": "5000.00", "unit": str(units[1].pk)},
    )
    assert response.status_code == 302
    unit = InventoryUnit.objects.get(pk=units[1].pk)
    assert (unit.status, unit.deal_id) == ("reserved", deal.pk)
    other = open_deal(owner, deal.customer, deal.product, title="第二套")
    response = client.post(
        f"/sales/deals/{other.pk}/deposit/",
        {"kind": "small_deposit", "amount": "5000.00", "unit": str(units[1].pk)},
        follow=True,
    )
    assert response.status_code == 200
    assert "This unit is not available." in response.content.decode()
    assert Deal.objects.get(pk=other.pk).stage == "lead"


def test_a_manager_releases_from_the_board(manager, flat):
    import re

    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # the button's token must be the real one
    held = make_units(flat, 2, status="held")
    InventoryUnit.objects.filter(pk=held[1].pk).update(number='<b>"07"</b>')
    client.force_login(manager)
    html = client.get(f"/sales/board/?product={flat.pk}").content.decode()
    assert 'Held back (预销控): <span class="count-held">2</span>' in html
    assert "&lt;b&gt;&quot;07&quot;&lt;/b&gt;" in html and '<b>"07"' not in html
    form = re.search(
        rf'<form method="post" action="(/sales/units/{held[0].pk}/release/)".*?'
        r'name="csrfmiddlewaretoken" value="([^"]+)"',
        html,
    )
    assert form is not None
    assert client.post(form.group(1), {"release": "1"}).status_code == 403  # no token
    client.post(form.group(1), {"release": "1", "csrfmiddlewaretoken": form.group(2)})
    assert InventoryUnit.objects.get(pk=held[0].pk).status == "available"
    html = client.get(f"/sales/board/?product={flat.pk}").content.decode()
    assert f'id="unit-{held[0].pk}" data-status="available"' in html
    assert html.count("/release/") == 1


def test_a_board_poll_is_empty_until_something_changes(client, owner, manager, deal, units, flat):
    import re

    client.force_login(owner)
    html = client.get(f"/sales/board/?product={flat.pk}").content.decode()
    poll = re.search(r'id="unit-grid" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "v=" in poll
    hx = {"HTTP_HX_REQUEST": "true"}
    assert client.get(poll, **hx).status_code == 204
    deposit(owner, deal, units[3])
    redrawn = client.get(poll, **hx)
    assert redrawn.status_code == 200
    assert f'id="unit-{units[3].pk}" data-status="reserved"' in redrawn.content.decode()
    newer = re.search(r'hx-get="([^"]+)"', redrawn.content.decode()).group(1).replace("&amp;", "&")
    assert client.get(newer, **hx).status_code == 204
    # A change that commits late with an older timestamp is still seen (status checksum).
    InventoryUnit.objects.filter(pk=units[5].pk).update(status="held", updated_at=flat_time(units))
    assert client.get(newer, **hx).status_code == 200
    # An edit through save() (the admin) counts as a change too.
    unit = InventoryUnit.objects.get(pk=units[6].pk)
    unit.number = "0606A"
    unit.save()
    latest = client.get(newer, **hx).content.decode()
    assert "0606A" in latest
    # Without the version (a first load), always the grid.
    assert client.get(f"/sales/board/?product={flat.pk}", **hx).status_code == 200


def flat_time(units):
    from datetime import timedelta

    return min(u.updated_at for u in units) - timedelta(days=1)


def test_bad_ids_in_forms_are_refused_not_500(client, owner, manager, deal):
    client.force_login(owner)
    response = client.post(
        f"/sales/deals/{deal.pk}/deposit/", {"kind": "small_deposit", "amount": "1", "unit": "x"}
    )
    assert response.status_code == 302
    assert Deal.objects.get(pk=deal.pk).stage == "lead"
    client.force_login(manager)
    for pk in ("abc", "", "99999"):
        response = client.post(
            "/sales/approvals/", {"target": "change", "pk": pk, "decision": "approve"}
        )
        assert response.status_code == 302
