"""Request and response schemas of idea sponsorships."""
from marshmallow import fields, validate

from shared.domain import SPONSOR_KINDS
from shared.validation import Strict, Text


class NewSponsorship(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(SPONSOR_KINDS))
    display_name = Text(2, 200, required=True, metadata={"description": "shown on the idea only with show_name"})
    show_name = fields.Boolean(required=True, metadata={"description": "consent to show display_name publicly"})


class SponsorshipOut(Strict):
    id = fields.UUID()
    idea_id = fields.UUID()
    kind = fields.String()
    display_name = fields.String(allow_none=True, metadata={"description": "null unless the sponsor consented"})
    show_name = fields.Boolean()
    status = fields.String(metadata={"description": "offered or accepted"})
    offered_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)
