"""Request and response schemas of comments and comment moderation."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.domain import COMMENT_TARGETS
from shared.validation import Slug, Strict, Text

from .domain import HIDDEN, MODES, PENDING, PUBLISHED


# --- requests ---------------------------------------------------------------------------

class NewComment(Strict):
    target_kind = fields.String(required=True, validate=validate.OneOf(COMMENT_TARGETS))
    target_id = fields.UUID(required=True, metadata={"description": "a public idea, a sub-concept, or a strategy "
                                                                    "whose draft is open for feedback"})
    text = Text(2, 2000, required=True)
    parent_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "the published top-level comment this replies to (one level of replies)"})


class CommentQuery(Strict):
    target_kind = fields.String(validate=validate.OneOf(COMMENT_TARGETS))
    target_id = fields.UUID()
    municipality = Slug(metadata={"description": "with `status`, instead of a target: the moderation queue"})
    status = fields.String(load_default=PENDING, validate=validate.OneOf((PENDING, PUBLISHED, HIDDEN)))

    @validates_schema
    def target_or_queue(self, data, **kwargs):
        if ("target_kind" in data) != ("target_id" in data):
            raise ValidationError("give target_kind and target_id together",
                                  "target_id" if "target_kind" in data else "target_kind")
        if "target_kind" not in data and "municipality" not in data:
            raise ValidationError("give a target (target_kind, target_id) or a municipality", "target_kind")


class CommentModeration(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(("publish", "hide")))
    reason = Text(3, 1000, load_default=None, allow_none=True, metadata={"description": "required to hide"})

    @validates_schema
    def reason_to_hide(self, data, **kwargs):
        if data.get("decision") == "hide" and not data.get("reason"):
            raise ValidationError("hiding a comment needs a reason", "reason")


class NewReport(Strict):
    reason = Text(3, 500, required=True, metadata={"description": "what is abusive about it"})


class ModerationMode(Strict):
    mode = fields.String(required=True, validate=validate.OneOf(MODES), metadata={
        "description": "pre: comments wait for a moderator; post: visible at once, moderators can hide"})


# --- responses --------------------------------------------------------------------------

class CommentOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    target_kind = fields.String()
    target_id = fields.UUID()
    parent_id = fields.UUID(allow_none=True)
    strategy_version = fields.Integer(allow_none=True, metadata={"description": "on a strategy: the draft version"})
    text = fields.String()
    status = fields.String(metadata={"description": "pending, published or hidden"})
    hidden_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    reports = fields.Integer(allow_none=True, metadata={"description": "distinct reporters; for moderators only"})
    replies = fields.List(fields.Nested(lambda: CommentOut(exclude=("replies",))))


class ReportOut(Strict):
    comment_id = fields.UUID()
    reports = fields.Integer(metadata={"description": "distinct reporters so far"})


class ModerationModeOut(Strict):
    municipality = fields.String()
    mode = fields.String()
