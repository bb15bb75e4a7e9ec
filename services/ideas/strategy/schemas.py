"""Request and response schemas of sub-concepts and the strategy draft."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.domain import municipal_today, utc_now
from shared.validation import Slug, Strict, Text

from .domain import COUNCIL_OUTCOMES, RETURNED, sub_concept_status


# --- requests ---------------------------------------------------------------------------

class NewSubConcept(Strict):
    working_group_id = fields.UUID(required=True, metadata={"description": "the working group that drafts it"})
    title = Text(3, 200, required=True)
    summary = Text(1, 5000, load_default=None, allow_none=True)
    field_of_action = Slug(load_default=None, allow_none=True)


class IdeaToIntegrate(Strict):
    idea_id = fields.UUID(required=True, metadata={"description": "a public idea of the sub-concept's municipality"})


class MunicipalityQuery(Strict):
    municipality = Slug(required=True)


class NewStrategy(Strict):
    municipality = Slug(required=True)
    title = Text(3, 200, required=True)


class NewVersion(Strict):
    sub_concept_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=100),
                                  metadata={"description": "submitted sub-concepts the draft links, in order"})
    summary = Text(3, 5000, required=True)
    feedback_until = fields.AwareDateTime(required=True, metadata={"description": "end of the feedback window"})


class CouncilDecision(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(COUNCIL_OUTCOMES))
    council_date = fields.Date(required=True, metadata={"description": "the council meeting's date"})
    reason = Text(3, 1000, load_default=None, allow_none=True, metadata={"description": "required when returned"})

    @validates_schema
    def reason_when_returned(self, data, **kwargs):
        if data.get("outcome") == RETURNED and not data.get("reason"):
            raise ValidationError("a returned strategy needs a reason", "reason")

    @validates_schema
    def not_in_future(self, data, **kwargs):
        if data.get("council_date") and data["council_date"] > municipal_today(utc_now()):
            raise ValidationError("must not be in the future", "council_date")


# --- responses --------------------------------------------------------------------------

class IntegratedIdeaOut(Strict):
    id = fields.UUID()
    title = fields.String()
    field_of_action = fields.String()
    status = fields.String(metadata={"description": "unchanged by the integration"})
    integrated_at = fields.DateTime()


class SubConceptOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    working_group_id = fields.UUID()
    title = fields.String()
    summary = fields.String(allow_none=True)
    field_of_action = fields.String(allow_none=True)
    status = fields.Function(sub_concept_status, metadata={"description": "draft or submitted"})
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    idea_count = fields.Integer()


class SubConceptDetailOut(SubConceptOut):
    ideas = fields.List(fields.Nested(IntegratedIdeaOut))


class LinkedSubConceptOut(Strict):
    id = fields.UUID()
    title = fields.String()
    working_group_id = fields.UUID()


class VersionOut(Strict):
    strategy_id = fields.UUID()
    version = fields.Integer()
    summary = fields.String()
    sub_concepts = fields.List(fields.Nested(LinkedSubConceptOut))
    published_at = fields.DateTime()
    feedback_until = fields.DateTime()
    feedback_closed_at = fields.DateTime(allow_none=True)
    comments = fields.Integer(allow_none=True, metadata={"description": "comments received, counted at closing"})
    council_outcome = fields.String(allow_none=True, metadata={"description": "adopted, returned or null"})
    council_date = fields.Date(allow_none=True)
    council_reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class StrategyOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    title = fields.String()
    created_at = fields.DateTime()
    adopted_at = fields.DateTime(allow_none=True)
    versions = fields.List(fields.Nested(VersionOut), metadata={"description": "oldest first"})
