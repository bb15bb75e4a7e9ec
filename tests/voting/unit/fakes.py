"""An in-memory VotingRepository: the same methods and row shapes as services/voting/repository.py.

Rows are plain dicts in instance attributes (FakeUnitOfWork copies them at `with` and restores
them on an exception). Every read returns fresh dicts, as a cursor does, so a use case cannot
change stored state by mutating what it read. Locks do nothing here: there is one caller.
"""
import copy
from datetime import datetime, timezone

from services.voting.domain import OPEN

EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


class FakeVotingRepository:
    def __init__(self):
        self.ideas = {}  # id -> row as stored (without the threshold)
        self.thresholds = {}  # municipality -> {"support_threshold", "updated_at"}
        self.rounds = {}  # id -> row
        self.ballots = {}  # (round id, voter) -> supports used
        self.votes = {}  # (idea id, voter) -> row
        self.ledger = {}  # idea id -> [entry, ...] in sequence
        self.decisions = {}  # id -> row
        self.board_votes = {}  # decision id -> {member: {"choice", "voted_at"}}

    # --- votable ideas ---

    def track_idea(self, idea, genesis):
        stored = self.ideas.get(idea["id"])
        if stored is None:
            self.ideas[idea["id"]] = {**idea, "total": 0, "total_since": None, "threshold_reached_at": None,
                                      "ledger_seq": 0, "ledger_head": genesis}
            return
        if stored["status_at"] < idea["status_at"]:
            stored["status"] = idea["status"]
        stored["published_at"] = min((t for t in (stored["published_at"], idea["published_at"]) if t is not None),
                                     default=None)
        stored["status_at"] = max(stored["status_at"], idea["status_at"])
        if idea["title"] is not None:
            stored["title"] = idea["title"]

    def get_idea(self, idea_id, default_threshold, *, lock=False):
        idea = self.ideas.get(idea_id)
        if idea is None:
            return None
        return {**idea, "threshold": self.threshold_of(idea["municipality"], default_threshold)}

    def idea_for_vote(self, idea_id, voter, default_threshold, now):
        idea = self.get_idea(idea_id, default_threshold, lock=True)
        if idea is None:
            return None
        vote = self.votes.get((idea_id, voter))
        return {**idea, "vote_round_id": None if vote is None else vote["round_id"],
                "open_rounds": self.rounds_of(idea["municipality"], now)}

    def record_cast(self, entry, voter, round_, threshold_reached_at):
        earlier = self.votes.get((entry["idea_id"], voter))
        if earlier is not None:
            return earlier["round_id"], False
        used = self.ballots.get((round_["id"], voter), 0)
        if used >= round_["budget"]:
            return None, False
        self.ballots[(round_["id"], voter)] = used + 1
        self.votes[(entry["idea_id"], voter)] = {"idea_id": entry["idea_id"], "voter": voter, "round_id": round_["id"],
                                                 "cast_at": entry["at"]}
        self.append_ledger(entry)
        self.set_total(entry["idea_id"], entry["total"], entry["at"], threshold_reached_at, entry)
        return None, True

    def set_total(self, idea_id, total, at, threshold_reached_at, entry):
        self.ideas[idea_id].update(total=total, total_since=at, threshold_reached_at=threshold_reached_at,
                                   ledger_seq=entry["seq"], ledger_head=entry["hash"])

    def ranking(self, municipality, field, statuses, limit):
        ideas = [i for i in self.ideas.values() if i["municipality"] == municipality
                 and (field is None or i["field_of_action"] == field) and i["status"] in statuses]
        # total DESC, published_at ASC NULLS LAST, id
        ideas.sort(key=lambda i: (-i["total"], i["published_at"] is None, i["published_at"] or EARLIEST, i["id"]))
        return [dict(i) for i in ideas[:limit]]

    def threshold_of(self, municipality, default_threshold):
        row = self.thresholds.get(municipality)
        return default_threshold if row is None else row["support_threshold"]

    def set_threshold(self, municipality, threshold, at):
        self.thresholds[municipality] = {"support_threshold": threshold, "updated_at": at}

    # --- rounds and ballots ---

    def add_round(self, round_):
        assert round_["id"] not in self.rounds, "duplicate round id"
        self.rounds[round_["id"]] = dict(round_)

    def get_round(self, round_id):
        round_ = self.rounds.get(round_id)
        return None if round_ is None else dict(round_)

    def rounds_of(self, municipality, open_at=None):
        rounds = [r for r in self.rounds.values() if r["municipality"] == municipality
                  and (open_at is None or r["opens_at"] <= open_at < r["closes_at"])]
        return [dict(r) for r in sorted(rounds, key=lambda r: (r["opens_at"], r["id"]))]

    def refund_budget(self, round_id, voter):
        if (round_id, voter) in self.ballots:
            self.ballots[(round_id, voter)] -= 1

    def ballot(self, round_id, voter):
        votes = [v for v in self.votes.values() if v["round_id"] == round_id and v["voter"] == voter]
        return [v["idea_id"] for v in sorted(votes, key=lambda v: (v["cast_at"], v["idea_id"]))]

    # --- votes and the ledger ---

    def get_vote(self, idea_id, voter):
        vote = self.votes.get((idea_id, voter))
        return None if vote is None else dict(vote)

    def remove_vote(self, idea_id, voter):
        self.votes.pop((idea_id, voter), None)

    def append_ledger(self, entry):
        entries = self.ledger.setdefault(entry["idea_id"], [])
        assert all(e["seq"] != entry["seq"] for e in entries), "ledger's primary key violated"
        entries.append({k: v for k, v in entry.items() if k != "idea_id"})

    def ledger_heads(self):
        return [{"id": i["id"], "ledger_seq": i["ledger_seq"], "ledger_head": i["ledger_head"], "total": i["total"],
                 "active_votes": sum(1 for idea_id, _ in self.votes if idea_id == i["id"])}
                for i in sorted(self.ideas.values(), key=lambda i: i["id"])]

    def ledger_of(self, idea_id):
        return [dict(e) for e in sorted(self.ledger.get(idea_id, []), key=lambda e: e["seq"])]

    # --- board decisions ---

    def add_decision(self, decision):
        assert decision["idea_id"] in self.ideas, "decisions.idea_id references ideas"
        self.decisions[decision["id"]] = {
            **{k: decision[k] for k in ("id", "idea_id", "quorum", "majority_rule", "deadline", "opened_by",
                                        "opened_at")},
            "board": list(decision["board"]), "status": OPEN, "reason": None, "quorum_met": None,
            "decided_at": None, "closed_by": None}

    def open_decision_on(self, idea_id):
        return next((d["id"] for d in self.decisions.values() if d["idea_id"] == idea_id and d["status"] == OPEN),
                    None)

    def _joined(self, decision):
        idea = self.ideas[decision["idea_id"]]
        votes = {member: vote["choice"] for member, vote in self.board_votes.get(decision["id"], {}).items()}
        return {**copy.deepcopy(decision), "municipality": idea["municipality"],
                "field_of_action": idea["field_of_action"], "votes": votes}

    def get_decision(self, decision_id, *, lock=False):
        decision = self.decisions.get(decision_id)
        return None if decision is None else self._joined(decision)

    def list_decisions(self, idea_id, status):
        found = [d for d in self.decisions.values()
                 if (idea_id is None or d["idea_id"] == idea_id) and (status is None or d["status"] == status)]
        found.sort(key=lambda d: d["id"])
        found.sort(key=lambda d: d["opened_at"], reverse=True)
        return [self._joined(d) for d in found]

    def record_board_vote(self, decision_id, member, choice, at):
        self.board_votes.setdefault(decision_id, {})[member] = {"choice": choice, "voted_at": at}

    def close_decision(self, decision_id, status, reason, quorum_met, decided_at, closed_by):
        self.decisions[decision_id].update(status=status, reason=reason, quorum_met=quorum_met,
                                           decided_at=decided_at, closed_by=closed_by)

    def due_decisions(self, now):
        due = [d for d in self.decisions.values() if d["status"] == OPEN and d["deadline"] <= now]
        return [d["id"] for d in sorted(due, key=lambda d: d["deadline"])]
