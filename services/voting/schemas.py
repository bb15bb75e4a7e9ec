"""HTTP request and response schemas of the voting service."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.domain import STATUSES
from shared.events import Tally
from shared.validation import Slug, Strict, Text

from .domain import CHOICES, DECISION_STATUSES, MAJORITY_RULES, tally


# --- requests ---------------------------------------------------------------------------

class NewRound(Strict):
    municipality = Slug(required=True)
    field_of_action = Slug(load_default=None, allow_none=True,
                           metadata={"description": "only ideas of this field; omit for every field"})
    title = Text(3, 200, required=True)
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)
    budget = fields.Integer(required=True, validate=validate.Range(min=1, max=100),
                            metadata={"description": "how many ideas one citizen may support in this round"})

    @validates_schema
    def closes_after_opening(self, data, **kwargs):
        if "opens_at" in data and "closes_at" in data and data["closes_at"] <= data["opens_at"]:
            raise ValidationError("must be after opens_at", "closes_at")


class RoundQuery(Strict):
    municipality = Slug(required=True)
    open = fields.Boolean(load_default=False, metadata={"description": "only rounds open now"})


class RankingQuery(Strict):
    municipality = Slug(required=True)
    field = Slug(metadata={"description": "field of action slug"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ThresholdBody(Strict):
    threshold = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))


def _unique(members):
    if len(set(members)) != len(members):
        raise ValidationError("members must be distinct")


class NewDecision(Strict):
    idea_id = fields.UUID(required=True)
    board = fields.List(Text(1, 200), required=True, validate=[validate.Length(min=1, max=100), _unique],
                        metadata={"description": "the members' token subjects"})
    quorum = fields.Integer(required=True, validate=validate.Range(min=1),
                            metadata={"description": "members who must vote (abstaining counts) for a valid result"})
    majority_rule = fields.String(load_default="simple", validate=validate.OneOf(MAJORITY_RULES))
    deadline = fields.AwareDateTime(required=True)


class DecisionQuery(Strict):
    idea_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(DECISION_STATUSES))


class BoardVoteBody(Strict):
    choice = fields.String(required=True, validate=validate.OneOf(CHOICES))


# --- responses --------------------------------------------------------------------------

class VotableIdeaOut(Strict):
    idea_id = fields.UUID(attribute="id")
    municipality = fields.String()
    field_of_action = fields.String()
    title = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    total = fields.Integer(metadata={"description": "citizens supporting it now"})
    threshold = fields.Integer(metadata={"description": "its municipality's support threshold"})
    threshold_reached_at = fields.DateTime(allow_none=True)
    ledger_seq = fields.Integer()
    ledger_head = fields.String(metadata={"description": "SHA-256 head of its vote ledger"})


class RankedIdeaOut(Strict):
    rank = fields.Integer()
    idea_id = fields.UUID(attribute="id")
    title = fields.String(allow_none=True)
    field_of_action = fields.String()
    status = fields.String()
    total = fields.Integer()
    total_since = fields.DateTime(allow_none=True, metadata={"description": "when it got this total"})
    published_at = fields.DateTime(allow_none=True, metadata={
        "description": "when it was published (the tie-break); null when voting has not seen its publication"})


class VoteOut(Strict):
    idea_id = fields.UUID()
    round_id = fields.UUID()
    total = fields.Integer()
    supported = fields.Boolean(metadata={"description": "whether the caller supports the idea now"})


class RoundOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String(allow_none=True)
    title = fields.String()
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    budget = fields.Integer()


class BallotOut(Strict):
    round_id = fields.UUID()
    budget = fields.Integer()
    used = fields.Integer()
    remaining = fields.Integer()
    ideas = fields.List(fields.UUID())


class ThresholdOut(Strict):
    municipality = fields.String()
    threshold = fields.Integer()


class DecisionOut(Strict):
    id = fields.UUID()
    idea_id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String()
    board = fields.List(fields.String())
    quorum = fields.Integer()
    majority_rule = fields.String()
    deadline = fields.DateTime()
    opened_at = fields.DateTime()
    status = fields.String(metadata={"description": "open, approved or rejected"})
    reason = fields.String(allow_none=True, metadata={"description": "majority or no_quorum when rejected"})
    quorum_met = fields.Boolean(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    closed_by = fields.String(allow_none=True, metadata={"description": "a staff subject, board or deadline"})
    tally = fields.Method("_tally", metadata={"description": "yes / no / abstain so far"})
    voted = fields.Method("_voted", metadata={"description": "members who have voted (not how)"})

    def _tally(self, decision):
        return Tally().dump(tally(decision["board"], decision["votes"]))

    def _voted(self, decision):
        return sorted(m for m in decision["votes"] if m in decision["board"])
