"""The conflict rules of the sales office (SPEC C3 cases 1–13, seeds 篇五 客户交叉).

A pure function: given the facts of a visit it says who receives, who holds the deal credit,
how the commission splits, which case applies and why. It reads nothing from the database,
so every case is tested on its own and a manager can be shown the reasoning.

Parties are user ids; ROTATION stands for "the salesperson whose turn it is" (the caller
asks the queue), DEPARTMENT for "the department, not a person" (a quarrel).

Readings of the rules where the text leaves a choice:
- Protection: a claim holds while now <= protected_until (first reception + protection
  days, to the second); one second later it has lapsed.
- Case 7 comes before the archive's claim: a customer who says they forgot is listed in the
  rotation (列入前台轮值) and takes that turn; the receiver found in the archive afterwards
  only shares the commission (while protected). Only a salesperson the customer names wins
  over it.
- Case 4: whoever receives now is the one the customer asks for, else the one in turn, never
  the one complained about (the caller keeps `refuses` out of the queue).
- Case 8: the earlier receivers' shares round down to the cent; the designated salesperson
  keeps the cents left over, so the split always adds up to 100.
- A returning customer never takes a rotation turn, whoever receives them (篇五 5(2)), except
  in case 7.
"""

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext_noop as msgid

ROTATION = "rotation"
DEPARTMENT = "department"
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Protection:
    """The protection period (建档有效期) of a branch: `months` calendar months when set (the
    claim holds to the end of the last day, in the office's time zone `zone`, the current
    one when empty), else `days` days to the instant. SPEC C3's default: 2 calendar months."""

    days: int = 60
    months: int = 2
    zone: str = ""


@dataclass(frozen=True)
class Splits:
    case2_receiver: Decimal = Decimal("80")
    case2_previous: Decimal = Decimal("20")
    case3_owner: Decimal = Decimal("80")
    case3_assistant: Decimal = Decimal("20")
    case7_receiver: Decimal = Decimal("50")
    case7_previous: Decimal = Decimal("50")
    case8_designated: Decimal = Decimal("50")
    case8_earlier: Decimal = Decimal("50")

    def invalid_pairs(self) -> list[str]:
        pairs = {
            "case2": (self.case2_receiver, self.case2_previous),
            "case3": (self.case3_owner, self.case3_assistant),
            "case7": (self.case7_receiver, self.case7_previous),
            "case8": (self.case8_designated, self.case8_earlier),
        }
        return [name for name, (a, b) in pairs.items() if a + b != HUNDRED or a < 0 or b < 0]


@dataclass(frozen=True)
class VisitFacts:
    """What the desk knows when a customer arrives.

    previous_receiver: who received this customer before (from the archive, or the household
      member's / referrer's original receiver), with `claim_valid` telling whether that claim
      is still within protection or settled by a deal.
    earlier_receivers: distinct salespeople of earlier visits, oldest first (case 8).
    """

    present: frozenset[int] = frozenset()
    previous_receiver: int | None = None
    claim_valid: bool = False
    claim_via: str = ""  # "", "household" (case 11) or "referral" (case 10)
    earlier_receivers: tuple[int, ...] = ()
    visit_number: int = 1
    named: tuple[int, ...] = ()  # salespeople the customer names, in the order named
    prefers: int | None = None  # the one the customer asks for (cases 2, 8)
    refuses: int | None = None  # the one the customer does not want (cases 2, 4)
    complaint: bool = False  # the refusal comes with a complaint (case 4)
    complaint_confirmed: bool = False  # … and the manager confirmed it
    discount_seeking: bool = False  # the owner's customer asks another for a better discount
    forgot_receiver: bool = False  # customer has been before, cannot say by whom (case 7)
    event_mode: bool = False  # launch event / open day (case 13)
    event_assignee: int | None = None
    quarrel: bool = False


@dataclass
class Decision:
    case: int | None
    receiver: int | str | None  # user id, ROTATION, or None when the manager must decide
    credit: int | str | None
    split: dict[int | str, Decimal] = field(default_factory=dict)
    assistant: int | str | None = None
    counts_as_turn: bool = False
    dispute: bool = False
    explanation: str = ""

    def resolve(self, rotation_user: int | None) -> "Decision":
        """Replace ROTATION by the salesperson the queue gave."""

        def sub(party):
            return rotation_user if party == ROTATION else party

        split: dict[int | str, Decimal] = {}
        for party, pct in self.split.items():
            split[sub(party)] = split.get(sub(party), Decimal("0")) + pct
        return Decision(
            case=self.case,
            receiver=sub(self.receiver),
            credit=sub(self.credit),
            split=split,
            assistant=sub(self.assistant),
            counts_as_turn=self.counts_as_turn,
            dispute=self.dispute,
            explanation=self.explanation,
        )

    @property
    def needs_rotation(self) -> bool:
        return ROTATION in (self.receiver, self.assistant, self.credit) or ROTATION in self.split


def _all(party) -> dict:
    return {party: HUNDRED}


def decide(facts: VisitFacts, splits: Splits = Splits()) -> Decision:
    """Apply the office's rules in order of precedence; the first that fits decides.

    Only a new customer consumes a rotation turn: a returning one never does, whoever
    receives them (seeds 篇五 5(2)); a customer who forgot their receiver is listed in the
    rotation (case 7).
    """
    decision = _decide(facts, splits)
    if decision.case != 7:
        decision.counts_as_turn = decision.counts_as_turn and facts.visit_number == 1
    return decision


def _decide(facts: VisitFacts, splits: Splits) -> Decision:
    present = facts.present
    b = facts.previous_receiver
    b_claims = b is not None and facts.claim_valid

    if facts.quarrel:
        return Decision(
            None,
            ROTATION,
            DEPARTMENT,
            _all(DEPARTMENT),
            dispute=True,
            explanation=msgid(
                "The dispute turned into a quarrel: the credit goes to the department."
            ),
        )
    if facts.event_mode:
        if facts.event_assignee is None:
            return Decision(
                13,
                None,
                None,
                dispute=True,
                explanation=msgid("Launch event: the manager assigns this customer."),
            )
        return Decision(
            13,
            facts.event_assignee,
            facts.event_assignee,
            _all(facts.event_assignee),
            explanation=msgid("Launch event: assigned by the manager."),
        )
    if facts.discount_seeking and b is not None:
        return Decision(
            6,
            b if b in present else ROTATION,
            b,
            _all(b),
            assistant=None if b in present else ROTATION,
            explanation=msgid(
                "The owner's customer asked another salesperson for a bigger discount: "
                "everything stays with the owner."
            ),
        )
    if facts.complaint and facts.refuses is not None:
        # Whoever receives now (the one the customer asks for, else the one in turn) is
        # never the salesperson complained about: the caller excludes `refuses` from the queue.
        a = facts.prefers if facts.prefers is not None else ROTATION
        if not facts.complaint_confirmed:
            return Decision(
                4,
                a,
                None,
                dispute=True,
                counts_as_turn=a == ROTATION,
                explanation=msgid(
                    "The customer refuses the earlier receiver and complains: received "
                    "in turn while the manager confirms the complaint."
                ),
            )
        return Decision(
            4,
            a,
            a,
            _all(a),
            counts_as_turn=a == ROTATION,
            explanation=msgid(
                "The manager confirmed the complaint: the earlier receiver has no claim."
            ),
        )
    if facts.refuses is not None and facts.prefers is not None and facts.refuses == b:
        a = facts.prefers
        if b_claims:
            return Decision(
                2,
                a,
                a,
                {a: splits.case2_receiver, b: splits.case2_previous},
                explanation=msgid(
                    "The customer does not want the earlier receiver and asks for "
                    "another: the new receiver follows up; the earlier one is still protected."
                ),
            )
        return Decision(
            2,
            a,
            a,
            _all(a),
            explanation=msgid(
                "The customer asks for another salesperson; the earlier "
                "receiver's protection has lapsed, so all credit is the new receiver's."
            ),
        )
    if facts.prefers is not None and facts.visit_number > 1:
        a = facts.prefers
        earlier = [p for p in dict.fromkeys(facts.earlier_receivers) if p != a]
        if not earlier:
            return Decision(
                8,
                a,
                a,
                _all(a),
                explanation=msgid(
                    "The customer designates the salesperson who received all earlier visits."
                ),
            )
        split = {a: splits.case8_designated}
        # Shares round down to the cent; the cents left over stay with the designated one.
        share = (splits.case8_earlier / len(earlier)).quantize(Decimal("0.01"), ROUND_DOWN)
        for p in earlier:
            split[p] = share
        split[a] += splits.case8_earlier - share * len(earlier)  # rounding cents stay with a
        return Decision(
            8,
            a,
            a,
            split,
            explanation=msgid(
                "On a later visit the customer designates a salesperson: half the "
                "commission to them, half shared by those who received the earlier visits."
            ),
        )
    if len(facts.named) > 1 and facts.prefers is None:
        for p in facts.named:
            if p in present:
                return Decision(
                    5,
                    p,
                    p,
                    _all(p),
                    explanation=msgid(
                        "The customer named several salespeople without "
                        "preference: the first named who is present receives."
                    ),
                )
        return Decision(
            5,
            ROTATION,
            ROTATION,
            _all(ROTATION),
            counts_as_turn=True,
            explanation=msgid(
                "None of the salespeople the customer named is present: the rotation receives."
            ),
        )
    named = facts.named[0] if facts.named else None
    if facts.forgot_receiver and named is None:
        return _case_7(facts, splits)
    if named is not None and b_claims and named != b:
        # Naming someone never takes a protected customer away silently (issue 11 item 4):
        # the one named attends (a colleague if absent); the credit stays with the earlier
        # receiver until the manager decides.
        return Decision(
            None,
            named if named in present else ROTATION,
            b,
            _all(b),
            dispute=True,
            explanation=msgid(
                "The customer names another salesperson while the earlier receiver's "
                "protection still holds: the earlier receiver keeps the credit until the "
                "manager decides."
            ),
        )
    claimant = named if named is not None else (b if b_claims else None)
    if claimant is not None:
        via = {"household": 11, "referral": 10}.get(facts.claim_via)
        if claimant in present:
            return Decision(
                via or 1,
                claimant,
                claimant,
                _all(claimant),
                explanation=(
                    msgid(
                        "A family member was received first by this salesperson: the first "
                        "receiver."
                    )
                    if via == 11
                    else msgid(
                        "Referred by an existing customer: belongs to the referrer's original "
                        "receiver."
                    )
                    if via == 10
                    else msgid("Received before by this salesperson, who is present: back to them.")
                ),
            )
        return Decision(
            via or 3,
            ROTATION,
            claimant,
            {claimant: splits.case3_owner, ROTATION: splits.case3_assistant},
            assistant=ROTATION,
            counts_as_turn=False,
            explanation=msgid(
                "The earlier receiver is absent: a colleague assists (not a rotation "
                "turn); the credit stays with the earlier receiver."
            ),
        )
    return Decision(
        None,
        ROTATION,
        ROTATION,
        _all(ROTATION),
        counts_as_turn=True,
        explanation=msgid(
            "New customer: received in turn; the first registration owns the customer "
            "for the protection period."
        ),
    )


def _case_7(facts: VisitFacts, splits: Splits) -> Decision:
    """Case 7: the customer forgot who received them; the rotation receives (列入前台轮值).

    If the archive then shows that receiver (B) still within protection, the two share the
    commission; otherwise B has nothing to do with it.
    """
    b = facts.previous_receiver
    if b is not None and facts.claim_valid:
        return Decision(
            7,
            ROTATION,
            ROTATION,
            {ROTATION: splits.case7_receiver, b: splits.case7_previous},
            counts_as_turn=True,
            explanation=msgid(
                "The customer forgot who received them; the archive shows a "
                "receiver still within protection: either follows up, commission shared."
            ),
        )
    return Decision(
        7,
        ROTATION,
        ROTATION,
        _all(ROTATION),
        counts_as_turn=True,
        explanation=msgid(
            "The customer forgot who received them and no protected "
            "claim exists: the rotation receives."
        ),
    )
