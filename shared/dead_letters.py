"""Retry with backoff, then park: failed events wait in `<service>.dead-letter` for an operator.

A message is acknowledged only after its retry copy or parked copy is confirmed by the broker,
so a failing handler never loses it. Copies are published by the consumer's own user and keep
who published the original (identities.PUBLISHED_BY), so a replayed forgery is refused again.

Topology per subscription queue Q (quorum queues, arguments in shared.queues):
  Q.retry.<ms>ms  one per backoff step, TTL <ms>, dead-letters back into Q
  <service>.dead-letter  where messages go after the last retry, or at once when malformed;
                         also where the broker moves a message of Q returned unsettled more
                         than queues.DELIVERY_LIMIT times (a poison message): it carries the
                         broker's `x-death` instead of our headers, and is listed and replayed
                         the same way
"""
import json
import time
from dataclasses import dataclass

from shared import amqp, queues
from shared.envelope import CONTENT_TYPE
from shared.identities import PUBLISHED_BY, publisher_of

ATTEMPTS = "x-smartcity-attempts"
ORIGINAL_QUEUE = "x-smartcity-original-queue"
REASON = "x-smartcity-reason"
ERROR = "x-smartcity-error"
PARKED_AT = "x-smartcity-parked-at"
BROKER_REASON = "delivery-limit"  # the reason shown for a message the broker parked
# Set by the broker on a delivered or dead-lettered message; dropped from our copies, so a replayed
# message starts with a fresh count and history.
_BROKER_HEADERS = ("x-death", "x-delivery-count", "x-first-death-exchange", "x-first-death-queue",
                   "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason")

dead_letter_queue = queues.dead_letter
retry_queue = queues.retry


def _copy(message, headers):
    kept = {k: v for k, v in (message.headers or {}).items() if k not in _BROKER_HEADERS}
    return dict(
        body=message.body,
        content_type=message.content_type or CONTENT_TYPE,
        headers={**kept, **headers},
        message_id=message.properties.get("message_id"),
    )


def schedule_retry(publisher, message, queue_name, delay_seconds, attempts, published_by):
    queue = retry_queue(queue_name, delay_seconds)
    headers = {ATTEMPTS: attempts, PUBLISHED_BY: published_by or ""}
    publisher.publish(routing_key=queue.name, declare=[queue], **_copy(message, headers))


def park(publisher, message, service, queue_name, reason, error, attempts, published_by):
    queue = dead_letter_queue(service)
    headers = {
        PUBLISHED_BY: published_by or "",
        ATTEMPTS: attempts,
        ORIGINAL_QUEUE: queue_name,
        REASON: reason,
        ERROR: str(error)[:1000],
        PARKED_AT: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    publisher.publish(routing_key=queue.name, declare=[queue], **_copy(message, headers))


@dataclass
class Parked:
    message_id: str
    event_type: str
    original_queue: str
    reason: str
    error: str
    attempts: int
    parked_at: str
    body: str


def _broker_death(headers):
    """The `x-death` entry of a message the broker dead-lettered at its delivery limit (None: we parked it).

    `x-death` lists the queues a message died in, latest first; a message that went through a
    retry queue carries an `expired` entry too."""
    if REASON in headers:
        return None
    return next((death for death in headers.get("x-death") or () if death.get("reason") == "delivery_limit"), None)


def _parked(message):
    headers = message.headers or {}
    body = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)
    try:
        event_type = json.loads(body).get("type", "?")
    except (ValueError, AttributeError):
        event_type = "?"
    death = _broker_death(headers)
    if death is not None:
        when = death.get("time")
        return Parked(
            message_id=message.properties.get("message_id") or "",
            event_type=event_type,
            original_queue=death.get("queue", ""),
            reason=BROKER_REASON,
            error=f"returned unsettled more than {queues.DELIVERY_LIMIT} times: its consumer crashed or hung"
                  " on it (dead-lettered by the broker)",
            attempts=int(headers.get(ATTEMPTS, 0)),
            parked_at=when.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(when, "strftime") else str(when or ""),
            body=body,
        )
    return Parked(
        message_id=message.properties.get("message_id") or "",
        event_type=event_type,
        original_queue=headers.get(ORIGINAL_QUEUE, ""),
        reason=headers.get(REASON, ""),
        error=headers.get(ERROR, ""),
        attempts=int(headers.get(ATTEMPTS, 0)),
        parked_at=headers.get(PARKED_AT, ""),
        body=body,
    )


def _drain(channel, queue_name):
    """Every message of the queue, unacknowledged (they return to the queue if not acked)."""
    messages = []
    while True:
        message = channel.basic_get(queue_name, no_ack=False)
        if message is None:
            return messages
        messages.append(message)


def list_parked(amqp_uri, service):
    with amqp.connect(amqp_uri) as conn:
        channel = conn.channel()
        queue = dead_letter_queue(service)
        queue(channel).declare()
        parked = [_parked(channel.message_to_python(m)) for m in _drain(channel, queue.name)]
        channel.close()  # un-acked: every message stays parked
    return parked


def replay(amqp_uri, service, message_id=None):
    """Send parked messages back to the queue they came from, with a fresh retry budget.

    Replays all of them, or only the one whose message id (the event id) is given; `amqp_uri`
    must be the service's own (its consumers trust only their own copies' PUBLISHED_BY). A message
    the broker parked is the original as its publisher sent it: its copy gets PUBLISHED_BY from
    the original's broker-verified user_id, as a retry copy does.
    Returns the Parked records that were replayed.
    """
    replayed = []
    with amqp.connect(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        queue = dead_letter_queue(service)
        queue(channel).declare()
        producer = conn.Producer(channel=channel)
        for raw in _drain(channel, queue.name):
            message = channel.message_to_python(raw)
            record = _parked(message)
            if message_id and record.message_id != message_id or not record.original_queue:
                continue
            published_by = publisher_of(message.properties.get("user_id"), message.headers, conn.userid)
            headers = {k: v for k, v in (message.headers or {}).items()
                       if not k.startswith("x-smartcity-") and k not in _BROKER_HEADERS}
            headers[PUBLISHED_BY] = published_by or ""
            producer.publish(
                message.body, exchange="", routing_key=record.original_queue,
                content_type=message.content_type, content_encoding="utf-8",
                headers=headers, message_id=record.message_id or None, delivery_mode=2, user_id=conn.userid,
            )
            message.ack()
            replayed.append(record)
        channel.close()
    return replayed
