"""Request and response schemas of competitions."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.auth import MAX_SUBJECT_LENGTH
from shared.validation import Slug, Strict, Text


class NewCompetition(Strict):
    municipality = Slug(required=True)
    field_of_action = Slug(required=True)
    theme = Text(3, 200, required=True)
    opens_at = fields.AwareDateTime(required=True, metadata={"description": "entries from (inclusive)"})
    closes_at = fields.AwareDateTime(required=True, metadata={"description": "entries until (exclusive); a timer "
                                                                             "closes the competition then"})
    jury = fields.List(Text(1, MAX_SUBJECT_LENGTH), required=True, validate=validate.Length(min=1, max=50),
                       metadata={"description": "the jurors' token subjects"})

    @validates_schema
    def window(self, data, **kwargs):
        if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
            raise ValidationError("must be after opens_at", "closes_at")


class CompetitionQuery(Strict):
    municipality = Slug()


class Shortlisting(Strict):
    idea_id = fields.UUID(required=True, metadata={"description": "an entry of this competition"})


class EntryOut(Strict):
    id = fields.UUID()
    title = fields.String()
    field_of_action = fields.String()
    status = fields.String()
    shortlisted = fields.Boolean()


class CompetitionOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    field_of_action = fields.String()
    theme = fields.String()
    opens_at = fields.DateTime()
    closes_at = fields.DateTime()
    state = fields.String(metadata={"description": "upcoming, open or closed"})
    closed_at = fields.DateTime(allow_none=True)
    jury_size = fields.Integer()
    entry_count = fields.Integer()
    entries = fields.List(fields.Nested(EntryOut), metadata={"description": "the entries (jury and staff only)"})
