"""SLA (C5): a complaint is answered and resolved within 24 working hours on the branch's
calendar; waiting for the customer pauses the clock; warnings before, escalation to the
unit's manager on breach; the scan is idempotent and survives a crash."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.calendar import working_time_between
from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.core.models import AuditEntry, Webhook, WebhookDelivery
from guanxi.service import services
from guanxi.service.models import NO_DEADLINE, SlaEvent, Status, Ticket, TicketStatusLog
from guanxi.service.services import sla_scan, ticket_reply, ticket_transition

from .conftest import at
from .helpers import open_ticket


@pytest.fixture
def ticket(agent, customer, owner):
    return open_ticket(owner, customer)


def test_complaint_is_due_within_24_working_hours(ticket):
    # Thu 10:00: 6.5 h Thursday, 7.5 Friday, 7.5 Monday, 2.5 Tuesday → Tue 8 Dec, 11:30.
    assert ticket.response_due_at == at(8, 11, 30)
    assert ticket.resolution_due_at == at(8, 11, 30)
    assert ticket.due_at == at(8, 11, 30)


def test_new_ticket_goes_to_the_skilled_agent(ticket, agent):
    assert ticket.assignee == agent
    assert ticket.status == Status.ASSIGNED
    assert [e.to_status for e in ticket.status_log.all()] == ["new", "assigned"]


def test_paused_ticket_deadline_moves_by_exactly_the_paused_working_time(ticket, agent, clock):
    original = ticket.resolution_due_at
    clock.move_to(at(3, 11))
    ticket_reply(actor=agent, ticket_id=ticket.pk, body="请提供购买凭证", wait=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    assert ticket.due_at == NO_DEADLINE  # the clock stands
    clock.move_to(at(7, 10))  # Monday 10:00: the customer answered
    ticket_transition(actor=agent, ticket_id=ticket.pk, to_status=Status.IN_PROGRESS)
    ticket.refresh_from_db()
    paused = working_time_between(at(3, 11), at(7, 10))
    assert paused == timedelta(hours=14)
    assert working_time_between(original, ticket.resolution_due_at) == paused
    assert ticket.resolution_due_at == at(10, 10, 30)  # Tue 11:30 + 14 working hours


def test_first_reply_stops_the_response_clock(ticket, agent, clock):
    clock.move_to(at(3, 15))
    ticket_reply(actor=agent, ticket_id=ticket.pk, body="已安排师傅上门")
    ticket.refresh_from_db()
    assert ticket.first_response_at == at(3, 15)
    assert ticket.response_due_at is None  # met
    assert not ticket.response_breached
    assert ticket.status == Status.IN_PROGRESS


def test_warning_goes_to_the_assignee_before_the_breach(ticket, agent, clock, notices):
    clock.move_to(at(8, 9, 31))  # two working hours before Tue 11:30
    counts = sla_scan()
    assert counts["warnings"] == 2  # first response and resolution
    assert {n["recipient"] for n in notices if n.get("kind") == "sla"} == {agent}
    assert sla_scan()["warnings"] == 0  # once


def test_breach_escalates_to_the_units_manager_with_a_visible_mark(
    ticket, agent, manager, clock, notices, admin_user
):
    Webhook.objects.create(name="hook", url="https://example.cn/h", events=["sla.breached"])
    clock.move_to(at(8, 14))
    counts = sla_scan()
    assert counts["breaches"] == 2
    ticket.refresh_from_db()
    assert ticket.response_breached and ticket.resolution_breached
    escalated = {n["recipient"] for n in notices if "breach" in n["key"]}
    assert escalated == {agent, manager}
    assert WebhookDelivery.objects.filter(event="sla.breached").count() == 2
    assert ticket.sla_check_at is None  # nothing left for the scan
    assert sla_scan() == {"checked": 0, "warnings": 0, "breaches": 0}


def test_a_scan_that_crashes_midway_is_finished_by_the_next(
    agent, customer, owner, clock, monkeypatch
):
    tickets = [open_ticket(owner, customer, subject=f"投诉 {i}") for i in range(3)]
    clock.move_to(at(9, 10))
    real = services._record_event
    calls = {"n": 0}

    def crash_on_second_ticket(ticket, kind, moment, **kwargs):
        if ticket.pk == tickets[1].pk:
            raise RuntimeError("worker killed")
        calls["n"] += 1
        return real(ticket, kind, moment, **kwargs)

    monkeypatch.setattr(services, "_record_event", crash_on_second_ticket)
    with pytest.raises(RuntimeError):
        sla_scan()
    monkeypatch.setattr(services, "_record_event", real)
    sla_scan()
    for t in tickets:
        kinds = sorted(SlaEvent.objects.filter(ticket=t).values_list("kind", flat=True))
        assert kinds == ["resolution_breach", "response_breach"]


def test_a_crash_in_a_later_batch_keeps_the_batches_before_and_redoes_only_its_own(
    agent, manager, customer, owner, clock, monkeypatch, notices
):
    """The scan works in batches, one transaction each: a crash rolls back only its batch;
    the next scan escalates the rest, and nothing of the committed batches twice."""
    tickets = [open_ticket(owner, customer, subject=f"投诉 {i}") for i in range(5)]
    clock.move_to(at(9, 10))
    monkeypatch.setattr(services, "SCAN_BATCH", 2)
    real = services._record_event

    def crash_in_the_second_batch(ticket, kind, moment, **kwargs):
        if ticket.pk == tickets[3].pk:
            raise RuntimeError("worker killed")
        return real(ticket, kind, moment, **kwargs)

    monkeypatch.setattr(services, "_record_event", crash_in_the_second_batch)
    with pytest.raises(RuntimeError):
        sla_scan()
    done = set(SlaEvent.objects.values_list("ticket_id", flat=True))
    assert done == {tickets[0].pk, tickets[1].pk}  # the first batch committed, not the second
    monkeypatch.setattr(services, "_record_event", real)
    assert sla_scan()["breaches"] == 3 * 2
    assert SlaEvent.objects.count() == 5 * 2
    assert AuditEntry.objects.filter(verb__startswith="ticket.sla.").count() == 5 * 2
    stored = [n for n in notices if ":breach:" in n["key"]]
    # Each clock's breach to the agent and the manager; the rolled-back batch sent nothing
    # that stayed (its notices are written with its transaction).
    assert len({(n["recipient"].pk, n["key"]) for n in stored}) == 5 * 2 * 2
    assert not Ticket.objects.filter(sla_check_at__isnull=False).exists()


def test_resolved_in_time_is_not_breached(ticket, agent, clock):
    clock.move_to(at(4, 10))
    ticket_transition(
        actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED, resolution="更换温控器"
    )
    clock.move_to(at(15, 10))
    assert sla_scan()["breaches"] == 0
    ticket.refresh_from_db()
    assert not ticket.is_breached and ticket.due_at == NO_DEADLINE


def test_reopen_resumes_the_clock_where_it_stopped(ticket, agent, clock):
    clock.move_to(at(3, 11))  # one working hour used
    ticket_transition(actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED, resolution="ok")
    clock.move_to(at(7, 9))
    ticket_transition(actor=agent, ticket_id=ticket.pk, to_status=Status.IN_PROGRESS, note="又坏了")
    ticket.refresh_from_db()
    assert ticket.reopen_count == 1
    # 23 working hours left from Monday 09:00: Mon 7.5, Tue 7.5, Wed 7.5, Thu 0.5.
    assert ticket.resolution_due_at == at(10, 9, 30)


def test_invalid_transition_is_a_clear_conflict(ticket, agent):
    with pytest.raises(Conflict) as exc:
        ticket_transition(actor=agent, ticket_id=ticket.pk, to_status=Status.CLOSED)
    assert exc.value.code == "invalid_transition"


def test_resolving_needs_a_resolution(ticket, agent):
    with pytest.raises(ValidationFailed) as exc:
        ticket_transition(actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED)
    assert exc.value.field == "resolution"
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ASSIGNED


def test_every_change_is_audited_and_the_log_is_append_only(ticket, agent):
    ticket_reply(actor=agent, ticket_id=ticket.pk, body="您好")
    ticket_transition(
        actor=agent, ticket_id=ticket.pk, to_status=Status.RESOLVED, resolution="好了"
    )
    verbs = list(
        AuditEntry.objects.filter(target_type="service.ticket", target_id=ticket.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == ["ticket.create", "ticket.assign", "ticket.reply", "ticket.status"]
    entry = TicketStatusLog.objects.filter(ticket=ticket).first()
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()


def test_policy_change_recomputes_open_tickets(ticket, manager):
    services.sla_policy_set(
        actor=manager,
        type="complaint",
        priority="normal",
        first_response_hours=4,
        resolution_hours=8,
    )
    ticket.refresh_from_db()
    assert ticket.response_due_at == at(3, 15, 30)
    assert ticket.resolution_due_at == at(4, 10, 30)


def test_no_pings_outside_working_hours(ticket, agent, clock, notices):
    clock.move_to(at(9, 3))  # Wednesday 03:00, long after the Tuesday deadline
    assert sla_scan()["breaches"] == 0
    assert not [n for n in notices if n.get("kind") == "sla"]
    assert Ticket.objects.get(pk=ticket.pk).sla_check_at == at(9, 9)
    clock.move_to(at(9, 9))
    assert sla_scan()["breaches"] == 2
