"""Request and response schemas of the meeting endpoints."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.domain import MEETING_KINDS
from shared.validation import Slug, Strict, Text

from . import domain


class NewMeeting(Strict):
    municipality = Slug(required=True)
    working_group_id = fields.UUID(load_default=None, allow_none=True,
                                   metadata={"description": "the working group; omit for a municipality-wide meeting"})
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    title = Text(3, 200, required=True)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "in the future, with a UTC offset"})
    ends_at = fields.AwareDateTime(required=True, metadata={"description": "after starts_at, at most 24 hours later"})
    place = Text(1, 300, load_default=None, allow_none=True, metadata={"description": "place or online_url, or both"})
    online_url = fields.Url(load_default=None, allow_none=True, schemes={"https"},
                            validate=validate.Length(max=500), metadata={"description": "an https link"})
    capacity = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100_000),
                              metadata={"description": "places; omit for no cap"})

    @validates_schema
    def somewhere(self, data, **kwargs):
        if not data.get("place") and not data.get("online_url"):
            raise ValidationError("give a place, an online_url or both", "place")


class MeetingQuery(Strict):
    municipality = Slug()
    working_group_id = fields.UUID()
    upcoming = fields.Boolean(load_default=False,
                              metadata={"description": "only meetings not cancelled and not over yet"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class Cancellation(Strict):
    reason = Text(3, 1000, required=True, metadata={"description": "told to everyone registered and in the calendar"})


class MeetingOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    working_group_id = fields.UUID(allow_none=True)
    working_group = fields.String(allow_none=True, metadata={"description": "the working group's name"})
    kind = fields.String()
    title = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    place = fields.String(allow_none=True)
    online_url = fields.String(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    registered = fields.Integer(metadata={"description": "registrations so far"})
    status = fields.Function(domain.status, metadata={"description": "scheduled or cancelled"})
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class RegistrationOut(Strict):
    meeting_id = fields.UUID()
    registered_at = fields.DateTime()
    registered = fields.Integer(metadata={"description": "registrations for the meeting, this one included"})
    capacity = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
