"""The voting rules: which ideas take support, rounds and budgets, board outcomes. Pure: no I/O."""
from dataclasses import dataclass

from shared.domain import SHORTLISTED, VOTABLE_STATUSES
from shared.errors import Conflict

MAJORITY_RULES = ("simple", "two_thirds", "absolute")
CHOICES = ("yes", "no", "abstain")
OPEN, APPROVED, REJECTED = "open", "approved", "rejected"
DECISION_STATUSES = (OPEN, APPROVED, REJECTED)


def ensure_votable(status):
    if status not in VOTABLE_STATUSES:
        raise Conflict(f"idea is {status}; only published or shortlisted ideas take support",
                       {"idea_id": [f"idea is {status}"]})


def pick_round(rounds, field_of_action, now):
    """The round a vote on an idea of `field_of_action` counts in, at `now`.

    Open rounds of the idea's municipality qualify when they cover every field or exactly
    this one. A round for the field wins over a municipality-wide one (it is the narrower
    decision); among equals the one closing first, then the lower id, so the pick is stable.
    """
    candidates = [r for r in rounds
                  if r["opens_at"] <= now < r["closes_at"] and r["field_of_action"] in (None, field_of_action)]
    if not candidates:
        raise Conflict("no voting round is open for this idea", {"round": ["no open round for this idea"]})
    return min(candidates, key=lambda r: (r["field_of_action"] is None, r["closes_at"], str(r["id"])))


def budget_exhausted(budget):
    return Conflict(f"your budget of {budget} supports in this round is used up; withdraw one first",
                    {"budget": [f"at most {budget} ideas per citizen in this round"]})


def ensure_round_open(round_, now):
    if not round_["opens_at"] <= now < round_["closes_at"]:
        raise Conflict("the round this vote was cast in is closed", {"round": ["round is closed"]})


def crosses_threshold(already_reached, total, threshold):
    """True exactly once: the first time an idea's total reaches its municipality's threshold."""
    return not already_reached and total >= threshold


# --- strategy-board decisions -------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    approved: bool
    quorum_met: bool
    reason: str | None  # 'no_quorum' or 'majority' when rejected


def tally(board, votes):
    """{'yes': n, 'no': n, 'abstain': n} over `votes` ({member: choice}) of the board's members."""
    counts = dict.fromkeys(CHOICES, 0)
    for member, choice in votes.items():
        if member in board:
            counts[choice] += 1
    return counts


def majority_reached(rule, counts, board_size):
    """Whether the yes votes carry the decision.

    simple:     more yes than no; abstentions do not count.
    two_thirds: at least two thirds of the yes and no votes are yes (abstentions do not count).
    absolute:   more than half of the whole board says yes (abstaining or absent = not yes).
    """
    yes, no = counts["yes"], counts["no"]
    if rule == "simple":
        return yes > no
    if rule == "two_thirds":
        return yes > 0 and 3 * yes >= 2 * (yes + no)
    if rule == "absolute":
        return 2 * yes > board_size
    raise ValueError(f"unknown majority rule {rule!r}")


def decide(counts, board_size, quorum, rule):
    """The outcome of a closed decision: without quorum (members who voted, abstentions
    included) it is rejected as 'no_quorum', whatever the votes say."""
    quorum_met = sum(counts.values()) >= quorum
    if not quorum_met:
        return Outcome(approved=False, quorum_met=False, reason="no_quorum")
    if majority_reached(rule, counts, board_size):
        return Outcome(approved=True, quorum_met=True, reason=None)
    return Outcome(approved=False, quorum_met=True, reason="majority")


def everyone_voted(board, voted_members):
    return set(board) <= set(voted_members)


def ensure_open(decision):
    if decision["status"] != OPEN:
        raise Conflict(f"the decision is closed ({decision['status']})", {"decision": ["already closed"]})


def ensure_can_open(idea_status):
    if idea_status != SHORTLISTED:
        raise Conflict(f"idea is {idea_status}; the board decides on shortlisted ideas",
                       {"idea_id": [f"idea is {idea_status}, not shortlisted"]})
