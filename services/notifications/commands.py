"""What the notifications use cases are asked to do: typed, immutable requests.

The service class builds them from HTTP requests (body, query, path, the token's subject) and
from consumed events; use cases never see a request, a Principal or an HTTP query name.
A subscriber is named by the token of a mail link (`token`) or else by a signed-in `subject`.
"""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


# --- events from ideas and voting -----------------------------------------------------------

@dataclass(frozen=True)
class Notify:
    """A consumed event to fan out, once per event id."""
    event_id: str
    event_type: str
    occurred_at: datetime
    data: dict  # the event's data, JSON-ready as on the bus


# --- subscribers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Subscribe:
    email: str
    language: str
    digest: str
    subscriptions: tuple[dict, ...]  # {"kind", "municipality"?, "field_of_action"?, "idea_id"?}
    subject: str | None = None  # the signed-in account to link, if any


@dataclass(frozen=True)
class Confirm:
    token: str  # the one-time token of the confirmation mail


@dataclass(frozen=True)
class Unsubscribe:
    token: str


@dataclass(frozen=True)
class ShowSubscriber:
    token: str | None
    subject: str | None
    municipalities: tuple[str, ...] = ()  # whose working groups the "my data" page offers


@dataclass(frozen=True)
class ExportSubscriber:
    token: str | None
    subject: str | None


@dataclass(frozen=True)
class ChangeSubscriber:
    token: str | None
    subject: str | None
    language: str | None = None  # None: unchanged
    digest: str | None = None
    subscriptions: tuple[dict, ...] | None = None  # replaces every subscription; None: unchanged


@dataclass(frozen=True)
class EraseSubscriber:
    token: str | None
    subject: str | None


# --- the in-app feed ------------------------------------------------------------------------

@dataclass(frozen=True)
class ShowFeed:
    subject: str
    unread_only: bool
    page: int
    page_size: int


@dataclass(frozen=True)
class MarkRead:
    subject: str
    item_id: UUID


@dataclass(frozen=True)
class MarkAllRead:
    subject: str


# --- announcements --------------------------------------------------------------------------

@dataclass(frozen=True)
class PostAnnouncement:
    municipality: str
    title: str
    starts_at: datetime
    place: str | None
    link: str | None
    description: str | None


@dataclass(frozen=True)
class ListAnnouncements:
    municipality: str | None
    page: int
    page_size: int


# --- webhooks and the delivery log ----------------------------------------------------------

@dataclass(frozen=True)
class RegisterWebhook:
    url: str
    event_types: tuple[str, ...]
    municipality: str | None
    description: str | None


@dataclass(frozen=True)
class EnableWebhook:
    webhook_id: UUID


@dataclass(frozen=True)
class DeleteWebhook:
    webhook_id: UUID


@dataclass(frozen=True)
class ListDeliveries:
    page: int
    page_size: int
    status: str | None = None
    channel: str | None = None
    trigger_event_id: str | None = None
    subscriber_id: UUID | None = None
    webhook_id: UUID | None = None
