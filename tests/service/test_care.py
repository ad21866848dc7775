"""After the resolution (C5): the return visit (回访) for the customer's owner, closed only
with a score or "unreachable"; scores recorded by the agent; CSAT; the service value
report; the staff knowledge-base pages."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from guanxi.core.errors import ValidationFailed
from guanxi.sales.models import Payment
from guanxi.service import care
from guanxi.service.models import ReturnVisit, Status, Survey
from guanxi.service.services import ticket_transition

from .conftest import at
from .helpers import open_ticket


@pytest.fixture
def resolved(agent, owner, customer):
    ticket = open_ticket(owner, customer)
    return ticket_transition(
        actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED, resolution="已维修"
    )


def test_resolution_gives_the_owner_a_return_visit(resolved, owner, notices):
    visit = ReturnVisit.objects.get(ticket=resolved)
    assert visit.assignee == owner and visit.done_at is None
    assert visit.due_at == at(7, 11)  # 16 working hours after Thursday 10:00
    assert any(n["recipient"] == owner and "return_visit" in n["key"] for n in notices)


def test_return_visit_cannot_close_without_an_outcome(resolved, owner):
    visit = ReturnVisit.objects.get(ticket=resolved)
    with pytest.raises(ValidationFailed) as exc:
        care.return_visit_close(actor=owner, visit_id=visit.pk, outcome="")
    assert exc.value.code == "outcome_required"
    with pytest.raises(ValidationFailed):
        care.return_visit_close(actor=owner, visit_id=visit.pk, outcome="scored", score=None)
    visit.refresh_from_db()
    assert visit.done_at is None


def test_the_database_refuses_a_closed_visit_without_outcome(resolved):
    from django.utils import timezone

    with pytest.raises(IntegrityError):
        ReturnVisit.objects.filter(ticket=resolved).update(done_at=timezone.now())


def test_return_visit_closed_with_a_score_records_the_survey(client, resolved, owner):
    visit = ReturnVisit.objects.get(ticket=resolved)
    client.force_login(owner)
    client.post(
        f"/service/return-visits/{visit.pk}/close/",
        {"outcome": "scored", "score": "5", "note": "很满意"},
    )
    visit.refresh_from_db()
    assert (visit.outcome, visit.score) == ("scored", 5)
    assert Survey.objects.get(ticket=resolved).score == 5


def test_unreachable_closes_without_a_score(resolved, owner):
    visit = ReturnVisit.objects.get(ticket=resolved)
    care.return_visit_close(actor=owner, visit_id=visit.pk, outcome="unreachable")
    visit.refresh_from_db()
    assert visit.outcome == "unreachable" and visit.done_at is not None


def test_agent_records_a_score_and_csat_shows_it(client, resolved, agent, manager):
    client.force_login(agent)
    page = client.get(resolved.get_absolute_url()).content.decode()
    assert "/help/survey/" in page
    client.post(f"/service/tickets/{resolved.pk}/survey/", {"score": "3"})
    assert Survey.objects.get(ticket=resolved).recorded_by == agent
    figures = care.csat(viewer=manager)
    assert figures["by_agent"][0]["avg"] == 3 and figures["by_type"][0]["n"] == 1
    client.force_login(manager)
    assert "周敏" in client.get("/service/reports/").content.decode()


def test_service_value_counts_customers_who_bought_again(client, resolved, manager, customer):
    Payment.objects.create(
        customer=customer,
        amount=Decimal("12800.00"),
        received_at=at(20, 10),
        method="wechat",
        receipt_number="R-1",
        recorded_by=manager,
    )
    client.force_login(manager)
    page = client.get("/service/reports/").content.decode()
    assert "¥12,800.00" in page and "1 bought again (100.0%)" in page


def test_knowledge_base_staff_pages(client, agent, owner):
    client.force_login(agent)
    client.post(
        "/service/kb/new/",
        {"title_zh": "空调不制冷", "body_zh": "检查滤网。", "type": "repair", "published": "on"},
    )
    page = client.get("/service/kb/", {"q": "ktbzl"}).content.decode()
    assert "空调不制冷" in page
    client.force_login(owner)
    assert client.get("/service/kb/new/").status_code == 404
