"""The event catalogue: one marshmallow schema per event type, for every service.

This module is the contract. docs/events/ (AsyncAPI and JSON Schemas) is generated from it
and a test fails when the two drift. Within a version, changes are additive only.
Events never carry personal data: people appear only as their opaque token subject.
"""
from marshmallow import EXCLUDE, Schema, fields, validate

from shared.domain import (COMMENT_TARGETS, COST_CLASSES, GROUP_KINDS, MEETING_KINDS, SPONSOR_KINDS, STATUSES,
                           STRATEGY_STEPS)

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


class IdeaProfile(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    goal = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    target_group = fields.String(required=True, validate=validate.Length(min=1, max=300))
    partners = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list,
                           validate=validate.Length(max=20))
    effort_months = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=120))
    cost_class = fields.String(required=True, validate=validate.OneOf(COST_CLASSES),
                               metadata={"description": "low < 10,000 EUR, medium < 100,000 EUR, high above"})


class IdeaSubmitted(IdeaRef):
    """A citizen submitted an idea; it awaits moderation (the description is not public yet)."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    working_group = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=100))
    location = fields.Nested(Location, allow_none=True, load_default=None)
    author_id = fields.String(required=True, metadata={"description": "opaque subject of the author's token"})
    submitted_at = _when()
    working_group_id = fields.UUID(allow_none=True, load_default=None, metadata={
        "description": "the working group whose topic store holds the idea (`working_group` is its name)"})
    competition_id = fields.UUID(allow_none=True, load_default=None, metadata={
        "description": "the competition the idea was entered into (channel `competition`)"})
    has_profile = fields.Boolean(load_default=False, metadata={"description": "submitted with a profile (Steckbrief)"})


class IdeaPublished(IdeaRef):
    """A moderator published an idea: it is public and can be supported."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    working_group = fields.String(allow_none=True, load_default=None)
    author_id = fields.String(required=True)
    published_at = _when()
    working_group_id = fields.UUID(allow_none=True, load_default=None)
    competition_id = fields.UUID(allow_none=True, load_default=None)
    profile = fields.Nested(IdeaProfile, allow_none=True, load_default=None, metadata={
        "description": "the public part of the idea's profile (Steckbrief); contact consent stays in the service"})


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
    step = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(STRATEGY_STEPS), metadata={
        "description": "the strategy step that reaches this milestone by itself when it happens"})


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
    municipality = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "the municipality of the trigger, when it has one"})


class NotificationSent(NotificationOutcome):
    sent_at = _when()


class NotificationFailed(NotificationOutcome):
    error = fields.String(required=True, validate=validate.Length(max=500))
    attempts = fields.Integer(required=True, validate=validate.Range(min=1))
    failed_at = _when()


# --- the strategy process (ideas): working groups, competitions, sponsors, sub-concepts, strategy ---

class WorkingGroupData(EventData):
    working_group_id = _id()
    municipality = _slug()


class WorkingGroupCreated(WorkingGroupData):
    """Staff set up a working group (Arbeitsgruppe) or the expert group (Fachgruppe) with its topic store."""

    group_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(required=True, validate=validate.OneOf(GROUP_KINDS))
    field_of_action = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=64))
    created_at = _when()


class WorkingGroupMemberAdded(WorkingGroupData):
    member_id = fields.String(required=True, metadata={"description": "opaque subject of the member's token"})
    added_at = _when()


class WorkingGroupMemberRemoved(WorkingGroupData):
    member_id = fields.String(required=True)
    removed_at = _when()


class CompetitionData(EventData):
    competition_id = _id()
    municipality = _slug()
    field_of_action = _slug()


class CompetitionOpened(CompetitionData):
    """Staff opened an idea competition (Ideenwettbewerb): ideas can be entered until it closes."""

    theme = fields.String(required=True, validate=validate.Length(min=1, max=200))
    opens_at = _when()
    closes_at = _when()
    jury_size = fields.Integer(required=True, validate=validate.Range(min=1))
    opened_at = _when()


class CompetitionClosed(CompetitionData):
    entries = fields.Integer(required=True, validate=validate.Range(min=0))
    closed_at = _when()


class CompetitionEntryShortlisted(CompetitionData):
    """The jury shortlisted an entry of the competition."""

    idea_id = _id()
    shortlisted_at = _when()


class SponsorshipData(IdeaRef):
    sponsorship_id = _id()
    sponsor_kind = fields.String(required=True, validate=validate.OneOf(SPONSOR_KINDS))
    sponsor_id = fields.String(required=True, metadata={"description": "opaque subject of the sponsor's token"})


class SponsorOffered(SponsorshipData):
    """Someone offered to sponsor an idea or pilot (Ideenpate); staff decide."""

    offered_at = _when()


class SponsorAccepted(SponsorshipData):
    """Staff accepted a sponsor; the sponsor hears of the idea's progress from now on."""

    public_name = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=200),
                                metadata={"description": "the display name, only when the sponsor consented "
                                                         "to be shown; otherwise null"})
    accepted_at = _when()


class SubConceptData(EventData):
    sub_concept_id = _id()
    municipality = _slug()
    working_group_id = _id()


class SubConceptDrafted(SubConceptData):
    """A working group started a sub-concept (Teilkonzept)."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    field_of_action = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=64))
    drafted_at = _when()


class IdeaIntegrated(IdeaRef):
    """An idea was merged into a sub-concept; it keeps its history and votes."""

    sub_concept_id = _id()
    working_group_id = _id()
    integrated_at = _when()


class SubConceptSubmitted(SubConceptData):
    """The working group handed in its sub-concept for the strategy."""

    ideas = fields.Integer(required=True, validate=validate.Range(min=0), metadata={
        "description": "number of ideas integrated"})
    submitted_at = _when()


class StrategyData(EventData):
    strategy_id = _id()
    municipality = _slug()
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class StrategyDraftPublished(StrategyData):
    """A version of the strategy draft, linking sub-concepts, is public; feedback is open until the given time."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sub_concept_ids = fields.List(fields.UUID(), required=True)
    feedback_until = _when()
    published_at = _when()


class StrategyFeedbackClosed(StrategyData):
    comments = fields.Integer(required=True, validate=validate.Range(min=0))
    closed_at = _when()


class StrategyAdopted(StrategyData):
    """The city council adopted this version of the strategy."""

    council_date = fields.Date(required=True)
    decided_at = _when()


class StrategyReturned(StrategyData):
    """The city council returned this version for changes."""

    council_date = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    decided_at = _when()


# --- feedback (ideas): comments on ideas, sub-concepts and the strategy draft ---

class CommentData(EventData):
    comment_id = _id()
    municipality = _slug()
    target_kind = fields.String(required=True, validate=validate.OneOf(COMMENT_TARGETS))
    target_id = _id()


class CommentPosted(CommentData):
    """A comment arrived; under post-moderation it is visible at once, under pre-moderation after review."""

    parent_id = fields.UUID(allow_none=True, load_default=None, metadata={"description": "the comment replied to"})
    author_id = fields.String(required=True)
    visible = fields.Boolean(required=True)
    posted_at = _when()


class CommentPublished(CommentData):
    """A moderator let a pre-moderated comment through."""

    author_id = fields.String(required=True)
    published_at = _when()


class CommentHidden(CommentData):
    """A moderator hid a comment (rejected in pre-moderation, or removed after reports)."""

    author_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    hidden_at = _when()


class CommentReported(CommentData):
    """Someone reported a comment as abusive; `reports` counts the distinct reporters so far."""

    reports = fields.Integer(required=True, validate=validate.Range(min=1))
    reported_at = _when()


# --- meetings (ideas): theme evenings and plenary meetings ---

class MeetingData(EventData):
    meeting_id = _id()
    municipality = _slug()
    working_group_id = fields.UUID(allow_none=True, load_default=None, metadata={"description": "null: plenary"})


class MeetingScheduled(MeetingData):
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = _when()
    ends_at = _when()
    place = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=300))
    online_url = fields.Url(allow_none=True, load_default=None, schemes={"https"})
    capacity = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))
    scheduled_at = _when()


class MeetingCancelled(MeetingData):
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = _when()
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    cancelled_at = _when()


class MeetingRegistration(MeetingData):
    attendee_id = fields.String(required=True, metadata={"description": "opaque subject of the attendee's token"})
    registered = fields.Integer(required=True, validate=validate.Range(min=0),
                                metadata={"description": "registrations after this change"})
    capacity = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1))


class MeetingRegistered(MeetingRegistration):
    registered_at = _when()


class MeetingRegistrationWithdrawn(MeetingRegistration):
    withdrawn_at = _when()


# --- the citizens' survey (ideas): aggregate results only ---

class SurveyRow(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    question = fields.String(required=True, validate=validate.Length(min=1, max=500))
    answer = fields.String(required=True, validate=validate.Length(min=1, max=500))
    count = fields.Integer(required=True, validate=validate.Range(min=0))


class SurveyResultsImported(EventData):
    """Staff imported a survey's aggregate results (question, answer, count) for a municipality and period."""

    survey_id = _id()
    municipality = _slug()
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    conducted_by = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    rows = fields.List(fields.Nested(SurveyRow), required=True, validate=validate.Length(min=1, max=5000))
    imported_at = _when()


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
    "WorkingGroupCreated": ("ideas", WorkingGroupCreated),
    "WorkingGroupMemberAdded": ("ideas", WorkingGroupMemberAdded),
    "WorkingGroupMemberRemoved": ("ideas", WorkingGroupMemberRemoved),
    "CompetitionOpened": ("ideas", CompetitionOpened),
    "CompetitionClosed": ("ideas", CompetitionClosed),
    "CompetitionEntryShortlisted": ("ideas", CompetitionEntryShortlisted),
    "SponsorOffered": ("ideas", SponsorOffered),
    "SponsorAccepted": ("ideas", SponsorAccepted),
    "SubConceptDrafted": ("ideas", SubConceptDrafted),
    "IdeaIntegrated": ("ideas", IdeaIntegrated),
    "SubConceptSubmitted": ("ideas", SubConceptSubmitted),
    "StrategyDraftPublished": ("ideas", StrategyDraftPublished),
    "StrategyFeedbackClosed": ("ideas", StrategyFeedbackClosed),
    "StrategyAdopted": ("ideas", StrategyAdopted),
    "StrategyReturned": ("ideas", StrategyReturned),
    "CommentPosted": ("ideas", CommentPosted),
    "CommentPublished": ("ideas", CommentPublished),
    "CommentHidden": ("ideas", CommentHidden),
    "CommentReported": ("ideas", CommentReported),
    "MeetingScheduled": ("ideas", MeetingScheduled),
    "MeetingCancelled": ("ideas", MeetingCancelled),
    "MeetingRegistered": ("ideas", MeetingRegistered),
    "MeetingRegistrationWithdrawn": ("ideas", MeetingRegistrationWithdrawn),
    "SurveyResultsImported": ("ideas", SurveyResultsImported),
    "NotificationSent": ("notifications", NotificationSent),
    "NotificationFailed": ("notifications", NotificationFailed),
}

_instances = {name: cls() for name, (_, cls) in CATALOGUE.items()}


def schema_for(event_type):
    """The data schema of an event type; KeyError for an unknown type."""
    return _instances[event_type]


def service_of(event_type):
    return CATALOGUE[event_type][0]
