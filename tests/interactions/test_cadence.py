"""Cadence rules (SPEC C2): each rule and each relationship type sets the next follow-up.

The clock stands at Monday 2026-03-02 10:00 in Shanghai; a call logged now is the last
contact, and the follow-up lands on its due day at the first good slot (10:30).
"""

from datetime import timedelta

import pytest

from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.interactions import cadence, services
from guanxi.interactions.models import CadenceRule

from .helpers import NOW, follow_up, log, set_fields


def test_default_rule_applies_to_an_owned_customer_without_any_other(clock, owner, customer):
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-16 10:30", "default")


def test_unsigned_deal_follows_up_within_7_days(clock, owner, customer, deal_facts):
    deal_facts[customer.pk] = {"open_deal": True}
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-09 10:30", "unsigned_deal")


def test_about_to_sign_follows_up_every_2_days(clock, owner, customer, deal_facts):
    deal_facts[customer.pk] = {"open_deal": True, "about_to_sign": True}
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-04 10:30", "about_to_sign")
    # Two days later, the next call sets the one after: every 2 days, not once.
    clock.move_to(NOW + timedelta(days=2), tick=False)
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-06 10:30", "about_to_sign")


def test_long_term_customer_per_n_days(clock, owner, customer):
    set_fields(customer, stage="loyal")
    log(owner, customer)
    assert follow_up(customer) == ("2026-04-01 10:30", "long_term")


@pytest.mark.parametrize(
    ("deliveries", "expected"),
    [(2, "2026-04-01 10:30"), (3, "2026-03-02 10:30"), (5, "2026-03-02 10:30")],
)
def test_long_term_customer_due_after_3_deliveries(
    clock, owner, customer, deal_facts, deliveries, expected
):
    set_fields(customer, stage="customer")
    deal_facts[customer.pk] = {"deliveries_since_contact": deliveries}
    log(owner, customer)
    assert follow_up(customer) == (expected, "long_term")


def test_quoted_but_silent_follows_up_after_n_days(clock, owner, customer):
    set_fields(customer, relationship="quoted_silent")
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-07 10:30", "quoted_silent")


def test_quoted_but_silent_counts_from_the_quote_when_it_is_newer(customer):
    """The sales app reports a quote after the last contact: N days from the quote."""
    facts = cadence.CadenceFacts(quoted_at=NOW - timedelta(days=1))
    due = cadence.next_follow_up(
        customer=customer,
        last_contact=NOW - timedelta(days=20),
        facts=facts,
        rules=cadence.load_rules(),
    )
    assert (due.at, due.rule) == (NOW + timedelta(days=4), "quoted_silent")


def test_return_visit_after_a_deal(clock, owner, customer, deal_facts):
    set_fields(customer, stage="customer")
    deal_facts[customer.pk] = {
        "deal_closed_at": NOW - timedelta(days=1),
        "return_visit_done": False,
    }
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-04 10:30", "return_visit")
    # Once the return visit is done, the long-term rhythm takes over.
    deal_facts[customer.pk]["return_visit_done"] = True
    log(owner, customer, kind="visit", summary="Return visit: happy with the delivery")
    assert follow_up(customer) == ("2026-04-01 10:30", "long_term")


def test_relationship_interested(clock, owner, customer):
    set_fields(customer, relationship="interested")
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-09 10:30", "rel_interested")


def test_relationship_hesitant(clock, owner, customer):
    set_fields(customer, relationship="hesitant")
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-05 10:30", "rel_hesitant")


def test_relationship_not_now(clock, owner, customer):
    set_fields(customer, relationship="not_now")
    log(owner, customer)
    assert follow_up(customer) == ("2026-04-01 10:30", "rel_not_now")


def test_relationship_never(clock, owner, customer):
    """肯定不买: no automatic follow-up, and a pending one is cleared."""
    set_fields(customer, relationship="never", next_follow_up_at=NOW + timedelta(days=3))
    log(owner, customer, summary="Bought elsewhere, do not call again")
    assert follow_up(customer) == (None, "rel_never")


def test_relationship_never_still_follows_an_open_deal(clock, owner, customer, deal_facts):
    set_fields(customer, relationship="never")
    deal_facts[customer.pk] = {"open_deal": True}
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-09 10:30", "unsigned_deal")


@pytest.mark.parametrize(
    ("relationship", "facts", "expected"),
    [
        (
            "not_now",
            {"open_deal": True, "about_to_sign": True},
            ("2026-03-04 10:30", "about_to_sign"),
        ),
        ("hesitant", {"open_deal": True}, ("2026-03-05 10:30", "rel_hesitant")),
        ("interested", {"quoted_at": NOW}, ("2026-03-07 10:30", "quoted_silent")),
    ],
)
def test_most_urgent_rule_wins(clock, owner, customer, deal_facts, relationship, facts, expected):
    set_fields(customer, relationship=relationship, stage="customer")
    deal_facts[customer.pk] = facts
    log(owner, customer)
    assert follow_up(customer) == expected


def test_admin_edited_rule_changes_schedule(clock, owner, admin_user, customer):
    set_fields(customer, relationship="interested")
    services.cadence_rule_update(
        actor=admin_user, code="rel_interested", days=1, deliveries=None, next_step="Call tomorrow"
    )
    log(owner, customer)
    customer.refresh_from_db()
    assert (*follow_up(customer), customer.follow_up_step) == (
        "2026-03-03 10:30",
        "rel_interested",
        "Call tomorrow",
    )


def test_admin_edited_deliveries_changes_the_long_term_trigger(
    clock, owner, admin_user, customer, deal_facts
):
    set_fields(customer, stage="customer")
    deal_facts[customer.pk] = {"deliveries_since_contact": 2}
    services.cadence_rule_update(
        actor=admin_user, code="long_term", days=60, deliveries=2, next_step=""
    )
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-02 10:30", "long_term")
    assert CadenceRule.objects.get(code="long_term").days == 60


def test_emptying_a_rules_days_turns_it_off(clock, owner, admin_user, customer):
    set_fields(customer, relationship="hesitant")
    services.cadence_rule_update(
        actor=admin_user, code="rel_hesitant", days=None, deliveries=None, next_step=""
    )
    log(owner, customer)
    assert follow_up(customer) == ("2026-03-16 10:30", "default")


@pytest.mark.parametrize("days", [0, 3651])
def test_rule_days_out_of_range_are_refused(admin_user, days):
    with pytest.raises(ValidationFailed) as caught:
        services.cadence_rule_update(
            actor=admin_user, code="rel_hesitant", days=days, deliveries=None, next_step=""
        )
    assert (caught.value.field, caught.value.code) == ("days", "out_of_range")


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_only_an_administrator_edits_cadence_rules(request, role):
    with pytest.raises(Forbidden):
        services.cadence_rule_update(
            actor=request.getfixturevalue(role),
            code="rel_hesitant",
            days=1,
            deliveries=None,
            next_step="",
        )
    assert not CadenceRule.objects.exists()


def test_unregistered_fact_provider_no_longer_applies(clock, owner, customer):
    def provider(c, facts):
        facts.about_to_sign = True

    cadence.register_fact_provider(provider)
    cadence.register_fact_provider(provider)  # registering twice keeps one
    try:
        assert cadence.facts_for(customer).about_to_sign is True
    finally:
        cadence.unregister_fact_provider(provider)
    cadence.unregister_fact_provider(provider)  # unknown: ignored
    assert cadence.facts_for(customer).about_to_sign is False
