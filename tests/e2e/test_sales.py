"""The sales floor in a real browser (SPEC C4): a salesperson drags a deal on the kanban
from Lead to Quoted, takes a small deposit on a flat, and the sales-control board (销控表)
shows the flat reserved."""

import importlib
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from guanxi.sales import services
from guanxi.sales.models import Deal, InventoryUnit, PipelineStage, Product, UnitEvent
from tests.conftest import PASSWORD

from .helpers import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def pipeline_stages():
    """The default pipeline is migration data, flushed by every transactional test."""
    if not PipelineStage.objects.exists():
        migration = importlib.import_module("guanxi.sales.migrations.0002_default_pipeline")
        for position, (code, zh, en, probability) in enumerate(migration.STAGES):
            PipelineStage.objects.create(
                code=code, name_zh=zh, name_en=en, position=position, probability=probability
            )


def a_building():
    flat = Product.objects.create(
        name="锦绣华庭 三居室", sku="JXHT-3R", list_price=Decimal("2680000.00"), has_units=True
    )
    InventoryUnit.objects.bulk_create(
        InventoryUnit(
            product=flat,
            code=f"1-{floor:02d}0{number}",
            building="1",
            floor=floor,
            number=f"{floor:02d}0{number}",
            list_price=Decimal("2600000.00") + floor * 10000,
            status="available" if (floor + number) % 3 else "held",
        )
        for floor in range(6, 0, -1)
        for number in range(1, 5)
    )
    return flat


def drag(page, source, target, steps=12):
    """A real drag: press on the card, move in steps (SortableJS listens to pointer moves),
    release over the target column."""
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = target.bounding_box()
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    x1, y1 = end["x"] + end["width"] / 2, end["y"] + min(end["height"] / 2, 30)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 5, y0 + 5, steps=2)  # past Sortable's start threshold
    page.mouse.move(x1, y1, steps=steps)
    page.mouse.move(x1, y1 + 2, steps=2)
    page.mouse.up()


def test_drag_a_deal_to_quoted_take_a_deposit_and_see_the_unit_reserved(new_page, owner, customer):
    pipeline_stages()
    flat = a_building()
    deal = services.deal_create(
        actor=owner, customer_id=customer.pk, title="张三 · 三居室", product_id=flat.pk
    )
    other = services.deal_create(actor=owner, customer_id=customer.pk, title="张三 · 车位")
    unit = InventoryUnit.objects.filter(status="available").order_by("-floor", "number")[2]

    page = new_page()
    log_in(page, "sales1", PASSWORD)
    page.goto("/sales/")
    lead = page.locator('[data-stage-column="lead"]')
    quoted = page.locator('[data-stage-column="quoted"]')
    card = page.locator(f"#deal-{deal.pk}")
    expect(lead.locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(lead.locator(".column-count")).to_have_text("2")
    expect(quoted.locator(".column-count")).to_have_text("0")
    shot(page, "sales-01-kanban-before")

    # Drag the card from Lead to Quoted: the drop posts the move and htmx redraws the board.
    drag(page, card, quoted.locator(".kanban-cards"))
    expect(quoted.locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(quoted.locator(".column-count")).to_have_text("1")
    expect(lead.locator(".column-count")).to_have_text("1")
    expect(lead.locator(f"#deal-{other.pk}")).to_be_visible()
    assert Deal.objects.get(pk=deal.pk).stage == "quoted"
    assert Deal.objects.get(pk=other.pk).stage == "lead"
    shot(page, "sales-02-kanban-dragged-to-quoted")

    # A drag the rules refuse (onto 小定 without a deposit) leaves the card where it was.
    drag(page, page.locator(f"#deal-{deal.pk}"), page.locator('[data-stage="small_deposit"]'))
    expect(page.locator("#move-error")).to_contain_text("Take the deposit")
    expect(quoted.locator(f"#deal-{deal.pk}")).to_be_visible()
    assert Deal.objects.get(pk=deal.pk).stage == "quoted"
    shot(page, "sales-03-kanban-refused")

    # Open the deal and take a small deposit on an available flat.
    page.locator(f"#deal-{deal.pk} a").click()
    expect(page).to_have_url(re.compile(rf"/sales/deals/{deal.pk}/$"))
    form = page.locator("#deposit-form")
    form.locator("select[name=kind]").select_option("small_deposit")
    form.locator("input[name=amount]").fill("20000")
    form.locator("select[name=unit]").select_option(str(unit.pk))
    shot(page, "sales-04-deposit-form")
    page.click("#take-deposit")
    expect(page.locator("#deal-stage")).to_have_text(re.compile("Small deposit"))
    expect(page.locator("#deal-unit")).to_have_text(unit.code)
    shot(page, "sales-05-deposit-taken")

    # The sales-control board shows the flat reserved.
    page.goto("/sales/board/")
    cell = page.locator(f"#unit-{unit.pk}")
    expect(cell).to_have_attribute("data-status", "reserved")
    expect(page.locator(".count-reserved")).to_have_text("1")
    shot(page, "sales-06-board-reserved")

    unit.refresh_from_db()
    assert (unit.status, unit.deal_id) == ("reserved", deal.pk)
    assert list(UnitEvent.objects.filter(unit=unit).values_list("to_status", flat=True)) == [
        "reserved"
    ]
