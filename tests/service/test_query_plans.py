"""The queue and the SLA scan stay flat at a million tickets (C5 benchmark): the agent's
queue page is one walk of the open-ticket index in (due_at, id) order, on its first page
and after a keyset cursor, and the SLA scan's batch reads the partial index of due tickets
only. Proved on the database's own query plan; bench/service.py measures the times."""

import random
import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from guanxi.service.models import NO_DEADLINE, Ticket
from guanxi.service.selectors import TicketFilter, queue_page_queryset, ticket_list
from guanxi.service.services import sla_due_batch_queryset


@pytest.fixture
def many_tickets(org, agent, customer):
    rng = random.Random(5)
    now = timezone.now()
    rows = []
    for n in range(600):
        status = rng.choice(["new", "assigned", "in_progress", "waiting", "resolved", "closed"])
        running = status in ("new", "assigned", "in_progress")
        due = now + timedelta(minutes=rng.randint(-600, 6000))
        rows.append(
            Ticket(
                customer=customer,
                org_unit=rng.choice([org["bj"], org["sh"], org["bj_sales"]]),
                type="repair",
                channel="phone",
                subject=f"工单 {n}",
                status=status,
                assignee=agent if n % 7 == 0 else None,
                due_at=due if running else NO_DEADLINE,
                sla_check_at=due - timedelta(hours=2) if running else None,
            )
        )
    Ticket.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return now


def _plan(queryset) -> str:
    """The plan, with PostgreSQL told to avoid a sort and a table scan wherever an index can
    do (its choice on a 600-row table says nothing about a million): a Sort or a Seq Scan
    left in the plan means no index serves the query."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
                cursor.execute(f"SET LOCAL {setting} = off")
            return queryset.explain()
    return queryset.explain()


def _walks_index_in_order(plan: str, index: str) -> bool:
    if connection.vendor == "postgresql":
        return (
            re.search(rf"Index (Only )?Scan using {index}\b", plan) is not None
            and "Sort" not in plan
            and "Seq Scan" not in plan
        )
    ticket_lines = [line for line in plan.splitlines() if "service_ticket" in line]
    return (
        len(ticket_lines) == 1 and f"INDEX {index}" in ticket_lines[0] and "TEMP B-TREE" not in plan
    )


def test_agent_queue_pages_walk_the_open_ticket_index_without_sorting(agent, many_tickets):
    first = ticket_list(viewer=agent, filters=TicketFilter())
    assert first.next_cursor
    for cursor in ("", first.next_cursor):
        plan = _plan(queue_page_queryset(viewer=agent, filters=TicketFilter(), cursor=cursor))
        assert _walks_index_in_order(plan, "ticket_open_queue"), plan


@pytest.mark.parametrize(
    "filters, index",
    [
        (TicketFilter(type="complaint"), "ticket_open_queue"),
        (TicketFilter(status="all"), "ticket_due_queue"),
        # Late tickets: their own partial index, or the open ones' when the planner's
        # statistics say late ones are many; either way one ordered walk, no sort.
        (TicketFilter(breached=True), ("ticket_breached_queue", "ticket_open_queue")),
        (TicketFilter(status="new"), "ticket_status_queue"),
    ],
)
def test_queue_filters_read_a_page_of_an_index_too(agent, many_tickets, filters, index):
    Ticket.objects.filter(pk__in=Ticket.objects.open().values("pk")[:40]).update(
        resolution_breached=True
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    plan = _plan(queue_page_queryset(viewer=agent, filters=filters))
    indexes = index if isinstance(index, tuple) else (index,)
    assert any(_walks_index_in_order(plan, i) for i in indexes), plan


def test_queue_page_is_one_query_whatever_the_rows_show(agent, many_tickets):
    from django.test.utils import CaptureQueriesContext

    ticket_list(viewer=agent, filters=TicketFilter())  # the viewer's roles and units, once
    shown = []
    with CaptureQueriesContext(connection) as queries:
        page = ticket_list(viewer=agent, filters=TicketFilter())
        for t in page.items:  # what the queue's row and the API read
            shown.append((t.customer.name, t.assignee, t.org_unit.name, t.resolved_at))
            shown.append((t.contact_phone_display, t.contact_email_display, t.reopen_count))
    assert len(shown) == 50 and len(queries) == 1, [q["sql"] for q in queries]


def test_sla_scan_reads_only_the_due_tickets_index(many_tickets):
    now = many_tickets
    batch = list(sla_due_batch_queryset(now=now))
    expected = sorted(
        Ticket.objects.filter(sla_check_at__lte=now).values_list("sla_check_at", "id")
    )
    assert batch == expected[: len(batch)] and batch
    for after in (None, batch[0]):
        plan = _plan(sla_due_batch_queryset(now=now, after=after))
        assert _walks_index_in_order(plan, "ticket_sla_check_due"), plan


def test_sla_scan_keyset_walks_every_due_ticket_once(many_tickets, monkeypatch):
    from guanxi.service import services

    now = many_tickets
    monkeypatch.setattr(services, "SCAN_BATCH", 7)
    seen, after = [], None
    while batch := list(sla_due_batch_queryset(now=now, after=after)):
        seen += [pk for _at, pk in batch]
        after = batch[-1]
    due = set(Ticket.objects.filter(sla_check_at__lte=now).values_list("id", flat=True))
    assert len(seen) == len(set(seen)) and set(seen) == due
