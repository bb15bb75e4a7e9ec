"""CloudEvents 1.0 structured-mode envelope: the body of every event on the bus.

`type` is the bare event name (IdeaSubmitted, PilotApproved, ...) and is also the AMQP
routing key; `dataschema` names the versioned JSON Schema published in docs/events/schemas.
"""
import json
import uuid
from datetime import datetime, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.events import schema_for

SPECVERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"
SCHEMA_VERSION = 1


def source_of(service):
    return f"/smartcity/{service}"


def dataschema_of(event_type):
    return f"urn:smartcity:events:v{SCHEMA_VERSION}:{event_type}"


def exchange_of(service):
    """nameko's event exchange name, so nameko and plain AMQP clients share it."""
    return f"{service}.events"


class EnvelopeSchema(Schema):
    """The CloudEvents attributes; `data` is validated by the event type's own schema."""

    class Meta:
        # CloudEvents allows extension attributes; a consumer ignores what it does not know.
        unknown = EXCLUDE
        ordered = True

    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1, max=500))
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    time = fields.AwareDateTime(required=True, format="iso")
    subject = fields.String(allow_none=True, validate=validate.Length(max=500))
    datacontenttype = fields.String(required=True, validate=validate.Equal("application/json"))
    dataschema = fields.String(required=True)
    data = fields.Dict(required=True)


# One instance for every message: building a marshmallow schema deep-copies its fields, which cost
# more than loading an envelope with it (profile of reporting's consumer in docs/performance.md).
_ENVELOPE = EnvelopeSchema()


class EventError(ValueError):
    """An event body that is not a valid envelope for a known event type."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details or {}


def make_event(service, event_type, data, subject=None, event_id=None, time=None):
    """A validated envelope dict, ready to be stored in the outbox and published."""
    schema = schema_for(event_type)
    unknown = set(data) - set(schema.fields)
    if unknown:
        # Producers are strict; consumers ignore additions (EXCLUDE) so changes stay additive.
        raise EventError(f"{event_type} has no fields {sorted(unknown)}")
    serialized = schema.dump(data)
    errors = schema.validate(serialized)
    if errors:
        raise EventError(f"{event_type} data invalid: {errors}", errors)
    return {
        "specversion": SPECVERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source_of(service),
        "type": event_type,
        "time": (time or datetime.now(timezone.utc)).isoformat(),
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": dataschema_of(event_type),
        "data": serialized,
    }


def parse_event(body):
    """Decode and validate raw bytes into (envelope, data); raise EventError when malformed."""
    try:
        raw = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise EventError(f"body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise EventError("body is not a JSON object")
    try:
        envelope = _ENVELOPE.load(raw)
    except ValidationError as exc:
        raise EventError("invalid CloudEvents envelope", exc.messages) from exc
    try:
        schema = schema_for(envelope["type"])
    except KeyError:
        raise EventError(f"unknown event type {envelope['type']!r}") from None
    try:
        data = schema.load(envelope["data"])
    except ValidationError as exc:
        raise EventError(f"invalid {envelope['type']} data", {"data": exc.messages}) from exc
    return envelope, data
