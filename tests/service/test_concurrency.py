"""Two SLA scans at the same instant (two workers, or a worker and a manual run) escalate
each breach once: the SlaEvent row is unique per ticket, kind and cycle, and PostgreSQL's
SKIP LOCKED lets the second scan pass over the ticket the first holds."""

import pytest

from guanxi.service.models import SlaEvent
from guanxi.service.services import sla_scan
from tests.races import run_together

from .conftest import at
from .helpers import open_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_scans_at_once_escalate_once(agent, manager, customer, owner, clock, notices):
    tickets = [open_ticket(owner, customer, subject=f"投诉 {i}") for i in range(5)]
    clock.move_to(at(9, 10))
    outcomes = run_together(*[sla_scan, sla_scan])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(o["breaches"] for o in outcomes) == 10
    for ticket in tickets:
        assert SlaEvent.objects.filter(ticket=ticket).count() == 2
    breach_notices = [n for n in notices if ":breach:" in n["key"]]
    assert len(breach_notices) == 5 * 2 * 2  # five tickets, two clocks, agent and manager
