"""Use cases of the voting service. Each runs in one transaction with the events it causes."""
import uuid
from datetime import datetime, timezone

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.inbox import apply_once

from . import domain, ledger, repository as repo


def _now():
    return datetime.now(timezone.utc)


def _idea_ref(idea):
    return {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"]}


def _votable_idea(cur, idea_id, default_threshold, lock=False):
    idea = repo.get_idea(cur, idea_id, default_threshold, lock=lock)
    if idea is None:
        raise NotFound("idea")
    return idea


# --- ideas, as the ideas service announces them ---------------------------------------------

# event type -> (status it sets, the data field with its time)
_IDEA_EVENTS = {
    "IdeaPublished": (lambda d: "published", "published_at"),
    "IdeaRejected": (lambda d: "rejected", "rejected_at"),
    "IdeaStatusChanged": (lambda d: d["to_status"], "changed_at"),
}


def track_idea(pool, event):
    """Follow an idea's status from the ideas service's events; once per event, latest wins."""
    data = event["data"]
    status_of, time_field = _IDEA_EVENTS[event["type"]]
    idea = {"id": data["idea_id"], "municipality": data["municipality"], "field_of_action": data["field_of_action"],
            "title": data.get("title"),
            "status": status_of(data), "status_at": data[time_field]}
    return apply_once(pool, "voting.ideas", event, lambda cur: repo.track_idea(cur, idea, ledger.GENESIS))


def get_idea(pool, idea_id, default_threshold):
    with pool.transaction() as cur:
        return _votable_idea(cur, idea_id, default_threshold)


def rankings(pool, query):
    with pool.transaction() as cur:
        ideas = repo.ranking(cur, query["municipality"], query.get("field"), domain.RANKED, query["limit"])
    return [{**idea, "rank": position} for position, idea in enumerate(ideas, start=1)]


def threshold(pool, municipality, default_threshold):
    with pool.transaction() as cur:
        return {"municipality": municipality, "threshold": repo.threshold_of(cur, municipality, default_threshold)}


def set_threshold(pool, municipality, value):
    with pool.transaction() as cur:
        repo.set_threshold(cur, municipality, value, _now())
    return {"municipality": municipality, "threshold": value}


# --- rounds ---------------------------------------------------------------------------------

def open_round(pool, fields_of_action, command):
    """Create a round; `fields_of_action(municipality)` is the ideas service's list (NotFound if unknown)."""
    municipality, field = command["municipality"], command.get("field_of_action")
    try:
        known = {f["slug"] for f in fields_of_action(municipality)}
    except NotFound:
        raise InvalidInput("unknown municipality", {"municipality": [f"unknown municipality {municipality!r}"]})
    if field is not None and field not in known:
        raise InvalidInput("unknown field of action",
                           {"field_of_action": [f"{field!r} is not a field of action of {municipality}"]})
    round_ = {"id": uuid.uuid4(), "created_at": _now(), "field_of_action": field, **command}
    with pool.transaction() as cur:
        repo.add_round(cur, round_)
    return round_


def get_round(pool, round_id):
    with pool.transaction() as cur:
        round_ = repo.get_round(cur, round_id)
    if round_ is None:
        raise NotFound("round")
    return round_


def list_rounds(pool, query):
    with pool.transaction() as cur:
        return repo.rounds_of(cur, query["municipality"], _now() if query.get("open") else None)


def ballot(pool, round_id, voter):
    """What a citizen spent in a round: the ideas they support and the budget left."""
    with pool.transaction() as cur:
        round_ = repo.get_round(cur, round_id)
        if round_ is None:
            raise NotFound("round")
        ideas = repo.ballot(cur, round_id, voter)
    return {"round_id": round_id, "budget": round_["budget"], "used": len(ideas),
            "remaining": round_["budget"] - len(ideas), "ideas": ideas}


# --- support votes --------------------------------------------------------------------------

def _vote_result(idea, round_id, supported):
    return {"idea_id": idea["id"], "round_id": round_id, "total": idea["total"], "supported": supported}


def _change_total(cur, outbox, idea, action, round_id, voter, now):
    """Apply +1 / -1 to a locked idea: ledger entry, new total, VoteCast/VoteWithdrawn, threshold."""
    total = idea["total"] + (1 if action == "cast" else -1)
    entry = ledger.next_entry(idea, action, round_id, voter, total, now)
    reached = domain.crosses_threshold(idea["threshold_reached_at"] is not None, total, idea["threshold"])
    reached_at = now if reached else idea["threshold_reached_at"]
    repo.append_ledger(cur, entry)
    repo.set_total(cur, idea["id"], total, now, reached_at, entry)
    event_type, time_field = ("VoteCast", "cast_at") if action == "cast" else ("VoteWithdrawn", "withdrawn_at")
    outbox.add(cur, event_type, {**_idea_ref(idea), "round_id": round_id, "total": total, time_field: now,
                                 "ledger_seq": entry["seq"], "ledger_hash": entry["hash"]},
               subject=str(idea["id"]))
    if reached:
        outbox.add(cur, "SupportThresholdReached", {**_idea_ref(idea), "threshold": idea["threshold"],
                                                    "total": total, "reached_at": now}, subject=str(idea["id"]))
    return {**idea, "total": total}


def cast_vote(pool, outbox, idea_id, voter, default_threshold):
    """Support an idea. Casting again returns the same result and changes nothing.

    The idea's row lock serialises votes on one idea, so parallel casts by one citizen
    find the first one's vote; the budget is spent by one conditional upsert.
    """
    now = _now()
    with pool.transaction() as cur:
        idea = _votable_idea(cur, idea_id, default_threshold, lock=True)
        existing = repo.get_vote(cur, idea_id, voter)
        if existing is not None:
            return _vote_result(idea, existing["round_id"], True)
        domain.ensure_votable(idea["status"])
        round_ = domain.pick_round(repo.rounds_of(cur, idea["municipality"], now), idea["field_of_action"], now)
        if not repo.spend_budget(cur, round_["id"], voter, round_["budget"]):
            raise domain.budget_exhausted(round_["budget"])
        repo.add_vote(cur, idea_id, voter, round_["id"], now)
        idea = _change_total(cur, outbox, idea, "cast", round_["id"], voter, now)
    return _vote_result(idea, round_["id"], True)


def withdraw_vote(pool, outbox, idea_id, voter, default_threshold):
    """Take support back while its round is open; withdrawing nothing changes nothing."""
    now = _now()
    with pool.transaction() as cur:
        idea = _votable_idea(cur, idea_id, default_threshold, lock=True)
        vote = repo.get_vote(cur, idea_id, voter)
        if vote is None:
            return _vote_result(idea, None, False)
        domain.ensure_round_open(repo.get_round(cur, vote["round_id"]), now)
        repo.remove_vote(cur, idea_id, voter)
        repo.refund_budget(cur, vote["round_id"], voter)
        idea = _change_total(cur, outbox, idea, "withdraw", vote["round_id"], voter, now)
    return _vote_result(idea, vote["round_id"], False)


def verify_ledger(pool):
    """(ideas checked, problems): every chain intact and every total equal to its ledger and votes."""
    problems = []
    with pool.transaction() as cur:
        heads = repo.ledger_heads(cur)
        for head in heads:
            entries = repo.ledger_of(cur, head["id"])
            problems += ledger.verify_chain(head["id"], entries, head["ledger_seq"], head["ledger_head"],
                                            head["total"])
            if head["active_votes"] != head["total"]:
                problems.append(f"idea {head['id']}: total is {head['total']}, "
                                f"{head['active_votes']} votes are recorded")
    return len(heads), problems


# --- strategy-board decisions ---------------------------------------------------------------

def open_decision(pool, opened_by, command, default_threshold):
    board = command["board"]
    if command["quorum"] > len(board):
        raise InvalidInput("quorum larger than the board", {"quorum": [f"at most {len(board)} (the board's size)"]})
    now = _now()
    if command["deadline"] <= now:
        raise InvalidInput("deadline in the past", {"deadline": ["must be in the future"]})
    decision = {"id": uuid.uuid4(), "opened_by": opened_by, "opened_at": now, **command}
    with pool.transaction() as cur:
        idea = _votable_idea(cur, command["idea_id"], default_threshold, lock=True)
        domain.ensure_can_open(idea["status"])
        if repo.open_decision_on(cur, idea["id"]) is not None:
            raise Conflict("the board already has an open decision on this idea",
                           {"idea_id": ["an open decision exists"]})
        repo.add_decision(cur, decision)
        return repo.get_decision(cur, decision["id"])


def get_decision(pool, decision_id):
    with pool.transaction() as cur:
        decision = repo.get_decision(cur, decision_id)
    if decision is None:
        raise NotFound("decision")
    return decision


def list_decisions(pool, query):
    with pool.transaction() as cur:
        return repo.list_decisions(cur, query.get("idea_id"), query.get("status"))


def _locked_decision(cur, decision_id):
    decision = repo.get_decision(cur, decision_id, lock=True)
    if decision is None:
        raise NotFound("decision")
    return decision


def _close(cur, outbox, decision, closed_by, now):
    """Decide a locked open decision from its votes and emit PilotApproved or PilotRejected."""
    board = decision["board"]
    counts = domain.tally(board, decision["votes"])
    outcome = domain.decide(counts, len(board), decision["quorum"], decision["majority_rule"])
    status = "approved" if outcome.approved else "rejected"
    repo.close_decision(cur, decision["id"], status, outcome.reason, outcome.quorum_met, now, closed_by)
    data = {"idea_id": decision["idea_id"], "municipality": decision["municipality"],
            "field_of_action": decision["field_of_action"], "decision_id": decision["id"], "tally": counts,
            "board_size": len(board), "quorum": decision["quorum"], "quorum_met": outcome.quorum_met,
            "majority_rule": decision["majority_rule"], "decided_at": now}
    if outcome.approved:
        outbox.add(cur, "PilotApproved", data, subject=str(decision["idea_id"]))
    else:
        outbox.add(cur, "PilotRejected", {**data, "reason": outcome.reason}, subject=str(decision["idea_id"]))
    return repo.get_decision(cur, decision["id"])


def cast_board_vote(pool, outbox, decision_id, member, choice):
    """A board member votes or changes their vote; the last missing vote closes the decision."""
    now = _now()
    with pool.transaction() as cur:
        decision = _locked_decision(cur, decision_id)
        if member not in decision["board"]:
            raise Forbidden("you are not on this decision's board")
        domain.ensure_open(decision)
        repo.record_board_vote(cur, decision_id, member, choice, now)
        decision = repo.get_decision(cur, decision_id)
        if domain.everyone_voted(decision["board"], decision["votes"]):
            decision = _close(cur, outbox, decision, "board", now)
    return decision


def close_decision(pool, outbox, decision_id, closed_by):
    """Staff close a decision now; closing a closed one returns it unchanged and emits nothing."""
    with pool.transaction() as cur:
        decision = _locked_decision(cur, decision_id)
        if decision["status"] != "open":
            return decision
        return _close(cur, outbox, decision, closed_by, _now())


def close_due_decisions(pool, outbox):
    """Close every open decision whose deadline passed (the timer); returns how many."""
    now = _now()
    with pool.transaction() as cur:
        due = repo.due_decisions(cur, now)
        for decision_id in due:
            _close(cur, outbox, repo.get_decision(cur, decision_id), "deadline", now)
    return len(due)
