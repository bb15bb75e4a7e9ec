"""marshmallow building blocks shared by the services' request schemas."""
from marshmallow import Schema, fields, validate


class Strict(Schema):
    """Request and response schemas keep their declared field order (in JSON and OpenAPI)."""

    class Meta:
        ordered = True


class Text(fields.String):
    """A string trimmed of surrounding whitespace before its length is checked."""

    def __init__(self, min_length=1, max_length=200, **kwargs):
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def Slug(**kwargs):
    return fields.String(validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$", error="must be a lowercase slug"),
                         **kwargs)
