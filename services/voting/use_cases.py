"""Use cases of the voting service: `use_case(uow, command, ...) -> result`.

Each `with uow:` block is one transaction: what the use case stores (uow.repo) and the events
it emits (uow.emit) are committed together, or neither. Rules live in `domain` and `ledger`;
the service class turns HTTP, events and timers into commands (`commands`) and calls these.
Plain values come from outside: `default_threshold` (the configured support threshold
where a municipality set none), `pseudonym_key` (the secret that keys voters' pseudonyms in the
ledger) and `fields_of_action(municipality)`, the ideas service's list (raises NotFound for an
unknown municipality).
"""
import uuid
from dataclasses import asdict

from shared.domain import PUBLIC_STATUSES
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, found

from . import domain, ledger

INBOX_CONSUMER = "voting.ideas"  # the inbox name under which idea events are applied once


def _idea_ref(idea):
    return {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"]}


def _votable_idea(repo, idea_id, default_threshold, lock=False):
    idea = found(repo.get_idea(idea_id, default_threshold, lock=lock), "idea")
    return idea


def _known_fields(fields_of_action, municipality):
    """The slugs of the municipality's fields of action; None for a municipality the ideas service does not know."""
    try:
        return {field["slug"] for field in fields_of_action(municipality)}
    except NotFound:
        return None


# --- ideas, as the ideas service announces them ---------------------------------------------

def track_idea(uow, command):
    """Follow an idea's status from the ideas service's events; once per event, latest wins.

    Returns False for a redelivered event (nothing changes).
    """
    with uow:
        if not uow.claim(INBOX_CONSUMER, command.event_id, command.event_type):
            return False
        uow.repo.track_idea({"id": command.idea_id, "municipality": command.municipality,
                             "field_of_action": command.field_of_action, "title": command.title,
                             "status": command.status, "status_at": command.status_at,
                             "published_at": command.published_at}, ledger.GENESIS)
    return True


def get_idea(uow, query, default_threshold):
    with uow:
        return _votable_idea(uow.repo, query.idea_id, default_threshold)


def rankings(uow, query):
    """Public ideas by support, decided ones included, so a pilot keeps its place."""
    with uow:
        ideas = uow.repo.ranking(query.municipality, query.field_of_action, PUBLIC_STATUSES, query.limit)
    return [{**idea, "rank": position} for position, idea in enumerate(ideas, start=1)]


def threshold(uow, query, default_threshold):
    with uow:
        return {"municipality": query.municipality,
                "threshold": uow.repo.threshold_of(query.municipality, default_threshold)}


def set_threshold(uow, command, fields_of_action):
    """Set a municipality's support threshold; NotFound for a municipality the ideas service does not know."""
    if _known_fields(fields_of_action, command.municipality) is None:
        raise NotFound("municipality")
    with uow:
        uow.repo.set_threshold(command.municipality, command.threshold, uow.now())
    return {"municipality": command.municipality, "threshold": command.threshold}


# --- rounds ---------------------------------------------------------------------------------

def open_round(uow, command, fields_of_action):
    """Create a round for a municipality the ideas service knows (and one of its fields, if given)."""
    municipality, field = command.municipality, command.field_of_action
    known = _known_fields(fields_of_action, municipality)  # asked before the transaction: no connection held
    if known is None:
        raise InvalidInput("unknown municipality", {"municipality": [f"unknown municipality {municipality!r}"]})
    if field is not None and field not in known:
        raise InvalidInput("unknown field of action",
                           {"field_of_action": [f"{field!r} is not a field of action of {municipality}"]})
    round_ = {"id": uuid.uuid4(), "created_at": uow.now(), **asdict(command)}
    with uow:
        uow.repo.add_round(round_)
    return round_


def get_round(uow, query):
    with uow:
        return found(uow.repo.get_round(query.round_id), "round")


def list_rounds(uow, query):
    with uow:
        return uow.repo.rounds_of(query.municipality, uow.now() if query.open_only else None)


def ballot(uow, query):
    """What a citizen spent in a round: the ideas they support and the budget left."""
    with uow:
        round_ = found(uow.repo.get_round(query.round_id), "round")
        ideas = uow.repo.ballot(query.round_id, query.voter)
    return {"round_id": query.round_id, "budget": round_["budget"], "used": len(ideas),
            "remaining": round_["budget"] - len(ideas), "ideas": ideas}


# --- support votes --------------------------------------------------------------------------

def _vote_result(idea, round_id, supported):
    return {"idea_id": idea["id"], "round_id": round_id, "total": idea["total"], "supported": supported}


def _next_entry(idea, action, round_id, voter_hash, now):
    """+1 / -1 on a locked idea: its next ledger entry and its threshold_reached_at afterwards."""
    total = idea["total"] + (1 if action == "cast" else -1)
    entry = ledger.next_entry(idea, action, round_id, voter_hash, total, now)
    reached = domain.crosses_threshold(idea["threshold_reached_at"] is not None, total, idea["threshold"])
    return entry, now if reached else idea["threshold_reached_at"]


def _announce(uow, idea, entry, reached_at):
    """VoteCast/VoteWithdrawn for a stored entry, and SupportThresholdReached when it crossed the threshold."""
    now, total = entry["at"], entry["total"]
    event_type, time_field = ("VoteCast", "cast_at") if entry["action"] == "cast" else ("VoteWithdrawn", "withdrawn_at")
    uow.emit(event_type, {**_idea_ref(idea), "round_id": entry["round_id"], "total": total, time_field: now,
                          "ledger_seq": entry["seq"], "ledger_hash": entry["hash"]}, subject=str(idea["id"]))
    if reached_at is not None and idea["threshold_reached_at"] is None:
        uow.emit("SupportThresholdReached", {**_idea_ref(idea), "threshold": idea["threshold"], "total": total,
                                             "reached_at": now}, subject=str(idea["id"]))
    return {**idea, "total": total}


def cast_vote(uow, command, default_threshold, pseudonym_key):
    """Support an idea. Casting again returns the same result and changes nothing.

    The idea's row lock serialises votes on one idea, so parallel casts by one citizen find
    the first one's vote. Two statements (the hot path, see docs/performance.md): one read that
    locks the idea and brings the earlier vote and the open rounds, one write that spends the
    budget (a conditional upsert: parallel casts cannot overspend) and stores vote, ledger entry
    and total, or nothing.
    """
    now = uow.now()
    with uow:
        idea = found(uow.repo.idea_for_vote(command.idea_id, command.voter, default_threshold, now), "idea")
        if idea["vote_round_id"] is not None:
            return _vote_result(idea, idea["vote_round_id"], True)
        domain.ensure_votable(idea["status"])
        round_ = domain.pick_round(idea["open_rounds"], idea["field_of_action"], now)
        entry, reached_at = _next_entry(idea, "cast", round_["id"],
                                        ledger.voter_pseudonym(pseudonym_key, command.voter), now)
        earlier, spent = uow.repo.record_cast(entry, command.voter, round_, reached_at)
        if earlier is not None:
            return _vote_result(idea, earlier, True)
        if not spent:
            raise domain.budget_exhausted(round_["budget"])
        idea = _announce(uow, idea, entry, reached_at)
    return _vote_result(idea, round_["id"], True)


def withdraw_vote(uow, command, default_threshold, pseudonym_key):
    """Take support back while its round is open. NotFound naming the vote when there is none to
    withdraw (never cast, or withdrawn already): a second withdrawal changes nothing and says so."""
    now = uow.now()
    with uow:
        repo = uow.repo
        idea = _votable_idea(repo, command.idea_id, default_threshold, lock=True)
        vote = repo.get_vote(command.idea_id, command.voter)
        if vote is None:
            raise NotFound("your vote on this idea")
        domain.ensure_round_open(repo.get_round(vote["round_id"]), now)
        repo.remove_vote(command.idea_id, command.voter)
        repo.refund_budget(vote["round_id"], command.voter)
        entry, reached_at = _next_entry(idea, "withdraw", vote["round_id"],
                                        ledger.voter_pseudonym(pseudonym_key, command.voter), now)
        repo.append_ledger(entry)
        repo.set_total(idea["id"], entry["total"], now, reached_at, entry)
        idea = _announce(uow, idea, entry, reached_at)
    return _vote_result(idea, vote["round_id"], False)


def verify_ledger(uow):
    """(ideas checked, problems): every chain intact and every total equal to its ledger and votes."""
    problems = []
    with uow:
        heads = uow.repo.ledger_heads()
        for head in heads:
            entries = uow.repo.ledger_of(head["id"])
            problems += ledger.verify_chain(head["id"], entries, head["ledger_seq"], head["ledger_head"],
                                            head["total"])
            if head["active_votes"] != head["total"]:
                problems.append(f"idea {head['id']}: total is {head['total']}, "
                                f"{head['active_votes']} votes are recorded")
    return len(heads), problems


# --- strategy-board decisions ---------------------------------------------------------------

def open_decision(uow, command, default_threshold):
    """Put a shortlisted idea before the board; one open decision per idea."""
    board = command.board
    if command.quorum > len(board):
        raise InvalidInput("quorum larger than the board", {"quorum": [f"at most {len(board)} (the board's size)"]})
    now = uow.now()
    if command.deadline <= now:
        raise InvalidInput("deadline in the past", {"deadline": ["must be in the future"]})
    decision = {**asdict(command), "id": uuid.uuid4(), "board": list(board), "opened_at": now}
    with uow:
        idea = _votable_idea(uow.repo, command.idea_id, default_threshold, lock=True)
        domain.ensure_can_open(idea["status"])
        if uow.repo.open_decision_on(idea["id"]) is not None:
            raise Conflict("the board already has an open decision on this idea",
                           {"idea_id": ["an open decision exists"]})
        uow.repo.add_decision(decision)
        return uow.repo.get_decision(decision["id"])


def get_decision(uow, query):
    with uow:
        return found(uow.repo.get_decision(query.decision_id), "decision")


def list_decisions(uow, query):
    with uow:
        return uow.repo.list_decisions(query.idea_id, query.status)


def _locked_decision(repo, decision_id):
    decision = found(repo.get_decision(decision_id, lock=True), "decision")
    return decision


def _close(uow, decision, closed_by, now):
    """Decide a locked open decision from its votes and emit PilotApproved or PilotRejected."""
    board = decision["board"]
    counts = domain.tally(board, decision["votes"])
    outcome = domain.decide(counts, len(board), decision["quorum"], decision["majority_rule"])
    status = domain.APPROVED if outcome.approved else domain.REJECTED
    uow.repo.close_decision(decision["id"], status, outcome.reason, outcome.quorum_met, now, closed_by)
    data = {"idea_id": decision["idea_id"], "municipality": decision["municipality"],
            "field_of_action": decision["field_of_action"], "decision_id": decision["id"], "tally": counts,
            "board_size": len(board), "quorum": decision["quorum"], "quorum_met": outcome.quorum_met,
            "majority_rule": decision["majority_rule"], "decided_at": now}
    if outcome.approved:
        uow.emit("PilotApproved", data, subject=str(decision["idea_id"]))
    else:
        uow.emit("PilotRejected", {**data, "reason": outcome.reason}, subject=str(decision["idea_id"]))
    return uow.repo.get_decision(decision["id"])


def cast_board_vote(uow, command):
    """A board member votes or changes their vote; the last missing vote closes the decision."""
    now = uow.now()
    with uow:
        decision = _locked_decision(uow.repo, command.decision_id)
        if command.member not in decision["board"]:
            raise Forbidden("you are not on this decision's board")
        domain.ensure_open(decision)
        uow.repo.record_board_vote(command.decision_id, command.member, command.choice, now)
        decision = uow.repo.get_decision(command.decision_id)
        if domain.everyone_voted(decision["board"], decision["votes"]):
            decision = _close(uow, decision, "board", now)
    return decision


def close_decision(uow, command):
    """Staff close a decision now; closing a closed one returns it unchanged and emits nothing."""
    with uow:
        decision = _locked_decision(uow.repo, command.decision_id)
        if decision["status"] != domain.OPEN:
            return decision
        return _close(uow, decision, command.closed_by, uow.now())


def close_due_decisions(uow):
    """Close every open decision whose deadline passed (the timer); returns how many."""
    now = uow.now()
    with uow:
        due = uow.repo.due_decisions(now)
        for decision_id in due:
            _close(uow, uow.repo.get_decision(decision_id), "deadline", now)
    return len(due)
