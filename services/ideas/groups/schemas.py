"""Request and response schemas of working groups."""
from marshmallow import fields, validate

from shared.auth import MAX_SUBJECT_LENGTH
from shared.domain import GROUP_KINDS
from shared.validation import Slug, Strict, Text


class NewGroup(Strict):
    municipality = Slug(required=True)
    name = Text(3, 100, required=True, metadata={"description": "unique in the municipality, case-insensitively"})
    kind = fields.String(required=True, validate=validate.OneOf(GROUP_KINDS),
                         metadata={"description": "working_group (Arbeitsgruppe) or expert_group (Fachgruppe)"})
    field_of_action = Slug(load_default=None, allow_none=True)


class NewMember(Strict):
    member_id = Text(1, MAX_SUBJECT_LENGTH, required=True, metadata={"description": "the member's token subject"})


class GroupQuery(Strict):
    municipality = Slug()


class GroupOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    name = fields.String()
    kind = fields.String()
    field_of_action = fields.String(allow_none=True)
    members = fields.Integer(metadata={"description": "number of members"})
    member_ids = fields.List(fields.String(), metadata={"description": "members' token subjects (moderators and "
                                                                       "staff only)"})
    ideas = fields.Integer(metadata={"description": "ideas in its topic store the caller may see"})
    created_at = fields.DateTime()
