"""The voting service's nameko entrypoints: translate HTTP, events and timers into commands for
the use cases, and their results back. No rule lives here."""
from shared import rpc
from shared.config import DEV_PSEUDONYM_KEY, Setting
from shared.db import UnitOfWorkProvider
from shared.domain import RANKING
from shared.ops import OpsEndpoints
from shared.ratelimit import Limits
from shared.subscriber import subscribe
from shared.timer import every
from shared.web import AUTHENTICATED, api

from . import use_cases
from .commands import (CastBoardVote, CastVote, CloseDecision, ListDecisions, ListRounds, OpenDecision, OpenRound,
                       Rankings, SetThreshold, ShowBallot, ShowDecision, ShowIdea, ShowRound, ShowThreshold,
                       TrackIdea, WithdrawVote)
from .repository import VotingRepository
from .schemas import (BallotOut, BoardVoteBody, DecisionOut, DecisionQuery, NewDecision, NewRound, RankedIdeaOut,
                      RankingQuery, RoundOut, RoundQuery, ThresholdBody, ThresholdOut, VotableIdeaOut, VoteOut)

CITIZENS, STAFF, BOARD = ("citizen",), ("staff",), ("board_member",)
# A citizen clicks a few supports a minute; one address may be a whole city office behind NAT.
VOTE_LIMITS = Limits(subject="60/minute", address="600/minute")
VOTES, ROUNDS, BOARD_TAG = ["support votes"], ["rounds"], ["board decisions"]

# The ideas service's event type -> (the status it sets, the data field with its time)
_IDEA_EVENTS = {
    "IdeaPublished": (lambda data: "published", "published_at"),
    "IdeaRejected": (lambda data: "rejected", "rejected_at"),
    "IdeaStatusChanged": (lambda data: data["to_status"], "changed_at"),
}


def _track_idea(event):
    data = event["data"]
    status_of, time_field = _IDEA_EVENTS[event["type"]]
    return TrackIdea(event_id=event["id"], event_type=event["type"], idea_id=data["idea_id"],
                     municipality=data["municipality"], field_of_action=data["field_of_action"],
                     title=data.get("title"), status=status_of(data), status_at=data[time_field],
                     published_at=data.get("published_at"))


class VotingService(OpsEndpoints):
    name = "voting"

    uow = UnitOfWorkProvider(VotingRepository)
    ideas = rpc.ServiceRpc("ideas")
    support_threshold = Setting("SUPPORT_THRESHOLD", 50, int)
    pseudonym_key = Setting("PSEUDONYM_KEY", DEV_PSEUDONYM_KEY)  # production refuses the default (shared.config)

    def _fields_of_action(self, municipality):
        """The ideas service's fields of action (RPC): NotFound for an unknown municipality, Unavailable on timeout."""
        return rpc.call(self.ideas.fields_of_action, municipality)

    # --- votable ideas and rankings ---
    @api("GET", "/api/v1/ideas/<uuid:idea_id>", response=VotableIdeaOut, tags=VOTES,
         summary="An idea's support: total, threshold, ledger head")
    def show_idea(self, request, idea_id):
        return use_cases.get_idea(self.uow, ShowIdea(idea_id), self.support_threshold)

    @api("GET", "/api/v1/rankings", query=RankingQuery, response=RankedIdeaOut(many=True), tags=VOTES,
         summary=f"Ideas by {RANKING}")
    def rankings(self, request):
        query = request.query_data
        return use_cases.rankings(self.uow, Rankings(query["municipality"], query.get("field"), query["limit"]))

    @api("POST", "/api/v1/ideas/<uuid:idea_id>/votes", roles=CITIZENS, response=VoteOut, tags=VOTES,
         limits=VOTE_LIMITS,
         summary="Support an idea (again: same result, no second vote)")
    def cast_vote(self, request, idea_id):
        return use_cases.cast_vote(self.uow, CastVote(idea_id, request.principal.subject), self.support_threshold,
                                   self.pseudonym_key)

    @api("DELETE", "/api/v1/ideas/<uuid:idea_id>/votes", roles=CITIZENS, response=VoteOut, tags=VOTES,
         limits=VOTE_LIMITS,
         summary="Withdraw support while its round is open")
    def withdraw_vote(self, request, idea_id):
        return use_cases.withdraw_vote(self.uow, WithdrawVote(idea_id, request.principal.subject),
                                       self.support_threshold, self.pseudonym_key)

    @api("GET", "/api/v1/municipalities/<slug>/support-threshold", response=ThresholdOut, tags=VOTES)
    def show_threshold(self, request, slug):
        return use_cases.threshold(self.uow, ShowThreshold(slug), self.support_threshold)

    @api("PUT", "/api/v1/municipalities/<slug>/support-threshold", body=ThresholdBody, roles=STAFF,
         response=ThresholdOut, tags=VOTES, summary="Supports at which SupportThresholdReached is emitted")
    def set_threshold(self, request, slug):
        return use_cases.set_threshold(self.uow, SetThreshold(slug, request.data["threshold"]),
                                       self._fields_of_action)

    # --- rounds ---
    @api("POST", "/api/v1/rounds", body=NewRound, roles=STAFF, status=201, response=RoundOut, tags=ROUNDS,
         summary="Open a voting round for a municipality (optionally one field of action)")
    def open_round(self, request):
        return use_cases.open_round(self.uow, OpenRound(**request.data), self._fields_of_action)

    @api("GET", "/api/v1/rounds", query=RoundQuery, response=RoundOut(many=True), tags=ROUNDS)
    def list_rounds(self, request):
        query = request.query_data
        return use_cases.list_rounds(self.uow, ListRounds(query["municipality"], open_only=query["open"]))

    @api("GET", "/api/v1/rounds/<uuid:round_id>", response=RoundOut, tags=ROUNDS)
    def show_round(self, request, round_id):
        return use_cases.get_round(self.uow, ShowRound(round_id))

    @api("GET", "/api/v1/rounds/<uuid:round_id>/ballot", roles=AUTHENTICATED, response=BallotOut, tags=ROUNDS,
         summary="The caller's supports in the round and the budget left")
    def show_ballot(self, request, round_id):
        return use_cases.ballot(self.uow, ShowBallot(round_id, request.principal.subject))

    # --- strategy-board decisions ---
    @api("POST", "/api/v1/decisions", body=NewDecision, roles=STAFF, status=201, response=DecisionOut,
         tags=BOARD_TAG, summary="Put a shortlisted idea before the board")
    def open_decision(self, request):
        body = request.data
        command = OpenDecision(idea_id=body["idea_id"], board=tuple(body["board"]), quorum=body["quorum"],
                               majority_rule=body["majority_rule"], deadline=body["deadline"],
                               opened_by=request.principal.subject)
        return use_cases.open_decision(self.uow, command, self.support_threshold)

    @api("GET", "/api/v1/decisions", query=DecisionQuery, response=DecisionOut(many=True), tags=BOARD_TAG)
    def list_decisions(self, request):
        return use_cases.list_decisions(self.uow, ListDecisions(**request.query_data))

    @api("GET", "/api/v1/decisions/<uuid:decision_id>", response=DecisionOut, tags=BOARD_TAG)
    def show_decision(self, request, decision_id):
        return use_cases.get_decision(self.uow, ShowDecision(decision_id))

    @api("PUT", "/api/v1/decisions/<uuid:decision_id>/votes/me", body=BoardVoteBody, roles=BOARD,
         response=DecisionOut, tags=BOARD_TAG, summary="A board member votes yes, no or abstain (changeable)")
    def board_vote(self, request, decision_id):
        command = CastBoardVote(decision_id, request.principal.subject, request.data["choice"])
        return use_cases.cast_board_vote(self.uow, command)

    @api("POST", "/api/v1/decisions/<uuid:decision_id>/close", roles=STAFF, response=DecisionOut, tags=BOARD_TAG,
         summary="Close now (again: unchanged, no second event)")
    def close_decision(self, request, decision_id):
        return use_cases.close_decision(self.uow, CloseDecision(decision_id, request.principal.subject))

    @every("DECISION_CHECK_SECONDS", 30, eager=True)
    def close_due_decisions(self):
        use_cases.close_due_decisions(self.uow)

    # --- events from the ideas service (False: a redelivery, applied before) ---
    @subscribe("ideas", "IdeaPublished")
    def on_idea_published(self, event):
        return use_cases.track_idea(self.uow, _track_idea(event))

    @subscribe("ideas", "IdeaRejected")
    def on_idea_rejected(self, event):
        return use_cases.track_idea(self.uow, _track_idea(event))

    @subscribe("ideas", "IdeaStatusChanged")
    def on_idea_status_changed(self, event):
        return use_cases.track_idea(self.uow, _track_idea(event))
