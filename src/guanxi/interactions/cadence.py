"""Cadence rules (SPEC C2): when the next follow-up of a customer falls due, and why.

Facts about deals come from providers other apps register (the sales app, once it exists);
this module only knows the rules. Of all the rules that apply, the most urgent wins.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from .models import CadenceRule

DEFAULT_RULES: dict[str, tuple[int | None, int | None, str]] = {
    # code: (days, deliveries, suggested next step)
    CadenceRule.Code.UNSIGNED_DEAL: (7, None, gettext_noop("Call to move the deal on")),
    CadenceRule.Code.ABOUT_TO_SIGN: (
        2,
        None,
        gettext_noop("Confirm the signing date and documents"),
    ),
    CadenceRule.Code.LONG_TERM: (30, 3, gettext_noop("Check in: satisfaction and new needs")),
    CadenceRule.Code.QUOTED_SILENT: (5, None, gettext_noop("Ask for feedback on the quote")),
    CadenceRule.Code.RETURN_VISIT: (3, None, gettext_noop("Return visit (回访): ask for feedback")),
    CadenceRule.Code.INTERESTED: (7, None, gettext_noop("Send material, invite for a visit")),
    CadenceRule.Code.HESITANT: (3, None, gettext_noop("Answer the doubts, offer a second visit")),
    CadenceRule.Code.NOT_NOW: (30, None, gettext_noop("Keep in touch with news")),
    CadenceRule.Code.NEVER: (None, None, gettext_noop("No active follow-up")),
    CadenceRule.Code.DEFAULT: (14, None, gettext_noop("Keep in touch")),
}

RELATIONSHIP_RULES = {
    "interested": CadenceRule.Code.INTERESTED,
    "hesitant": CadenceRule.Code.HESITANT,
    "not_now": CadenceRule.Code.NOT_NOW,
    "never": CadenceRule.Code.NEVER,
    "quoted_silent": CadenceRule.Code.QUOTED_SILENT,
}


@dataclass
class CadenceFacts:
    """What the rules need to know about a customer beyond the customer row."""

    open_deal: bool = False
    about_to_sign: bool = False
    deal_closed_at: datetime | None = None
    return_visit_done: bool = True
    quoted_at: datetime | None = None
    deliveries_since_contact: int = 0
    open_promise_due: date | None = None  # the earliest due day of an open promise

    @property
    def obligation(self) -> bool:
        """A deal in progress or a promise to keep: never without a next follow-up."""
        return self.open_deal or self.about_to_sign or self.open_promise_due is not None


FactProvider = Callable[[object, CadenceFacts], None]
_FACT_PROVIDERS: list[FactProvider] = []


def register_fact_provider(provider: FactProvider) -> None:
    """Another app (sales) fills in deal facts: provider(customer, facts) mutates facts."""
    if provider not in _FACT_PROVIDERS:
        _FACT_PROVIDERS.append(provider)


def unregister_fact_provider(provider: FactProvider) -> None:
    """Remove a provider again (tests, or an app switched off); unknown ones are ignored."""
    if provider in _FACT_PROVIDERS:
        _FACT_PROVIDERS.remove(provider)


def facts_for(customer) -> CadenceFacts:
    facts = CadenceFacts()
    for provider in _FACT_PROVIDERS:
        provider(customer, facts)
    return facts


@dataclass
class Rule:
    days: int | None
    deliveries: int | None
    next_step: str


def load_rules() -> dict[str, Rule]:
    """Defaults, overridden by what an admin saved."""
    rules = {code: Rule(*values) for code, values in DEFAULT_RULES.items()}
    for row in CadenceRule.objects.all():
        rules[row.code] = Rule(row.days, row.deliveries, row.next_step or rules[row.code].next_step)
    return rules


def default_step(code: str) -> str:
    """The built-in next step of a rule, in the active language."""
    text = DEFAULT_RULES[code][2]
    return gettext(text) if text else ""


def saved_step(code: str, text: str) -> str:
    """What an admin's next step text means to store: "" when it is the built-in suggestion
    (in English or in the active language), so each user keeps reading it in their own
    language; the admin's own words otherwise."""
    text = text.strip()
    builtin = DEFAULT_RULES[code][2]
    return "" if builtin and text in (builtin, gettext(builtin)) else text


@dataclass
class Due:
    at: datetime | None
    rule: str
    next_step: str


# Not a configurable rule: an open promise is due when it is due.
PROMISE = "promise"
PROMISE_STEP = gettext_noop("Keep the promise made to the customer")
# When every rule that applies is switched off, an obligation still gets a follow-up.
OBLIGATION_FALLBACK_DAYS = 7


def next_follow_up(
    *,
    customer,
    last_contact: datetime,
    facts: CadenceFacts,
    rules: dict[str, Rule],
    zone: tzinfo | None = None,
) -> Due:
    """The earliest follow-up among the rules that apply to this customer now.

    A customer with an open promise or a deal in progress always has one: the promise's due
    day at the latest, and, when every rule that applies is switched off (or the
    relationship type says "never"), the unsigned-deal rule's days, else the default rule's,
    else 7 days. Only without such an obligation does "never" mean no follow-up.
    """
    candidates: list[tuple[datetime, str]] = []  # (when, rule code or PROMISE)

    def add(code: str, base: datetime | None) -> None:
        rule = rules[code]
        if base is not None and rule.days is not None:
            candidates.append((base + timedelta(days=rule.days), code))

    if facts.about_to_sign:
        add(CadenceRule.Code.ABOUT_TO_SIGN, last_contact)
    elif facts.open_deal:
        add(CadenceRule.Code.UNSIGNED_DEAL, last_contact)
    if facts.deal_closed_at and not facts.return_visit_done:
        add(CadenceRule.Code.RETURN_VISIT, facts.deal_closed_at)
    if facts.quoted_at or customer.relationship == "quoted_silent":
        add(CadenceRule.Code.QUOTED_SILENT, max(filter(None, [facts.quoted_at, last_contact])))
    if customer.stage in ("customer", "loyal"):
        long_term = rules[CadenceRule.Code.LONG_TERM]
        if long_term.deliveries and facts.deliveries_since_contact >= long_term.deliveries:
            candidates.append((last_contact, CadenceRule.Code.LONG_TERM))  # due now
        add(CadenceRule.Code.LONG_TERM, last_contact)
    relationship_rule = RELATIONSHIP_RULES.get(customer.relationship)
    if relationship_rule and relationship_rule != CadenceRule.Code.QUOTED_SILENT:
        add(relationship_rule, last_contact)
    if facts.open_promise_due is not None:
        start = datetime.combine(facts.open_promise_due, datetime.min.time())
        candidates.append((timezone.make_aware(start, zone), PROMISE))
    if not candidates and facts.obligation:
        days = next(
            (
                d
                for d in (
                    rules[CadenceRule.Code.UNSIGNED_DEAL].days,
                    rules[CadenceRule.Code.DEFAULT].days,
                )
                if d is not None
            ),
            OBLIGATION_FALLBACK_DAYS,
        )
        candidates.append((last_contact + timedelta(days=days), CadenceRule.Code.UNSIGNED_DEAL))
    if not candidates:
        if relationship_rule == CadenceRule.Code.NEVER:
            return Due(None, CadenceRule.Code.NEVER, rules[CadenceRule.Code.NEVER].next_step)
        add(CadenceRule.Code.DEFAULT, last_contact)
    if not candidates:
        return Due(None, CadenceRule.Code.DEFAULT, "")
    at, code = min(candidates, key=lambda item: item[0])
    return Due(at, code, PROMISE_STEP if code == PROMISE else rules[code].next_step)
