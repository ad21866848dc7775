"""The conflict rules on their own (rules.decide): who receives, who holds the credit, the split.

Salespeople are plain ids: A=1 receives now (or is asked for), B=2 received the customer
before, C=3 is whoever the queue gives. ROTATION stands for "the one in turn".
"""

from decimal import Decimal

import pytest

from guanxi.reception.rules import DEPARTMENT, ROTATION, Splits, VisitFacts, decide

A, B, C, D = 1, 2, 3, 4
ALL = frozenset({A, B, C, D})


def split(decision) -> dict:
    return {k: v for k, v in decision.split.items()}


def test_new_customer_is_received_in_turn_and_takes_a_turn():
    d = decide(VisitFacts(present=ALL))
    assert (d.case, d.receiver, d.credit, d.counts_as_turn) == (None, ROTATION, ROTATION, True)
    assert split(d) == {ROTATION: Decimal(100)}


def test_case_1_previous_receiver_present_gets_customer_back():
    d = decide(VisitFacts(present=ALL, previous_receiver=B, claim_valid=True, visit_number=2))
    assert (d.case, d.receiver, d.credit) == (1, B, B)
    assert split(d) == {B: Decimal(100)}
    assert not d.counts_as_turn and not d.dispute


def test_case_1_customer_names_b_who_is_present():
    d = decide(VisitFacts(present=ALL, named=(B,), visit_number=2))
    assert (d.case, d.receiver, d.credit, split(d)) == (1, B, B, {B: Decimal(100)})


def test_case_2_customer_refuses_b_asks_for_a_with_b_protected_80_20():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=True,
            visit_number=2,
            prefers=A,
            refuses=B,
        )
    )
    assert (d.case, d.receiver, d.credit) == (2, A, A)
    assert split(d) == {A: Decimal(80), B: Decimal(20)}
    assert not d.counts_as_turn


def test_case_2_b_expired_all_a():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=False,
            visit_number=2,
            prefers=A,
            refuses=B,
        )
    )
    assert (d.case, d.receiver, d.credit, split(d)) == (2, A, A, {A: Decimal(100)})


def test_case_3_named_b_absent_c_assists_80_20_not_a_turn():
    d = decide(
        VisitFacts(
            present=frozenset({A, C}),
            named=(B,),
            previous_receiver=B,
            claim_valid=True,
            visit_number=2,
        )
    )
    assert d.case == 3
    assert (d.receiver, d.assistant, d.credit) == (ROTATION, ROTATION, B)
    assert split(d) == {B: Decimal(80), ROTATION: Decimal(20)}
    assert not d.counts_as_turn
    resolved = d.resolve(C)
    assert (resolved.receiver, resolved.assistant, resolved.credit) == (C, C, B)
    assert resolved.split == {B: Decimal(80), C: Decimal(20)}


def test_case_3_archive_shows_protected_b_absent_also_assisted():
    d = decide(
        VisitFacts(present=frozenset({A, C}), previous_receiver=B, claim_valid=True, visit_number=2)
    )
    assert (d.case, d.credit, split(d)) == (3, B, {B: Decimal(80), ROTATION: Decimal(20)})


def test_case_4_complaint_confirmed_b_no_claim():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=True,
            visit_number=2,
            named=(B,),
            refuses=B,
            complaint=True,
            complaint_confirmed=True,
        )
    )
    assert (d.case, d.receiver, d.credit, d.dispute) == (4, ROTATION, ROTATION, False)
    assert B not in d.split and split(d) == {ROTATION: Decimal(100)}


def test_case_4_confirmed_customer_asks_for_a():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=True,
            visit_number=2,
            prefers=A,
            refuses=B,
            complaint=True,
            complaint_confirmed=True,
        )
    )
    assert (d.case, d.receiver, d.credit, split(d)) == (4, A, A, {A: Decimal(100)})


def test_case_4_unconfirmed_opens_dispute():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=True,
            visit_number=2,
            named=(B,),
            refuses=B,
            complaint=True,
        )
    )
    assert (d.case, d.receiver, d.credit, d.dispute) == (4, ROTATION, None, True)
    assert d.split == {}
    assert not d.counts_as_turn  # a returning customer


def test_case_5_first_named_present_receives():
    d = decide(VisitFacts(present=frozenset({B, C}), named=(A, C, B), visit_number=4))
    assert (d.case, d.receiver, d.credit, split(d)) == (5, C, C, {C: Decimal(100)})


def test_case_5_none_present_rotation():
    d = decide(VisitFacts(present=frozenset({C, D}), named=(A, B), visit_number=4))
    assert (d.case, d.receiver, d.credit, split(d)) == (
        5,
        ROTATION,
        ROTATION,
        {ROTATION: Decimal(100)},
    )
    assert not d.counts_as_turn  # returning customers never take a turn


def test_case_6_discount_seeking_stays_with_owner():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=A,
            claim_valid=True,
            visit_number=3,
            named=(B,),
            discount_seeking=True,
        )
    )
    assert (d.case, d.receiver, d.credit, split(d)) == (6, A, A, {A: Decimal(100)})


def test_case_6_owner_absent_a_colleague_helps_but_everything_stays_with_owner():
    d = decide(
        VisitFacts(
            present=frozenset({B, C}),
            previous_receiver=A,
            claim_valid=True,
            visit_number=3,
            discount_seeking=True,
        )
    )
    assert (d.case, d.receiver, d.assistant, d.credit) == (6, ROTATION, ROTATION, A)
    assert split(d) == {A: Decimal(100)}


def test_case_7_forgot_within_protection_50_50():
    # B is even present: the customer did not say so, the archive shows it afterwards.
    d = decide(
        VisitFacts(
            present=ALL, previous_receiver=B, claim_valid=True, visit_number=2, forgot_receiver=True
        )
    )
    assert (d.case, d.receiver, d.credit) == (7, ROTATION, ROTATION)
    assert split(d) == {ROTATION: Decimal(50), B: Decimal(50)}
    assert d.counts_as_turn  # 列入前台轮值
    assert d.resolve(A).split == {A: Decimal(50), B: Decimal(50)}


def test_case_7_forgot_expired_all_rotation():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=False,
            visit_number=2,
            forgot_receiver=True,
        )
    )
    assert (d.case, d.receiver, d.credit, split(d)) == (
        7,
        ROTATION,
        ROTATION,
        {ROTATION: Decimal(100)},
    )
    assert d.counts_as_turn


def test_case_7_b_the_rotation_gives_is_b_holds_it_all():
    d = decide(
        VisitFacts(
            present=ALL, previous_receiver=B, claim_valid=True, visit_number=2, forgot_receiver=True
        )
    )
    assert d.resolve(B).split == {B: Decimal(100)}


def test_case_8_nth_visit_designates_a_50_and_earlier_share_50():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=True,
            visit_number=2,
            earlier_receivers=(B,),
            prefers=A,
        )
    )
    assert (d.case, d.receiver, d.credit) == (8, A, A)
    assert split(d) == {A: Decimal(50), B: Decimal(50)}


def test_case_8_two_earlier_receivers_share_25_25():
    d = decide(
        VisitFacts(
            present=ALL,
            previous_receiver=B,
            claim_valid=True,
            visit_number=4,
            earlier_receivers=(B, C, B),
            prefers=A,
        )
    )
    assert split(d) == {A: Decimal(50), B: Decimal(25), C: Decimal(25)}


def test_case_8_three_earlier_receivers_round_down_and_cents_stay_with_a():
    d = decide(VisitFacts(present=ALL, visit_number=5, earlier_receivers=(B, C, D, A), prefers=A))
    assert split(d) == {
        A: Decimal("50.02"),
        B: Decimal("16.66"),
        C: Decimal("16.66"),
        D: Decimal("16.66"),
    }
    assert sum(d.split.values()) == Decimal(100)


def test_case_8_designating_the_only_earlier_receiver_gives_all():
    d = decide(VisitFacts(present=ALL, visit_number=3, earlier_receivers=(A, A), prefers=A))
    assert (d.case, split(d)) == (8, {A: Decimal(100)})


def test_case_10_referral_belongs_to_referrers_receiver():
    d = decide(VisitFacts(present=ALL, previous_receiver=B, claim_valid=True, claim_via="referral"))
    assert (d.case, d.receiver, d.credit, split(d)) == (10, B, B, {B: Decimal(100)})
    assert not d.counts_as_turn


def test_case_10_referrers_receiver_absent_a_colleague_assists():
    d = decide(
        VisitFacts(
            present=frozenset({A, C}), previous_receiver=B, claim_valid=True, claim_via="referral"
        )
    )
    assert (d.case, d.receiver, d.credit) == (10, ROTATION, B)
    assert not d.counts_as_turn


def test_case_11_household_first_receiver():
    d = decide(
        VisitFacts(present=ALL, previous_receiver=C, claim_valid=True, claim_via="household")
    )
    assert (d.case, d.receiver, d.credit, split(d)) == (11, C, C, {C: Decimal(100)})
    assert not d.counts_as_turn


def test_case_11_household_claim_lapsed_is_a_new_customer_in_turn():
    d = decide(
        VisitFacts(present=ALL, previous_receiver=C, claim_valid=False, claim_via="household")
    )
    assert (d.case, d.receiver, d.counts_as_turn) == (None, ROTATION, True)


def test_case_13_launch_event_manager_assigns():
    d = decide(
        VisitFacts(
            present=ALL, previous_receiver=B, claim_valid=True, event_mode=True, event_assignee=D
        )
    )
    assert (d.case, d.receiver, d.credit, split(d)) == (13, D, D, {D: Decimal(100)})
    assert not d.counts_as_turn


def test_case_13_launch_event_without_assignee_waits_for_the_manager():
    d = decide(VisitFacts(present=ALL, event_mode=True))
    assert (d.case, d.receiver, d.credit, d.dispute) == (13, None, None, True)


def test_quarrel_credit_goes_to_department():
    d = decide(
        VisitFacts(
            present=ALL, previous_receiver=B, claim_valid=True, quarrel=True, prefers=A, refuses=B
        )
    )
    assert d.credit == DEPARTMENT and split(d) == {DEPARTMENT: Decimal(100)}


def test_returning_customer_with_lapsed_claim_goes_to_rotation_without_a_turn():
    d = decide(VisitFacts(present=ALL, previous_receiver=B, claim_valid=False, visit_number=2))
    assert (d.case, d.receiver, d.credit, d.counts_as_turn) == (None, ROTATION, ROTATION, False)


@pytest.mark.parametrize(
    ("splits", "facts", "expected"),
    [
        (
            Splits(case2_receiver=Decimal(70), case2_previous=Decimal(30)),
            VisitFacts(
                present=ALL,
                previous_receiver=B,
                claim_valid=True,
                visit_number=2,
                prefers=A,
                refuses=B,
            ),
            {A: 70, B: 30},
        ),
        (
            Splits(case3_owner=Decimal(90), case3_assistant=Decimal(10)),
            VisitFacts(present=frozenset({C}), named=(B,), visit_number=2),
            {B: 90, ROTATION: 10},
        ),
        (
            Splits(case7_receiver=Decimal(60), case7_previous=Decimal(40)),
            VisitFacts(
                present=ALL,
                previous_receiver=B,
                claim_valid=True,
                visit_number=2,
                forgot_receiver=True,
            ),
            {ROTATION: 60, B: 40},
        ),
        (
            Splits(case8_designated=Decimal(40), case8_earlier=Decimal(60)),
            VisitFacts(present=ALL, visit_number=3, earlier_receivers=(B, C), prefers=A),
            {A: 40, B: 30, C: 30},
        ),
    ],
    ids=["case2", "case3", "case7", "case8"],
)
def test_configured_percentages_are_used(splits, facts, expected):
    assert split(decide(facts, splits)) == {k: Decimal(v) for k, v in expected.items()}


def test_splits_report_pairs_not_adding_up():
    assert Splits().invalid_pairs() == []
    bad = Splits(
        case2_receiver=Decimal(80),
        case2_previous=Decimal(10),
        case8_designated=Decimal(-10),
        case8_earlier=Decimal(110),
    )
    assert bad.invalid_pairs() == ["case2", "case8"]
