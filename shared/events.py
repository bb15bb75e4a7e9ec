"""The event catalogue: one marshmallow schema per event type, for every service.

This module is the contract. docs/events/ (AsyncAPI and JSON Schemas) is generated from it
and a test fails when the two drift. Within a version, changes are additive only.
Events never carry personal data: people appear only as their opaque token subject.
"""
from marshmallow import EXCLUDE, Schema, fields, validate

from shared.domain import STATUSES

CHANNELS = ("form", "profile", "competition", "workshop")


class EventData(Schema):
    class Meta:
        unknown = EXCLUDE  # additive changes must not break older consumers
        ordered = True


def _id(**kw):
    return fields.UUID(required=True, **kw)


def _slug(**kw):
    return fields.String(required=True, validate=validate.Length(min=1, max=64), **kw)


def _when(**kw):
    return fields.AwareDateTime(required=True, format="iso", **kw)


class Location(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class IdeaRef(EventData):
    idea_id = _id()
    municipality = _slug()
    field_of_action = _slug()


class IdeaSubmitted(IdeaRef):
    """A citizen submitted an idea; it awaits moderation (the description is not public yet)."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    working_group = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=100))
    location = fields.Nested(Location, allow_none=True, load_default=None)
    author_id = fields.String(required=True, metadata={"description": "opaque subject of the author's token"})
    submitted_at = _when()


class IdeaPublished(IdeaRef):
    """A moderator published an idea: it is public and can be supported."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    working_group = fields.String(allow_none=True, load_default=None)
    author_id = fields.String(required=True)
    published_at = _when()


class IdeaRejected(IdeaRef):
    """A moderator rejected an idea, with the reason shown to its author."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    author_id = fields.String(required=True)
    rejected_at = _when()


class IdeaStatusChanged(IdeaRef):
    """An idea moved along the workflow after moderation (staff, or the board's decision)."""

    from_status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    to_status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    cause = fields.String(required=True, validate=validate.OneOf(("staff", "board")))
    reason = fields.String(allow_none=True, load_default=None)
    decision_id = fields.UUID(allow_none=True, load_default=None)
    author_id = fields.String(required=True)
    changed_at = _when()


class MilestoneData(EventData):
    milestone_id = _id()
    municipality = _slug()
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_date = fields.Date(required=True)
    idea_id = fields.UUID(allow_none=True, load_default=None, metadata={"description": "the pilot, if not strategy-wide"})


class MilestoneScheduled(MilestoneData):
    scheduled_at = _when()


class MilestoneReached(MilestoneData):
    reached_at = _when()
    on_time = fields.Boolean(required=True)


class MilestoneOverdue(MilestoneData):
    """Emitted exactly once, the first day after the due date passed unreached."""

    detected_at = _when()


class VoteTotal(IdeaRef):
    round_id = _id()
    total = fields.Integer(required=True, validate=validate.Range(min=0))
    ledger_seq = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1), metadata={
        "description": "position of this vote in the idea's hash-chained ledger"})
    ledger_hash = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(r"^[0-9a-f]{64}$"),
                                metadata={"description": "SHA-256 head of the idea's ledger after this vote; "
                                                         "keep it to detect a rewritten history later",
                                          "example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"})


class VoteCast(VoteTotal):
    """A citizen supported an idea. Carries the new total, never the voter."""

    cast_at = _when()


class VoteWithdrawn(VoteTotal):
    withdrawn_at = _when()


class SupportThresholdReached(IdeaRef):
    threshold = fields.Integer(required=True, validate=validate.Range(min=1))
    total = fields.Integer(required=True, validate=validate.Range(min=0))
    reached_at = _when()


class Tally(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    yes = fields.Integer(required=True, validate=validate.Range(min=0))
    no = fields.Integer(required=True, validate=validate.Range(min=0))
    abstain = fields.Integer(required=True, validate=validate.Range(min=0))


class BoardDecision(IdeaRef):
    decision_id = _id()
    tally = fields.Nested(Tally, required=True)
    board_size = fields.Integer(required=True, validate=validate.Range(min=1))
    quorum = fields.Integer(required=True, validate=validate.Range(min=1))
    quorum_met = fields.Boolean(required=True)
    majority_rule = fields.String(required=True, validate=validate.OneOf(("simple", "two_thirds", "absolute")))
    decided_at = _when()


class PilotApproved(BoardDecision):
    """The strategy board (Strategiekreis) chose the idea as a pilot project."""


class PilotRejected(BoardDecision):
    reason = fields.String(required=True, validate=validate.OneOf(("majority", "no_quorum")))


class NotificationOutcome(EventData):
    notification_id = _id()
    channel = fields.String(required=True, validate=validate.OneOf(("email", "webhook", "feed")))
    trigger_event_id = fields.String(required=True)
    trigger_type = fields.String(required=True)


class NotificationSent(NotificationOutcome):
    sent_at = _when()


class NotificationFailed(NotificationOutcome):
    error = fields.String(required=True, validate=validate.Length(max=500))
    attempts = fields.Integer(required=True, validate=validate.Range(min=1))
    failed_at = _when()


# event type -> (emitting service, schema class). Names are contract: keep them exactly.
CATALOGUE = {
    "IdeaSubmitted": ("ideas", IdeaSubmitted),
    "IdeaPublished": ("ideas", IdeaPublished),
    "IdeaRejected": ("ideas", IdeaRejected),
    "IdeaStatusChanged": ("ideas", IdeaStatusChanged),
    "MilestoneScheduled": ("ideas", MilestoneScheduled),
    "MilestoneReached": ("ideas", MilestoneReached),
    "MilestoneOverdue": ("ideas", MilestoneOverdue),
    "VoteCast": ("voting", VoteCast),
    "VoteWithdrawn": ("voting", VoteWithdrawn),
    "SupportThresholdReached": ("voting", SupportThresholdReached),
    "PilotApproved": ("voting", PilotApproved),
    "PilotRejected": ("voting", PilotRejected),
    "NotificationSent": ("notifications", NotificationSent),
    "NotificationFailed": ("notifications", NotificationFailed),
}

_instances = {name: cls() for name, (_, cls) in CATALOGUE.items()}


def schema_for(event_type):
    """The data schema of an event type; KeyError for an unknown type."""
    return _instances[event_type]


def service_of(event_type):
    return CATALOGUE[event_type][0]
