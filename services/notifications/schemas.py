"""HTTP request and response schemas of the notifications service."""
from marshmallow import ValidationError, fields, validate, validates_schema

from shared.validation import Slug, Strict, Text

from .domain import DIGESTS, FIELD, IDEA, KINDS, LANGUAGES, MEETINGS, MUNICIPAL_KINDS, TRIGGER_TYPES, subscription_of

DELIVERY_STATUSES = ("pending", "sent", "failed", "cancelled")
NEEDS = {IDEA: ("idea_id",), FIELD: ("municipality", "field_of_action"),
         **{kind: ("municipality",) for kind in MUNICIPAL_KINDS}}


class Paging(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_of(item_schema, **extra):
    """A page of items: {items, total, page, page_size, **extra}."""
    return Strict.from_dict({"items": fields.List(fields.Nested(item_schema)), "total": fields.Integer(),
                             **extra, "page": fields.Integer(), "page_size": fields.Integer()},
                            name=f"{item_schema.__name__}Page")


# --- subscribers --------------------------------------------------------------------------

class Subscription(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    municipality = Slug(metadata={"description": "for every kind but idea"})
    field_of_action = Slug(metadata={"description": "kind field: the field of action's slug"})
    idea_id = fields.UUID(metadata={"description": "kind idea"})
    working_group_id = fields.UUID(metadata={"description": "kind meetings: only this working group's meetings"})

    @validates_schema
    def what_the_kind_needs(self, data, **kwargs):
        missing = {name: [f"required for kind {data['kind']}"] for name in NEEDS[data["kind"]] if not data.get(name)}
        if data.get("working_group_id") and data["kind"] != MEETINGS:
            missing["working_group_id"] = ["only for kind meetings"]
        if missing:
            raise ValidationError(missing)


class NewSubscriber(Strict):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    language = fields.String(load_default="de", validate=validate.OneOf(LANGUAGES))
    digest = fields.String(load_default="immediate", validate=validate.OneOf(DIGESTS),
                           metadata={"description": "immediate, or one grouped mail a day or a week"})
    subscriptions = fields.List(fields.Nested(Subscription), load_default=list, validate=validate.Length(max=50))


class SubscriberChanges(Strict):
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    digest = fields.String(validate=validate.OneOf(DIGESTS))
    subscriptions = fields.List(fields.Nested(Subscription), validate=validate.Length(max=50),
                                metadata={"description": "replaces every subscription"})

    @validates_schema
    def something(self, data, **kwargs):
        if not data:
            raise ValidationError("name at least one of language, digest, subscriptions", "_schema")


class TokenQuery(Strict):
    token = fields.String(required=True, validate=validate.Length(min=20, max=100),
                          metadata={"description": "the token from the link in a mail"})


class ManageQuery(Strict):
    token = fields.String(validate=validate.Length(min=20, max=100),
                          metadata={"description": "from a mail's link; or send a bearer token instead"})


class ConfirmOut(Strict):
    status = fields.String(metadata={"description": "confirmed, or already_confirmed (the link was followed before)"})
    confirmed_at = fields.DateTime()


# --- the pages behind mail links (HTML forms) -----------------------------------------------

class LinkPage(TokenQuery):
    saved = fields.Boolean(load_default=False, metadata={"description": "show that changes were saved"})


class Topic(fields.String):
    """A subscription as the "my data" form sends it: its stored topic, e.g. `field:gera/energie`."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if ":" not in text or len(text) > 200:
            raise ValidationError("not a subscription")
        return Subscription().load(subscription_of(text))


class PreferencesForm(Strict):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    digest = fields.String(required=True, validate=validate.OneOf(DIGESTS))
    subscriptions = fields.List(Topic(), load_default=list, validate=validate.Length(max=200))


class UnsubscribeForm(Strict):
    one_click = fields.String(data_key="List-Unsubscribe", validate=validate.OneOf(("One-Click",)),
                              metadata={"description": "what a mail client's one-click POST sends (RFC 8058)"})


class SubscriberOut(Strict):
    email = fields.String()
    language = fields.String()
    digest = fields.String()
    subject = fields.String(allow_none=True, metadata={"description": "the account linked when subscribing signed in"})
    created_at = fields.DateTime()
    confirmed_at = fields.DateTime(allow_none=True, metadata={"description": "when consent was given"})
    unsubscribed_at = fields.DateTime(allow_none=True)
    subscriptions = fields.List(fields.Dict())


class DeliveryOut(Strict):
    id = fields.UUID()
    trigger_event_id = fields.String()
    trigger_type = fields.String()
    channel = fields.String()
    subscriber_id = fields.UUID(allow_none=True)
    webhook_id = fields.UUID(allow_none=True)
    status = fields.String()
    due_at = fields.DateTime()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)


class FeedItemOut(Strict):
    id = fields.UUID()
    type = fields.String()
    trigger_event_id = fields.String()
    occurred_at = fields.DateTime()
    content = fields.Dict(metadata={"description": "what happened: idea, municipality, title, …"})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class SubscriberExport(Strict):
    subscriber = fields.Nested(SubscriberOut)
    deliveries = fields.List(fields.Nested(DeliveryOut))
    feed = fields.List(fields.Nested(FeedItemOut))


# --- feed ---------------------------------------------------------------------------------

class FeedQuery(Paging):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread items"})


FeedPage = page_of(FeedItemOut, unread=fields.Integer())


# --- announcements ------------------------------------------------------------------------

class NewAnnouncement(Strict):
    municipality = Slug(required=True)
    title = Text(3, 200, required=True, metadata={"description": "e.g. a plenary meeting, a theme evening"})
    starts_at = fields.AwareDateTime(required=True)
    place = Text(1, 300, load_default=None, allow_none=True)
    link = fields.URL(load_default=None, allow_none=True, schemes={"http", "https"})
    description = Text(1, 2000, load_default=None, allow_none=True)

    @validates_schema
    def place_or_link(self, data, **kwargs):
        if not data.get("place") and not data.get("link"):
            raise ValidationError("give a place, a link or both", "place")


class AnnouncementQuery(Paging):
    municipality = Slug()


class AnnouncementOut(Strict):
    id = fields.UUID()
    municipality = fields.String()
    title = fields.String()
    starts_at = fields.DateTime()
    place = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    created_at = fields.DateTime()


AnnouncementPage = page_of(AnnouncementOut)


# --- webhooks -----------------------------------------------------------------------------

class NewWebhook(Strict):
    url = fields.URL(required=True, require_tld=False, schemes={"http", "https"}, validate=validate.Length(max=2000))
    event_types = fields.List(fields.String(validate=validate.OneOf(TRIGGER_TYPES)), required=True,
                              validate=validate.Length(min=1))
    municipality = Slug(load_default=None, allow_none=True, metadata={"description": "omit for every municipality"})
    description = Text(1, 300, load_default=None, allow_none=True)


class WebhookOut(Strict):
    id = fields.UUID()
    url = fields.String()
    event_types = fields.List(fields.String())
    municipality = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    created_at = fields.DateTime()
    consecutive_failures = fields.Integer()
    disabled_at = fields.DateTime(allow_none=True)


class WebhookCreated(WebhookOut):
    secret = fields.String(metadata={"description": "the HMAC-SHA256 key; shown only now"})


# --- the delivery log ---------------------------------------------------------------------

class DeliveryQuery(Paging):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    channel = fields.String(validate=validate.OneOf(("email", "webhook")))
    trigger_event_id = Text(1, 200)
    subscriber_id = fields.UUID()
    webhook_id = fields.UUID()


DeliveryPage = page_of(DeliveryOut)
