"""Use cases of the notifications service. Each runs in one transaction with the events it causes.

Fan-out (an event or an announcement) only records what is to be delivered; dispatch.py sends.
"""
import secrets
import uuid
from datetime import datetime, timedelta, timezone

from shared.errors import Conflict, NotFound, ServiceError
from shared.events import schema_for
from shared.inbox import apply_once

from . import domain, repository as repo


def _now():
    return datetime.now(timezone.utc)


def _token():
    return secrets.token_urlsafe(32)


class Gone(ServiceError):
    status, code = 410, "gone"


# --- fan-out --------------------------------------------------------------------------------

def _fan_out(cur, outbox, digest_hour, event_id, trigger_type, occurred_at, content, author_id):
    """Record a trigger and one delivery per recipient and channel; feed items are delivered at once."""
    now = _now()
    repo.add_trigger(cur, event_id, trigger_type, occurred_at, content)
    topics = domain.topics_for(trigger_type, content)
    author = author_id if domain.reaches_author(trigger_type) else None
    due = {mode: domain.digest_due(mode, now, digest_hour) for mode in domain.DIGESTS}
    repo.add_email_deliveries(cur, event_id, topics, author, due, now)
    repo.add_webhook_deliveries(cur, event_id, trigger_type, content.get("municipality"), now)
    outbox.add_many(cur, "NotificationSent", [
        {"notification_id": item_id, "channel": "feed", "trigger_event_id": event_id, "trigger_type": trigger_type,
         "sent_at": now} for item_id in repo.add_feed_items(cur, event_id, topics, author, now)])


def _content_and_author(cur, data):
    """What notifications show of an event (its data without the author) and the idea's author.

    Ideas are remembered from their events, so later events (a board decision, a pilot's
    milestone) can name the idea and reach its author.
    """
    if data.get("field_of_action"):
        repo.remember_idea(cur, {"idea_id": data["idea_id"], "municipality": data["municipality"],
                                 "field_of_action": data["field_of_action"], "title": data.get("title"),
                                 "author_id": data.get("author_id")})
    known = repo.known_idea(cur, data["idea_id"]) if data.get("idea_id") else None
    content = {key: value for key, value in data.items() if key != "author_id"}
    if known is not None:
        content["idea_title"] = known["title"]
        content.setdefault("field_of_action", known["field_of_action"])
    return content, data.get("author_id") or (known and known["author_id"])


def notify(pool, outbox, channels, event):
    """An event from ideas or voting: fan out to everyone it concerns, once per event id."""
    data = schema_for(event["type"]).dump(event["data"])  # JSON-ready, as on the bus

    def effect(cur):
        content, author_id = _content_and_author(cur, data)
        _fan_out(cur, outbox, channels.settings.digest_hour, event["id"], event["type"], event["time"],
                 content, author_id)

    return apply_once(pool, "notifications.notify", event, effect)


# --- subscribers ----------------------------------------------------------------------------

def subscribe(pool, channels, subject, command):
    """Start the double opt-in: a confirmation mail with a one-time link; nothing else is sent before.

    The answer is the same whether the address is new, pending or already confirmed, so it tells
    nobody who subscribed. A confirmed address stays as it is (changes go through its own links).
    """
    now = _now()
    topics = sorted({domain.topic(**subscription) for subscription in command["subscriptions"]})
    with pool.transaction() as cur:
        existing = repo.subscriber_by_email(cur, command["email"], for_update=True)
        if existing is not None and existing["confirmed_at"] and not existing["unsubscribed_at"]:
            return
        if subject is not None:
            linked = repo.subscriber_by_subject(cur, subject)
            if linked is not None and (existing is None or linked["id"] != existing["id"]):
                raise Conflict("your account is already linked to another address; change that one",
                               {"email": ["your account already subscribed with another address"]})
        confirm_token, expires_at = _token(), now + timedelta(hours=channels.settings.confirm_hours)
        if existing is None:
            subscriber_id = uuid.uuid4()
            repo.add_subscriber(cur, {
                "id": subscriber_id, "email": command["email"], "language": command["language"],
                "digest": command["digest"], "subject": subject, "access_token": _token(),
                "confirm_token": confirm_token, "confirm_expires_at": expires_at, "created_at": now,
                "confirmed_at": None, "unsubscribed_at": None})
        else:
            subscriber_id = existing["id"]
            repo.restart_opt_in(cur, subscriber_id, command["language"], command["digest"], subject,
                                confirm_token, expires_at)
        repo.replace_subscriptions(cur, subscriber_id, topics)
        trigger_id = f"confirm:{uuid.uuid4()}"
        repo.add_trigger(cur, trigger_id, domain.CONFIRMATION, now, {})
        repo.add_confirmation_delivery(cur, trigger_id, subscriber_id, now)


def confirm(pool, token):
    """The one-time link of the confirmation mail: records the consent and its time."""
    now = _now()
    with pool.transaction() as cur:
        subscriber = repo.subscriber_by_confirm_token(cur, token, for_update=True)
        if subscriber is None:
            raise NotFound("confirmation link (unknown or already used)")
        if domain.confirmation_expired(subscriber["confirm_expires_at"], now):
            raise Gone("the confirmation link has expired; subscribe again", {"token": ["expired"]})
        subscriber = repo.confirm(cur, subscriber["id"], now)
    return {"status": "confirmed", "confirmed_at": subscriber["confirmed_at"]}


def _subscriber(cur, token, principal, for_update=False):
    """The subscriber named by a mail link's token, else by the bearer token's subject."""
    if token:
        subscriber = repo.subscriber_by_access_token(cur, token, for_update)
    elif principal is not None:
        subscriber = repo.subscriber_by_subject(cur, principal.subject, for_update)
    else:
        raise ServiceError("send the token of a mail link (?token=…) or a bearer token",
                           {"token": ["required without a bearer token"]}, status=401, code="unauthorized")
    if subscriber is None:
        raise NotFound("subscriber")
    return subscriber


def unsubscribe(pool, token):
    """One click from any mail: no more mail from now on, pending ones included."""
    with pool.transaction() as cur:
        subscriber = _subscriber(cur, token, None, for_update=True)
        repo.unsubscribe(cur, subscriber["id"], _now())
    return {"status": "unsubscribed"}


def export_subscriber(pool, token, principal):
    """Everything stored about a subscriber (their data, as the GDPR asks), without secrets."""
    with pool.transaction() as cur:
        subscriber = _subscriber(cur, token, principal)
        subscriptions = [domain.subscription_of(t) for t in repo.topics_of(cur, subscriber["id"])]
        deliveries, _ = repo.deliveries(cur, {"subscriber_id": subscriber["id"]}, 10_000, 0)
        feed = repo.feed(cur, subscriber["subject"], False, 10_000, 0)[0] if subscriber["subject"] else []
    return {"subscriber": {**subscriber, "subscriptions": subscriptions}, "deliveries": deliveries, "feed": feed}


def change_subscriber(pool, token, principal, changes):
    with pool.transaction() as cur:
        subscriber = _subscriber(cur, token, principal, for_update=True)
        repo.set_preferences(cur, subscriber["id"], {k: changes[k] for k in ("language", "digest") if k in changes})
        if "subscriptions" in changes:
            repo.replace_subscriptions(cur, subscriber["id"],
                                       sorted({domain.topic(**s) for s in changes["subscriptions"]}))
    return export_subscriber(pool, subscriber["access_token"], None)["subscriber"]


def erase_subscriber(pool, token, principal):
    """Delete the subscriber, their subscriptions, delivery log and feed."""
    with pool.transaction() as cur:
        subscriber = _subscriber(cur, token, principal, for_update=True)
        repo.delete_subscriber(cur, subscriber["id"])
        if subscriber["subject"]:
            repo.delete_feed(cur, subscriber["subject"])


# --- announcements --------------------------------------------------------------------------

def post_announcement(pool, outbox, channels, command):
    """Staff announce a meeting (a plenary meeting, a theme evening); its subscribers hear of it."""
    now = _now()
    announcement = {"id": uuid.uuid4(), "created_at": now, **command}
    content = {"announcement_id": str(announcement["id"]), "municipality": command["municipality"],
               "title": command["title"], "starts_at": command["starts_at"].isoformat(),
               "place": command["place"], "link": command["link"], "description": command["description"]}
    with pool.transaction() as cur:
        repo.add_announcement(cur, announcement)
        _fan_out(cur, outbox, channels.settings.digest_hour, str(announcement["id"]), domain.ANNOUNCEMENT, now,
                 content, None)
    return announcement


def list_announcements(pool, query):
    page, size = query["page"], query["page_size"]
    with pool.transaction() as cur:
        items, total = repo.announcements(cur, query.get("municipality"), size, (page - 1) * size)
    return {"items": items, "total": total, "page": page, "page_size": size}


# --- the in-app feed ------------------------------------------------------------------------

def feed(pool, subject, query):
    page, size = query["page"], query["page_size"]
    with pool.transaction() as cur:
        items, total, unread = repo.feed(cur, subject, query["unread"], size, (page - 1) * size)
    return {"items": items, "total": total, "unread": unread, "page": page, "page_size": size}


def mark_read(pool, subject, item_id):
    with pool.transaction() as cur:
        if not repo.mark_read(cur, subject, item_id, _now()):
            raise NotFound("notification")


def mark_all_read(pool, subject):
    with pool.transaction() as cur:
        return {"marked": repo.mark_all_read(cur, subject, _now())}


# --- webhooks -------------------------------------------------------------------------------

def register_webhook(pool, command):
    webhook = {"id": uuid.uuid4(), "secret": _token(), "created_at": _now(), "consecutive_failures": 0,
               "disabled_at": None, **command}
    with pool.transaction() as cur:
        repo.add_webhook(cur, webhook)
    return webhook


def list_webhooks(pool):
    with pool.transaction() as cur:
        return repo.webhooks(cur)


def enable_webhook(pool, webhook_id):
    """Back on after it was disabled; deliveries failed while it was off are not resent."""
    with pool.transaction() as cur:
        webhook = repo.enable_webhook(cur, webhook_id)
    if webhook is None:
        raise NotFound("webhook")
    return webhook


def delete_webhook(pool, webhook_id):
    with pool.transaction() as cur:
        if not repo.delete_webhook(cur, webhook_id):
            raise NotFound("webhook")


# --- the delivery log -----------------------------------------------------------------------

def list_deliveries(pool, query):
    page, size = query["page"], query["page_size"]
    with pool.transaction() as cur:
        items, total = repo.deliveries(cur, query, size, (page - 1) * size)
    return {"items": items, "total": total, "page": page, "page_size": size}
