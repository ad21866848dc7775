"""The short first-login tour: three or four steps for each role, shown on the home page
until the person dismisses it (remembered per user and role, `tour_dismiss`).

A plain card of links and a button that posts: no script, so it works under the site's
`script-src 'self'` policy and without JavaScript. Steps name pages by URL name; a step
whose page is not installed is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import Role, TourDismissal, User
from .permissions import tour_roles


@dataclass(frozen=True)
class Step:
    title: str | Promise
    text: str | Promise
    url_name: str


TOURS: dict[str, list[Step]] = {
    Role.SALES: [
        Step(
            _("Your day"), _("The home page lists the follow-ups due and your promises."), "my_day"
        ),
        Step(
            _("Your customers"),
            _("Search by name, pinyin or the last four digits; choose columns and sort them."),
            "customers:list",
        ),
        Step(
            _("Your deals"), _("Move a deal through its stages and issue quotes."), "sales:pipeline"
        ),
        Step(
            _("The public pool"),
            _("Customers nobody protects any more: claim one to follow it up."),
            "reception:pool",
        ),
    ],
    Role.MANAGER: [
        Step(
            _("Approvals"),
            _("Discounts above the threshold and changes wait here for your decision."),
            "sales:approvals",
        ),
        Step(
            _("Disputes"),
            _("Decide who a contested customer belongs to, and how the credit is split."),
            "reception:disputes",
        ),
        Step(
            _("Redistribute"),
            _("When someone leaves, move their customers to colleagues, after a preview."),
            "reception:redistribute",
        ),
        Step(_("Reports"), _("The funnel, the team's work and revenue."), "reports:index"),
    ],
    Role.RECEPTIONIST: [
        Step(_("Duty roster"), _("Set today's queue of salespeople."), "reception:roster"),
        Step(
            _("Register a visitor or call"),
            _("The desk looks the phone up and gives the visitor to the right person."),
            "reception:register",
        ),
        Step(
            _("Statistics"),
            _("Visits and calls by day, salesperson and source."),
            "reception:stats",
        ),
    ],
    Role.FINANCE: [
        Step(
            _("Finance desk"),
            _("Money expected, overdue instalments first; record what was received."),
            "sales:finance",
        ),
        Step(_("Revenue"), _("Revenue by period, branch and product."), "reports:revenue"),
    ],
    Role.SERVICE: [
        Step(
            _("Ticket queue"), _("Tickets by SLA, the ones about to breach first."), "service:queue"
        ),
        Step(_("Knowledge base"), _("Answers to reuse in replies."), "service:kb"),
        Step(
            _("Return visits"),
            _("Calls to make after a ticket is closed."),
            "service:return_visits",
        ),
    ],
    Role.MARKETER: [
        Step(
            _("Segments"),
            _("Build a segment from filters and preview who is in it."),
            "marketing:home",
        ),
        Step(
            _("Consent"), _("Who agreed to which channel, and the opt-outs."), "marketing:consent"
        ),
    ],
    Role.ADMIN: [
        Step(_("Users"), _("Create accounts, give roles, unlock a locked login."), "user_list"),
        Step(
            _("Import"),
            _("Bring customers in from Excel or CSV, checked row by row."),
            "transfer:imports",
        ),
        Step(_("Audit log"), _("Who did what, in words, with filters."), "audit_log"),
        Step(
            _("Business calendar"), _("Working hours, holidays and 调休 days."), "business_calendar"
        ),
    ],
}
ORDER = [
    Role.ADMIN,
    Role.MANAGER,
    Role.SALES,
    Role.RECEPTIONIST,
    Role.FINANCE,
    Role.SERVICE,
    Role.MARKETER,
]


def tour_for(user: User) -> tuple[str, list[dict]] | None:
    """The tour of the user's first role (in ORDER) not yet dismissed: (key, steps)."""
    dismissed = set(TourDismissal.objects.filter(user=user).values_list("tour", flat=True))
    for role in tour_roles(user, ORDER):
        if role in dismissed:
            continue
        steps = []
        for step in TOURS[role]:
            try:
                url = reverse(step.url_name)
            except NoReverseMatch:
                continue
            steps.append({"title": step.title, "text": step.text, "url": url})
        if steps:
            return str(role), steps
    return None


def tour_dismiss(*, actor: User, tour: str) -> None:
    """Remember that the actor has seen the tour `tour` (their own; a preference, not
    audited). Twice is the same as once."""
    if tour not in TOURS:
        return
    try:
        with transaction.atomic():
            TourDismissal.objects.get_or_create(user=actor, tour=tour)
    except IntegrityError:  # the same dismissal posted twice at once
        pass
