"""Request and response schemas of the ideas service (HTTP bodies and queries, RPC arguments)."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from shared.domain import COST_CLASSES, STATUSES, STRATEGY_STEPS, milestone_state, utc_now
from shared.events import CHANNELS, Location
from shared.validation import Slug, Strict, Text


# --- requests ---------------------------------------------------------------------------

class NewProfile(Strict):
    """An idea's profile (Steckbrief): what it wants, for whom, with whom, at what effort."""

    class Meta(Strict.Meta):
        unknown = RAISE  # the top-level `unknown` does not reach nested schemas

    goal = Text(3, 1000, required=True)
    target_group = Text(2, 300, required=True)
    partners = fields.List(Text(1, 200), load_default=list, validate=validate.Length(max=20))
    effort_months = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=120),
                                   metadata={"description": "expected effort in months"})
    cost_class = fields.String(required=True, validate=validate.OneOf(COST_CLASSES),
                               metadata={"description": "low < 10,000 EUR, medium < 100,000 EUR, high above"})
    contact_consent = fields.Boolean(required=True, metadata={
        "description": "the author agrees to be contacted about the idea; never public"})


class NewIdea(Strict):
    municipality = Slug(required=True)
    title = Text(3, 200, required=True)
    description = Text(10, 5000, required=True)
    field_of_action = Slug(required=True)
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS), metadata={
        "description": "default: competition with competition_id, profile with a profile, else form"})
    working_group_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "the working group (of this municipality) whose topic store holds the idea"})
    working_group = Text(1, 100, load_default=None, allow_none=True,
                         metadata={"description": "the group by its name (case-insensitive); must exist"})
    location = fields.Nested(Location, load_default=None, allow_none=True,
                             metadata={"description": "within the municipality"})
    competition_id = fields.UUID(load_default=None, allow_none=True,
                                 metadata={"description": "enter the idea into this open competition"})
    profile = fields.Nested(NewProfile, load_default=None, allow_none=True)


class IdeaQuery(Strict):
    municipality = Slug()
    field = Slug(metadata={"description": "field of action slug"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    working_group = Text(1, 100, metadata={"description": "the group's name"})
    working_group_id = fields.UUID()
    q = Text(1, 200, metadata={"description": "full-text search (German stemming) in title and description"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class Moderation(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(("publish", "reject")))
    reason = Text(3, 1000, load_default=None, allow_none=True, metadata={"description": "required to reject"})

    @validates_schema
    def reason_to_reject(self, data, **kwargs):
        if data["decision"] == "reject" and not data.get("reason"):
            raise ValidationError("a rejection needs a reason", "reason")


class StatusChange(Strict):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = Text(3, 1000, load_default=None, allow_none=True)


class NewMilestone(Strict):
    municipality = Slug(required=True)
    title = Text(3, 200, required=True)
    description = Text(1, 2000, load_default=None, allow_none=True)
    due_date = fields.Date(required=True)
    idea_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "the pilot; omit for strategy-wide"})
    step = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STRATEGY_STEPS), metadata={
        "description": "a strategy step that reaches this (strategy-wide) milestone when it happens"})

    @validates_schema
    def step_is_strategy_wide(self, data, **kwargs):
        if data.get("step") and data.get("idea_id"):
            raise ValidationError("a milestone tied to a strategy step is strategy-wide: no idea_id", "step")


class MilestoneReachedBody(Strict):
    reached_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"description": "when it was reached; default now"})

    @validates_schema
    def not_in_future(self, data, **kwargs):
        if data.get("reached_at") and data["reached_at"] > utc_now():
            raise ValidationError("must not be in the future", "reached_at")


class MilestoneQuery(Strict):
    municipality = Slug()
    idea_id = fields.UUID()


# --- RPC arguments (other services call with plain JSON values) -----------------------------

class IdeaIdArg(Schema):
    idea_id = fields.UUID(required=True)


class MunicipalityArg(Schema):
    municipality = Slug(required=True)


# --- responses --------------------------------------------------------------------------

class FieldOut(Strict):
    slug = fields.String()
    name = fields.String(metadata={"description": "German name"})
    name_en = fields.String(metadata={"description": "English name"})


class MunicipalityOut(Strict):
    slug = fields.String()
    name = fields.String(metadata={"description": "German name"})
    name_en = fields.String(metadata={"description": "English name"})
    state = fields.String()


class PlaceOut(MunicipalityOut):
    fields = fields.List(fields.Nested(FieldOut))


class TopicStoreOut(Strict):
    id = fields.UUID(metadata={"description": "the working group"})
    name = fields.String(metadata={"description": "working group"})
    kind = fields.String(metadata={"description": "working_group or expert_group"})
    field_of_action = fields.String(allow_none=True)
    ideas = fields.Integer()


class ProfileOut(Strict):
    goal = fields.String()
    target_group = fields.String()
    partners = fields.List(fields.String())
    effort_months = fields.Integer(allow_none=True)
    cost_class = fields.String()
    contact_consent = fields.Boolean(metadata={"description": "shown to the author, moderators and staff only"})


class IdeaOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String()
    title = fields.String()
    description = fields.String()
    channel = fields.String()
    working_group = fields.String(allow_none=True, metadata={"description": "the working group's name"})
    working_group_id = fields.UUID(allow_none=True)
    competition_id = fields.UUID(allow_none=True)
    profile = fields.Nested(ProfileOut, allow_none=True)
    location = fields.Method("_location", metadata={"description": "{lat, lon} or null"})
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    sub_concept_id = fields.UUID(allow_none=True, dump_default=None,
                                 metadata={"description": "the sub-concept it was integrated into"})

    def _location(self, idea):
        return None if idea.get("lat") is None else {"lat": idea["lat"], "lon": idea["lon"]}


class IdeaPage(Strict):
    items = fields.List(fields.Nested(IdeaOut))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class MilestoneOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    idea_id = fields.UUID(allow_none=True)
    title = fields.String()
    description = fields.String(allow_none=True)
    due_date = fields.Date()
    step = fields.String(allow_none=True, metadata={"description": "the strategy step that reaches it, if any"})
    state = fields.Method("_state", metadata={"description": "scheduled, reached or overdue"})
    reached_at = fields.DateTime(allow_none=True)
    overdue_at = fields.DateTime(allow_none=True)

    def _state(self, milestone):
        return milestone_state(milestone["reached_at"], milestone["overdue_at"])
