"""HTTP query and response schemas of the reporting service."""
from marshmallow import fields, validate

from shared.domain import MILESTONE_STATES, STATUSES
from shared.events import CATALOGUE, CHANNELS
from shared.validation import Slug, Strict

from .domain import DECISION_OF, INTERVALS, OUTCOME_OF, PIPELINE_STAGES
from .exports import FORMATS

DELIVERY_CHANNELS = ("email", "webhook", "feed")
EVENT_STATUSES = sorted(set(STATUSES) | set(MILESTONE_STATES) | set(DECISION_OF.values()) | set(OUTCOME_OF.values()))


# --- queries ----------------------------------------------------------------------------

class PlaceQuery(Strict):
    municipality = Slug(metadata={"description": "only this municipality (default: all)"})


class PilotQuery(PlaceQuery):
    stage = fields.String(validate=validate.OneOf(PIPELINE_STAGES))


class MilestoneQuery(PlaceQuery):
    state = fields.String(validate=validate.OneOf(MILESTONE_STATES))
    idea_id = fields.UUID(metadata={"description": "the pilot's milestones"})


class IdeaPath(Strict):
    idea_id = fields.UUID(required=True, metadata={"description": "the idea's id"})


class RankingQuery(PlaceQuery):
    field = Slug(metadata={"description": "field of action slug"})
    round_id = fields.UUID(metadata={"description": "one voting round (default: support summed over rounds)"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class SeriesQuery(PlaceQuery):
    type = fields.String(load_default="IdeaSubmitted", validate=validate.OneOf(sorted(CATALOGUE)),
                         metadata={"description": "the event type counted"})
    field = Slug(metadata={"description": "field of action slug"})
    channel = fields.String(validate=validate.OneOf(CHANNELS + DELIVERY_CHANNELS),
                            metadata={"description": "idea channel, or delivery channel of notifications"})
    status = fields.String(validate=validate.OneOf(EVENT_STATUSES),
                           metadata={"description": "the status, state, decision or outcome the event stands for"})
    from_ = fields.Date(data_key="from", attribute="from",
                        metadata={"description": "first day (municipal calendar); default: `to` minus 29 days"})
    to = fields.Date(metadata={"description": "last day, inclusive; default: today"})
    interval = fields.String(load_default="day", validate=validate.OneOf(INTERVALS))
    group_by = fields.String(validate=validate.OneOf(("municipality", "field_of_action", "channel", "status")),
                             metadata={"description": "one series per value of this dimension"})


class MeetingQuery(PlaceQuery):
    working_group_id = fields.UUID(metadata={"description": "only this working group's meetings"})
    upcoming = fields.Boolean(load_default=False, metadata={"description": "only meetings not over yet"})


class ExportQuery(PlaceQuery):
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))


# --- responses --------------------------------------------------------------------------

Counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class IdeaTotals(Strict):
    total = fields.Integer()
    by_status = Counts
    by_channel = Counts
    by_field = Counts


class VoteTotals(Strict):
    cast = fields.Integer(metadata={"description": "VoteCast events"})
    withdrawn = fields.Integer()
    support = fields.Integer(metadata={"description": "current support: the latest totals summed"})


class Pipeline(Strict):
    shortlisted = fields.Integer()
    approved = fields.Integer()
    rejected = fields.Integer()
    in_implementation = fields.Integer()
    completed = fields.Integer()


class MilestoneStats(Strict):
    scheduled = fields.Integer()
    reached = fields.Integer()
    overdue = fields.Integer()
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "reached on time / reached"})


class SummaryOut(Strict):
    municipality = fields.String(allow_none=True)
    ideas = fields.Nested(IdeaTotals)
    votes = fields.Nested(VoteTotals)
    pilots = fields.Nested(Pipeline)
    milestones = fields.Nested(MilestoneStats)
    notifications = fields.Dict(keys=fields.String(), values=Counts, metadata={
        "description": "sent / failed per delivery channel, of notifications whose trigger is of the place"})
    participants = fields.Integer(metadata={"description": "distinct pseudonymous idea authors"})
    events_applied = fields.Integer()
    last_event_time = fields.DateTime(allow_none=True)
    last_applied_at = fields.DateTime(allow_none=True)


class FieldOut(Strict):
    municipality = fields.String()
    field_of_action = fields.String()
    ideas = fields.Integer()
    by_status = Counts
    votes_cast = fields.Integer()
    support = fields.Integer()
    pilots = Counts


class PilotOut(Strict):
    idea_id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String()
    title = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    stage = fields.String()
    decision = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    yes = fields.Integer(allow_none=True)
    no = fields.Integer(allow_none=True)
    abstain = fields.Integer(allow_none=True)
    quorum_met = fields.Boolean(allow_none=True)
    milestones = fields.Integer()
    milestones_reached = fields.Integer()


class PilotsOut(Strict):
    pipeline = fields.Nested(Pipeline)
    items = fields.List(fields.Nested(PilotOut))


class MilestoneOut(Strict):
    milestone_id = fields.UUID()
    municipality = fields.String()
    idea_id = fields.UUID(allow_none=True)
    title = fields.String()
    due_date = fields.Date()
    state = fields.String()
    reached_at = fields.DateTime(allow_none=True)
    on_time = fields.Boolean(allow_none=True)
    overdue_at = fields.DateTime(allow_none=True)


class MilestonesOut(Strict):
    stats = fields.Nested(MilestoneStats)
    items = fields.List(fields.Nested(MilestoneOut))


class RankingOut(Strict):
    rank = fields.Integer()
    idea_id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String()
    title = fields.String(allow_none=True)
    support = fields.Integer()
    threshold_reached_at = fields.DateTime(allow_none=True)


class Point(Strict):
    start = fields.DateTime()
    events = fields.Integer()


class Series(Strict):
    key = fields.String(metadata={"description": "the group_by value ('' without group_by)"})
    points = fields.List(fields.Nested(Point))


class SeriesOut(Strict):
    type = fields.String()
    interval = fields.String()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    group_by = fields.String(allow_none=True)
    series = fields.List(fields.Nested(Series))


class DatasetOut(Strict):
    name = fields.String()
    description = fields.String()
    columns = fields.Dict(keys=fields.String(), values=fields.String())
    formats = fields.List(fields.String())


# --- the strategy process ---------------------------------------------------------------

def _maybe(field_class, **kw):
    return field_class(allow_none=True, **kw)


class WorkingGroupOut(Strict):
    working_group_id = fields.UUID()
    municipality = fields.String()
    name = _maybe(fields.String)
    kind = _maybe(fields.String)
    field_of_action = _maybe(fields.String)
    created_at = _maybe(fields.DateTime)
    members = fields.Integer()
    ideas = fields.Integer(metadata={"description": "ideas in the group's topic store"})
    public_ideas = fields.Integer()
    sub_concepts = fields.Integer()


class CompetitionOut(Strict):
    competition_id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String()
    theme = _maybe(fields.String)
    opens_at = _maybe(fields.DateTime)
    closes_at = _maybe(fields.DateTime)
    closed_at = _maybe(fields.DateTime)
    state = fields.String(metadata={"description": "upcoming, open or closed"})
    jury_size = _maybe(fields.Integer)
    entries = fields.Integer()
    shortlisted = fields.Integer()


class SponsorOut(Strict):
    sponsorship_id = fields.UUID()
    idea_id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String()
    sponsor_kind = fields.String()
    public_name = _maybe(fields.String, metadata={"description": "only when the sponsor consented"})
    accepted_at = fields.DateTime()


class SubConceptOut(Strict):
    sub_concept_id = fields.UUID()
    municipality = fields.String()
    working_group_id = fields.UUID()
    working_group = _maybe(fields.String, metadata={"description": "the group's name"})
    title = _maybe(fields.String)
    field_of_action = _maybe(fields.String)
    drafted_at = _maybe(fields.DateTime)
    submitted_at = _maybe(fields.DateTime)
    ideas = fields.Integer(metadata={"description": "ideas integrated"})
    idea_ids = fields.List(fields.UUID())
    comments = fields.Integer(metadata={"description": "public comments"})


class StrategyVersionOut(Strict):
    version = fields.Integer()
    title = _maybe(fields.String)
    status = fields.String(metadata={"description": "draft, feedback, adopted or returned"})
    sub_concept_ids = fields.List(fields.UUID())
    published_at = _maybe(fields.DateTime)
    feedback_until = _maybe(fields.DateTime)
    feedback_closed_at = _maybe(fields.DateTime)
    comments_at_close = _maybe(fields.Integer)
    outcome = _maybe(fields.String)
    council_date = _maybe(fields.Date)
    reason = _maybe(fields.String)
    decided_at = _maybe(fields.DateTime)


class StrategyOut(Strict):
    strategy_id = fields.UUID()
    municipality = fields.String()
    title = _maybe(fields.String)
    status = fields.String(metadata={"description": "the latest version's"})
    comments = fields.Integer(metadata={"description": "public comments on the strategy"})
    versions = fields.List(fields.Nested(StrategyVersionOut))


class CommentTotals(Strict):
    published = fields.Integer()
    pending = fields.Integer()
    hidden = fields.Integer()
    reported = fields.Integer()


class CommentTargetOut(CommentTotals):
    target_kind = fields.String()
    target_id = fields.UUID()


class CommentsOut(Strict):
    totals = fields.Nested(CommentTotals)
    targets = fields.List(fields.Nested(CommentTargetOut))


class MeetingOut(Strict):
    meeting_id = fields.UUID()
    municipality = fields.String()
    working_group_id = _maybe(fields.UUID)
    kind = _maybe(fields.String)
    title = _maybe(fields.String)
    starts_at = _maybe(fields.DateTime)
    ends_at = _maybe(fields.DateTime)
    place = _maybe(fields.String)
    online_url = _maybe(fields.String)
    capacity = _maybe(fields.Integer)
    registered = fields.Integer()
    state = fields.String(metadata={"description": "scheduled or cancelled"})
    cancel_reason = _maybe(fields.String)


class SurveyResultOut(Strict):
    position = fields.Integer()
    question = fields.String()
    answer = fields.String()
    count = fields.Integer()


class SurveyOut(Strict):
    survey_id = fields.UUID()
    municipality = fields.String()
    title = fields.String()
    conducted_by = _maybe(fields.String)
    period_start = fields.Date()
    period_end = fields.Date()
    imported_at = fields.DateTime()
    results = fields.List(fields.Nested(SurveyResultOut))
