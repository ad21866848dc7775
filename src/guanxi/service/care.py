"""After the resolution: the satisfaction survey (by a signed link or recorded by the
agent), the return visit (回访) closed only with a score or "unreachable", and CSAT."""

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from guanxi.core.models import User

from . import notify
from .models import ReturnVisit, Status, Survey, Ticket, TicketType
from .permissions import can_work
from .selectors import ticket_get

SALT = "guanxi.service.survey"
SURVEY_MAX_AGE = 30 * 24 * 3600  # a link works for 30 days


def survey_token(ticket: Ticket) -> str:
    return signing.dumps({"t": ticket.pk, "c": ticket.reopen_count}, salt=SALT, compress=True)


def survey_ticket(token: str) -> Ticket:
    """The resolved ticket a link is for; a clear error for a forged, altered or old one."""
    try:
        data = signing.loads(token[:500], salt=SALT, max_age=SURVEY_MAX_AGE)
        ticket = Ticket.objects.filter(pk=int(data["t"]), reopen_count=int(data["c"])).first()
    except signing.SignatureExpired as exc:
        raise ValidationFailed.single(
            "token", "token_expired", _("This survey link has expired.")
        ) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed.single(
            "token", "invalid_token", _("This survey link is not valid.")
        ) from exc
    if ticket is None:
        raise ValidationFailed.single("token", "invalid_token", _("This survey link is not valid."))
    return ticket


def _check_score(score, comment: str) -> int:
    errors = []
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        errors.append(FieldError("score", "invalid_score", _("Choose a score from 1 to 5.")))
    if len(comment or "") > 2000:
        errors.append(
            FieldError("comment", "too_long", _("At most %(n)s characters.") % {"n": 2000})
        )
    if errors:
        raise ValidationFailed(errors)
    return score


def _save_survey(ticket: Ticket, score: int, comment: str, actor: User | None) -> Survey:
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict(_("This ticket is not resolved yet."), code="not_resolved")
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                ticket=ticket, score=score, comment=(comment or "").strip(), recorded_by=actor
            )
            audit_record(actor=actor, verb="ticket.survey", target=ticket, changes={"score": score})
    except IntegrityError as exc:
        raise Conflict(
            _("Thank you — this survey was already answered."), code="already_answered"
        ) from exc
    return survey


def survey_submit(*, token: str, score, comment: str = "") -> Survey:
    """The customer answers through the signed link."""
    ticket = survey_ticket(token)
    return _save_survey(ticket, _check_score(score, comment), comment, None)


def survey_record(*, actor: User, ticket_id: int, score, comment: str = "") -> Survey:
    """The agent records what the customer said on the phone."""

    ticket = ticket_get(viewer=actor, pk=ticket_id)
    if not can_work(actor, ticket) and ticket.customer and ticket.customer.owner_id != actor.pk:
        raise Forbidden(_("You may not work on this ticket."))
    return _save_survey(ticket, _check_score(score, comment), comment, actor)


def return_visit_close(
    *, actor: User, visit_id: int, outcome: str, score=None, note: str = ""
) -> ReturnVisit:
    """Close a return visit: with the customer's score, or as unreachable (never empty)."""
    if outcome not in ReturnVisit.Outcome.values:
        raise ValidationFailed.single(
            "outcome", "outcome_required", _("Record a score or mark the customer unreachable.")
        )
    if len(note) > 2000:
        raise ValidationFailed.single(
            "note", "too_long", _("At most %(n)s characters.") % {"n": 2000}
        )
    with transaction.atomic():
        visit = (
            ReturnVisit.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(pk=visit_id)
            .first()
        )
        if visit is None or not (
            visit.assignee_id == actor.pk or actor.is_admin or can_work(actor, visit.ticket)
        ):
            raise NotFound(_("Return visit not found."))
        if visit.done_at is not None:
            raise Conflict(_("This return visit is already closed."), code="already_closed")
        if outcome == ReturnVisit.Outcome.SCORED:
            visit.score = _check_score(score, note)
            if not hasattr(visit.ticket, "survey"):
                _save_survey(visit.ticket, visit.score, note, actor)
        visit.outcome = outcome
        visit.note = note.strip()
        visit.done_at = timezone.now()
        visit.done_by = actor
        visit.save()
        audit_record(
            actor=actor,
            verb="ticket.return_visit",
            target=visit.ticket,
            changes={"outcome": outcome, "score": visit.score},
        )

    notify.withdraw(key=f"ticket:{visit.ticket_id}:return_visit")
    return visit


def return_visits_due(*, user: User, limit: int = 20) -> list[ReturnVisit]:
    return list(
        ReturnVisit.objects.filter(assignee=user, done_at__isnull=True)
        .select_related("ticket", "ticket__customer")
        .order_by("due_at")[:limit]
    )


def csat(*, viewer: User, since=None) -> dict:
    """Average score and number of answers per agent and per ticket type, over the tickets
    the viewer can see."""
    qs = Survey.objects.filter(ticket__in=Ticket.objects.visible_to(viewer).values("pk"))
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    by_agent = list(
        qs.values(
            "ticket__assignee__id", "ticket__assignee__display_name", "ticket__assignee__username"
        )
        .annotate(avg=Avg("score"), n=Count("id"))
        .order_by("-n")
    )

    by_type = list(
        qs.values("ticket__type").annotate(avg=Avg("score"), n=Count("id")).order_by("-n")
    )
    for row in by_type:
        row["type_label"] = TicketType(row["ticket__type"]).label  # type: ignore[misc]
    return {
        "by_agent": by_agent,
        "by_type": by_type,
        "overall": qs.aggregate(avg=Avg("score"), n=Count("id")),
    }
