"""The voting rules, without broker or database."""
import hashlib
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.voting import domain, ledger
from shared.errors import Conflict

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
KEY = "unit-test-pseudonym-key"


def a_round(field=None, opens=-1, closes=1, rid=None):
    return {"id": rid or uuid.uuid4(), "field_of_action": field, "budget": 3,
            "opens_at": NOW + timedelta(days=opens), "closes_at": NOW + timedelta(days=closes)}


# --- rounds ---------------------------------------------------------------------------------

def test_a_vote_counts_in_the_open_round_of_its_field_before_a_municipality_wide_one():
    wide, energy = a_round(), a_round("energie", closes=5)
    assert domain.pick_round([wide, energy], "energie", NOW) is energy
    assert domain.pick_round([wide, energy], "umwelt", NOW) is wide


def test_among_equal_rounds_the_one_closing_first_wins():
    later, sooner = a_round(closes=9), a_round(closes=2)
    assert domain.pick_round([later, sooner], "energie", NOW) is sooner


@pytest.mark.parametrize("opens,closes", [(1, 2), (-2, -1), (-1, 0)])
def test_no_round_open_at_the_moment_is_a_conflict_naming_the_round(opens, closes):
    with pytest.raises(Conflict) as caught:
        domain.pick_round([a_round(opens=opens, closes=closes)], "energie", NOW)
    assert "round" in caught.value.fields


def test_a_round_of_another_field_does_not_take_the_vote():
    with pytest.raises(Conflict):
        domain.pick_round([a_round("umwelt")], "energie", NOW)


def test_a_round_opening_this_very_moment_is_open_and_one_closing_now_is_not():
    assert domain.pick_round([a_round(opens=0)], "energie", NOW)
    with pytest.raises(Conflict):
        domain.ensure_round_open(a_round(closes=0), NOW)


@pytest.mark.parametrize("status", ["published", "shortlisted"])
def test_published_and_shortlisted_ideas_take_support(status):
    domain.ensure_votable(status)


@pytest.mark.parametrize("status", ["submitted", "rejected", "pilot", "in_implementation", "completed"])
def test_other_ideas_do_not(status):
    with pytest.raises(Conflict) as caught:
        domain.ensure_votable(status)
    assert "idea_id" in caught.value.fields


def test_budget_error_names_the_budget():
    assert "budget" in domain.budget_exhausted(3).fields


def test_the_threshold_is_crossed_once():
    assert domain.crosses_threshold(False, 10, 10)
    assert not domain.crosses_threshold(False, 9, 10)
    assert not domain.crosses_threshold(True, 11, 10)


# --- board decisions ------------------------------------------------------------------------

def counts(yes=0, no=0, abstain=0):
    return {"yes": yes, "no": no, "abstain": abstain}


def test_tally_counts_only_members_of_the_board():
    assert domain.tally(["a", "b", "c"], {"a": "yes", "b": "no", "x": "yes"}) == counts(1, 1, 0)


@pytest.mark.parametrize("rule,tally,size,approved", [
    ("simple", counts(3, 2), 5, True),
    ("simple", counts(2, 2, 1), 5, False),       # a tie is not a majority
    ("simple", counts(1, 0, 4), 5, True),        # abstentions do not count
    ("two_thirds", counts(4, 2), 6, True),       # exactly two thirds
    ("two_thirds", counts(3, 2), 5, False),
    ("two_thirds", counts(0, 0, 5), 5, False),   # nobody for it
    ("absolute", counts(3, 0, 2), 5, True),
    ("absolute", counts(3, 0, 0), 6, False),     # half of the board is not more than half
    ("absolute", counts(4, 0, 0), 6, True),
])
def test_majority_rules(rule, tally, size, approved):
    assert domain.decide(tally, size, 1, rule).approved is approved


def test_without_quorum_the_idea_is_rejected_as_no_quorum_even_if_all_who_voted_said_yes():
    outcome = domain.decide(counts(2), 7, 4, "simple")
    assert outcome == domain.Outcome(approved=False, quorum_met=False, reason="no_quorum")


def test_abstentions_count_towards_quorum():
    outcome = domain.decide(counts(2, 0, 2), 7, 4, "simple")
    assert outcome.quorum_met and outcome.approved


def test_a_rejection_with_quorum_is_for_lack_of_majority():
    assert domain.decide(counts(1, 3), 5, 3, "simple") == domain.Outcome(False, True, "majority")


def test_only_shortlisted_ideas_go_before_the_board_and_closed_decisions_take_no_votes():
    domain.ensure_can_open("shortlisted")
    with pytest.raises(Conflict):
        domain.ensure_can_open("published")
    with pytest.raises(Conflict):
        domain.ensure_open({"status": "approved"})


def test_everyone_voted_only_when_every_member_has():
    assert domain.everyone_voted(["a", "b"], {"a": "yes", "b": "no"})
    assert not domain.everyone_voted(["a", "b"], {"a": "yes", "x": "no"})


# --- the ledger -----------------------------------------------------------------------------

def chain(actions):
    idea = {"id": uuid.uuid4(), "ledger_seq": 0, "ledger_head": ledger.GENESIS}
    entries, total = [], 0
    for i, (action, voter) in enumerate(actions):
        total += 1 if action == "cast" else -1
        entry = ledger.next_entry(idea, action, uuid.uuid4(), ledger.voter_pseudonym(KEY, voter), total,
                                 NOW + timedelta(seconds=i))
        entries.append(entry)
        idea = {**idea, "ledger_seq": entry["seq"], "ledger_head": entry["hash"]}
    return idea, entries, total


def test_an_intact_chain_verifies():
    idea, entries, total = chain([("cast", "a"), ("cast", "b"), ("withdraw", "a")])
    assert ledger.verify_chain(idea["id"], entries, idea["ledger_seq"], idea["ledger_head"], total) == []
    assert all(len(e["hash"]) == 64 for e in entries)
    assert entries[1]["prev_hash"] == entries[0]["hash"]


def test_the_voter_pseudonym_is_keyed_not_a_plain_hash_anyone_could_recompute():
    pseudonym = ledger.voter_pseudonym(KEY, "citizen-4711")
    assert pseudonym == ledger.voter_pseudonym(KEY, "citizen-4711")  # stable: entries stay attributable
    assert pseudonym != hashlib.sha256(b"smartcity-voter:citizen-4711").hexdigest()  # what was reversed before
    assert pseudonym != ledger.voter_pseudonym("another-key", "citizen-4711")


def test_the_ledger_keeps_a_pseudonym_not_the_voter():
    _, entries, _ = chain([("cast", "citizen-4711")])
    assert "citizen-4711" not in str(entries)
    assert entries[0]["voter_hash"] == ledger.voter_pseudonym(KEY, "citizen-4711")


@pytest.mark.parametrize("tamper,expect", [
    (lambda es: es[1].update(voter_hash=ledger.voter_pseudonym(KEY, "mallory")), "hash does not match"),
    (lambda es: es.pop(1), "does not link"),
    (lambda es: es.pop(), "stored head"),
    (lambda es: es[0].update(total=5), "records total 5"),
    (lambda es: es.insert(0, es.pop(1)), "expected sequence number"),
])
def test_any_change_to_the_chain_is_found(tamper, expect):
    idea, entries, total = chain([("cast", "a"), ("cast", "b"), ("cast", "c")])
    tamper(entries)
    problems = ledger.verify_chain(idea["id"], entries, idea["ledger_seq"], idea["ledger_head"], total)
    assert any(expect in p for p in problems), problems


def test_a_stored_total_that_differs_from_the_ledger_is_found():
    idea, entries, total = chain([("cast", "a")])
    problems = ledger.verify_chain(idea["id"], entries, idea["ledger_seq"], idea["ledger_head"], total + 1)
    assert problems == [f"idea {idea['id']}: total is 2, the ledger gives 1"]
