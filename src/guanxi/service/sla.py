"""SLA arithmetic: deadlines derived from a ticket's status log, on its unit's business
calendar. Pure functions (no writes): services.recompute_sla stores what they return.

The clock runs while a ticket is new, assigned or in progress; it is paused while waiting
for the customer and stops at resolved / closed (a reopen resumes it where it stopped, it is
not reset). A deadline is the moment the running working time reaches the policy's hours,
so a paused ticket's deadline moves by exactly the working time it was paused.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from guanxi.core.calendar import Schedule, add_working_hours, working_time_between

from .models import SlaPolicy, Status, TicketType

RUNNING = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS)

# When no policy row matches: a complaint is answered and resolved within 24 working hours
# (SPEC C5; 一般投诉24小时内解决), other tickets as below.
DEFAULT_HOURS = {
    TicketType.COMPLAINT: (Decimal(24), Decimal(24)),
    TicketType.REPAIR: (Decimal(8), Decimal(40)),
    TicketType.INQUIRY: (Decimal(8), Decimal(16)),
    TicketType.REQUEST: (Decimal(8), Decimal(40)),
}
DEFAULT_WARN_HOURS = Decimal(2)


@dataclass(frozen=True)
class Targets:
    response: timedelta
    resolution: timedelta
    warn: timedelta


def targets_for(ticket_type: str, priority: str, policies: dict | None = None) -> Targets:
    """The policy for (type, priority); `policies` is a preloaded {(type, priority): row}."""
    if policies is not None:
        policy = policies.get((ticket_type, priority))
    else:
        policy = SlaPolicy.objects.filter(type=ticket_type, priority=priority).first()
    if policy is not None:
        response, resolution, warn = (
            policy.first_response_hours,
            policy.resolution_hours,
            policy.warn_before_hours,
        )
    else:
        response, resolution = DEFAULT_HOURS.get(TicketType(ticket_type), (Decimal(8), Decimal(40)))
        warn = DEFAULT_WARN_HOURS
    return Targets(_hours(response), _hours(resolution), _hours(warn))


def _hours(value) -> timedelta:
    return timedelta(seconds=int(Decimal(value) * 3600))


@dataclass
class Segment:
    """A stretch of the ticket's life in one status; `end` None means "until now"."""

    start: datetime
    end: datetime | None
    status: str
    worked: timedelta = timedelta(0)  # working time in it (running segments only)

    @property
    def running(self) -> bool:
        return self.status in RUNNING


@dataclass
class Clock:
    """What the status log says about one ticket's SLA, and why."""

    segments: list[Segment] = field(default_factory=list)
    running: bool = False
    response_due_at: datetime | None = None
    response_warn_at: datetime | None = None
    resolution_due_at: datetime | None = None
    resolution_warn_at: datetime | None = None
    resolution_used: timedelta = timedelta(0)
    paused_for: timedelta = timedelta(0)  # working time spent waiting for the customer


def segments_from_log(log: list[tuple[datetime, str]]) -> list[Segment]:
    """[(at, to_status), …] in order → the segments between the changes."""
    segments = []
    for i, (at, status) in enumerate(log):
        end = log[i + 1][0] if i + 1 < len(log) else None
        segments.append(Segment(start=at, end=end, status=status))
    return segments


def _moment(segments, amount: timedelta, schedule: Schedule, stop: datetime | None = None):
    """When the running working time, counted over `segments` (clipped at `stop`), reaches
    `amount`; None when it has not and the clock is not running."""
    used = timedelta(0)
    for seg in segments:
        if not seg.running:
            continue
        end = seg.end
        if stop is not None:
            if seg.start >= stop:
                break
            end = stop if end is None else min(end, stop)
        if end is None:
            return add_working_hours(seg.start, amount - used, schedule)
        worked = working_time_between(seg.start, end, schedule)
        if used + worked >= amount:
            return add_working_hours(seg.start, amount - used, schedule)
        used += worked
    return None


def compute_clock(
    *,
    log: list[tuple[datetime, str]],
    first_response_at: datetime | None,
    targets: Targets,
    schedule: Schedule,
    now: datetime,
    explain: bool = True,
) -> Clock:
    """The deadlines (and, with `explain`, the working time used and paused per segment,
    which the ticket page shows; the SLA scan needs only the deadlines, and skips walking a
    long-open ticket's whole life day by day)."""
    segments = segments_from_log(log)
    clock = Clock(segments=segments)
    for seg in segments if explain else ():
        end = seg.end or now
        if seg.running:
            seg.worked = working_time_between(seg.start, end, schedule)
            clock.resolution_used += seg.worked
        elif seg.status == Status.WAITING:
            clock.paused_for += working_time_between(seg.start, end, schedule)
    clock.running = bool(segments) and segments[-1].running
    clock.resolution_due_at = _moment(segments, targets.resolution, schedule)
    if targets.resolution > targets.warn:
        clock.resolution_warn_at = _moment(segments, targets.resolution - targets.warn, schedule)
    # The first-response clock stops at the first response: a deadline found before it was
    # missed; none found means it was met (or is still running: then it is in the future).
    clock.response_due_at = _moment(segments, targets.response, schedule, first_response_at)
    if first_response_at is None and targets.response > targets.warn:
        clock.response_warn_at = _moment(segments, targets.response - targets.warn, schedule)
    return clock
