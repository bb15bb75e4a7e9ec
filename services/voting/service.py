"""The voting service's nameko entrypoints: translate HTTP, events and timers into use cases."""
import eventlet
from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy

from shared.config import Setting
from shared.db import Database
from shared.errors import NotFound, Unavailable
from shared.ops import OpsEndpoints
from shared.outbox import Outbox
from shared.subscriber import subscribe
from shared.timer import every
from shared.web import AUTHENTICATED, api

from . import handlers
from .schemas import (BallotOut, BoardVoteBody, DecisionOut, DecisionQuery, NewDecision, NewRound, RankedIdeaOut,
                      RankingQuery, RoundOut, RoundQuery, ThresholdBody, ThresholdOut, VotableIdeaOut, VoteOut)

CITIZENS, STAFF, BOARD = ("citizen",), ("staff",), ("board_member",)
VOTES, ROUNDS, BOARD_TAG = ["support votes"], ["rounds"], ["board decisions"]
RPC_TIMEOUT_SECONDS = 5


class VotingService(OpsEndpoints):
    name = "voting"

    db = Database()
    outbox = Outbox()
    ideas = RpcProxy("ideas")
    support_threshold = Setting("SUPPORT_THRESHOLD", 50, int)

    def _fields_of_action(self, municipality):
        """The ideas service's fields of action for a municipality (NotFound when it has none)."""
        try:
            with eventlet.Timeout(RPC_TIMEOUT_SECONDS):
                return self.ideas.fields_of_action(municipality)
        except RemoteError as exc:
            if exc.exc_type == "NotFound":
                raise NotFound("municipality") from None
            raise
        except eventlet.Timeout:
            raise Unavailable("the ideas service did not answer; try again") from None

    # --- votable ideas and rankings ---
    @api("GET", "/api/v1/ideas/<uuid:idea_id>", response=VotableIdeaOut, tags=VOTES,
         summary="An idea's support: total, threshold, ledger head")
    def show_idea(self, request, idea_id):
        return handlers.get_idea(self.db, idea_id, self.support_threshold)

    @api("GET", "/api/v1/rankings", query=RankingQuery, response=RankedIdeaOut(many=True), tags=VOTES,
         summary="Ideas by support; ties: earlier to reach the total first, then idea id")
    def rankings(self, request):
        return handlers.rankings(self.db, request.query_data)

    @api("POST", "/api/v1/ideas/<uuid:idea_id>/votes", roles=CITIZENS, response=VoteOut, tags=VOTES,
         summary="Support an idea (again: same result, no second vote)")
    def cast_vote(self, request, idea_id):
        return handlers.cast_vote(self.db, self.outbox, idea_id, request.principal.subject, self.support_threshold)

    @api("DELETE", "/api/v1/ideas/<uuid:idea_id>/votes", roles=CITIZENS, response=VoteOut, tags=VOTES,
         summary="Withdraw support while its round is open")
    def withdraw_vote(self, request, idea_id):
        return handlers.withdraw_vote(self.db, self.outbox, idea_id, request.principal.subject,
                                      self.support_threshold)

    @api("GET", "/api/v1/municipalities/<slug>/support-threshold", response=ThresholdOut, tags=VOTES)
    def show_threshold(self, request, slug):
        return handlers.threshold(self.db, slug, self.support_threshold)

    @api("PUT", "/api/v1/municipalities/<slug>/support-threshold", body=ThresholdBody, roles=STAFF,
         response=ThresholdOut, tags=VOTES, summary="Supports at which SupportThresholdReached is emitted")
    def set_threshold(self, request, slug):
        self._fields_of_action(slug)  # 404 for an unknown municipality
        return handlers.set_threshold(self.db, slug, request.data["threshold"])

    # --- rounds ---
    @api("POST", "/api/v1/rounds", body=NewRound, roles=STAFF, status=201, response=RoundOut, tags=ROUNDS,
         summary="Open a voting round for a municipality (optionally one field of action)")
    def open_round(self, request):
        return handlers.open_round(self.db, self._fields_of_action, request.data)

    @api("GET", "/api/v1/rounds", query=RoundQuery, response=RoundOut(many=True), tags=ROUNDS)
    def list_rounds(self, request):
        return handlers.list_rounds(self.db, request.query_data)

    @api("GET", "/api/v1/rounds/<uuid:round_id>", response=RoundOut, tags=ROUNDS)
    def show_round(self, request, round_id):
        return handlers.get_round(self.db, round_id)

    @api("GET", "/api/v1/rounds/<uuid:round_id>/ballot", roles=AUTHENTICATED, response=BallotOut, tags=ROUNDS,
         summary="The caller's supports in the round and the budget left")
    def show_ballot(self, request, round_id):
        return handlers.ballot(self.db, round_id, request.principal.subject)

    # --- strategy-board decisions ---
    @api("POST", "/api/v1/decisions", body=NewDecision, roles=STAFF, status=201, response=DecisionOut,
         tags=BOARD_TAG, summary="Put a shortlisted idea before the board")
    def open_decision(self, request):
        return handlers.open_decision(self.db, request.principal.subject, request.data, self.support_threshold)

    @api("GET", "/api/v1/decisions", query=DecisionQuery, response=DecisionOut(many=True), tags=BOARD_TAG)
    def list_decisions(self, request):
        return handlers.list_decisions(self.db, request.query_data)

    @api("GET", "/api/v1/decisions/<uuid:decision_id>", response=DecisionOut, tags=BOARD_TAG)
    def show_decision(self, request, decision_id):
        return handlers.get_decision(self.db, decision_id)

    @api("PUT", "/api/v1/decisions/<uuid:decision_id>/votes/me", body=BoardVoteBody, roles=BOARD,
         response=DecisionOut, tags=BOARD_TAG, summary="A board member votes yes, no or abstain (changeable)")
    def board_vote(self, request, decision_id):
        return handlers.cast_board_vote(self.db, self.outbox, decision_id, request.principal.subject,
                                        request.data["choice"])

    @api("POST", "/api/v1/decisions/<uuid:decision_id>/close", roles=STAFF, response=DecisionOut, tags=BOARD_TAG,
         summary="Close now (again: unchanged, no second event)")
    def close_decision(self, request, decision_id):
        return handlers.close_decision(self.db, self.outbox, decision_id, request.principal.subject)

    @every("DECISION_CHECK_SECONDS", 30, eager=True)
    def close_due_decisions(self):
        handlers.close_due_decisions(self.db, self.outbox)

    # --- events from the ideas service ---
    @subscribe("ideas", "IdeaPublished")
    def on_idea_published(self, event):
        return handlers.track_idea(self.db, event)

    @subscribe("ideas", "IdeaRejected")
    def on_idea_rejected(self, event):
        return handlers.track_idea(self.db, event)

    @subscribe("ideas", "IdeaStatusChanged")
    def on_idea_status_changed(self, event):
        return handlers.track_idea(self.db, event)


SERVICE = VotingService
