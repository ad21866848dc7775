"""The demo data (`guanxi demo-data`) has tickets in every state, some of them late."""

from guanxi.demo.service import demo_service
from guanxi.service.models import Article, Status, Ticket


def test_demo_has_tickets_in_every_state_and_some_late(service_agent, manager, customer):
    demo_service()
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert Ticket.objects.filter(resolution_breached=True).exists()
    assert Article.objects.filter(published=True).count() == 4
    demo_service()  # a second run adds nothing
    assert Ticket.objects.count() == 30
