"""`smartcity queues upgrade`: move a running system's queues to the arguments shared.queues gives them.

RabbitMQ refuses to declare an existing queue with other arguments (PRECONDITION_FAILED), so a
service whose queues were declared classic by an older release would not start. With the
services stopped, each queue that differs is rebuilt under its own name, nothing lost:

  1. declare a temporary quorum queue T with the queue's bindings (events published meanwhile land there)
  2. move every message of the old queue Q to T: get, publish with confirms, then ack
  3. delete Q (only when empty), declare it as shared.queues says, with its bindings
  4. move every message of T back to Q, delete T

A message is acked only after its copy is confirmed, so stopping at any point loses nothing, and a
second run carries on where the first stopped (it finds T and empties it); at worst a message that
was copied but not yet acked is there twice, which consumers drop by event id (inbox). Run as the
service's own broker user (its configured URI), like `smartcity dlq`: a moved message is a copy
made by the service and carries its original publisher in PUBLISHED_BY, as retry copies do, so
consumers still know who published it. T is `evt-upgrading--<service>.<queue>`, a name that user
may declare. Bindings are the ones the service declares (AMQP cannot list a queue's bindings).

Requests waiting in `rpc-<service>` are dropped, and counted: their callers stopped waiting after
shared.rpc.TIMEOUT_SECONDS, and a copy could not keep the caller's user_id (who called decides what
a call may see).
"""
import re
from dataclasses import dataclass

import amqp
from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Connection

from shared import queues
from shared.identities import PUBLISHED_BY, publisher_of

TEMP_PREFIX = "evt-upgrading--"
CONFIRM_TIMEOUT = 10


@dataclass
class Outcome:
    queue: str
    action: str  # "up to date", "absent", "upgraded", "would upgrade", "in use"
    detail: str = ""
    moved: int = 0
    dropped: int = 0

    def line(self):
        text = f"{self.queue}: {self.action}"
        if self.detail:
            text += f" ({self.detail})"
        if self.moved:
            text += f", {self.moved} message(s) moved into it"
        if self.dropped:
            text += f", {self.dropped} stale RPC request(s) dropped"
        return text


def temp_name(service, queue_name):
    return f"{TEMP_PREFIX}{service}.{queue_name}"


def _state(conn, name):
    """(messages, consumers) of an existing queue, None when there is none."""
    channel = conn.channel()
    try:
        _, messages, consumers = channel.queue_declare(name, passive=True)
    except NotFound:
        return None  # the broker closed the channel
    channel.close()
    return messages, consumers


def _difference(conn, queue):
    """Why the existing `queue` is not as declared (None: it is): declaring it again says so."""
    channel = conn.channel()
    try:
        channel.queue_declare(queue.name, durable=True, auto_delete=False, arguments=queue.queue_arguments)
    except PreconditionFailed as exc:  # the broker names the first argument that differs
        found = re.search(r"inequivalent arg '([^']+)' for queue '.*?' in vhost '.*?': (.*)", str(exc))
        return f"arguments differ, first {found[1]}: {found[2]}" if found else str(exc)
    channel.close()
    return None


def _declare(conn, queue):
    channel = conn.channel()
    queue.bind(channel).declare()  # with its bindings (and, for a subscription, its dead-letter queue)
    channel.close()


def _move(conn, source, target):
    """Every message of `source` to `target`, each acked only once its copy is confirmed."""
    own = conn.userid
    channel = conn.channel()
    moved = 0
    while (message := channel.basic_get(source, no_ack=False)) is not None:
        properties = dict(message.properties)
        headers = dict(properties.pop("application_headers", None) or {})
        headers.pop("x-delivery-count", None)  # the broker's count in the queue it came from
        headers[PUBLISHED_BY] = publisher_of(properties.get("user_id"), headers, own) or ""
        properties["user_id"] = own
        copy = amqp.Message(message.body, application_headers=headers, **properties)
        # mandatory: an unroutable copy comes back (and raises) instead of being confirmed and dropped
        channel.basic_publish_confirm(copy, exchange="", routing_key=target, mandatory=True,
                                      confirm_timeout=CONFIRM_TIMEOUT)
        channel.basic_ack(message.delivery_tag)
        moved += 1
    channel.close()
    return moved


def _delete_if_empty(conn, name):
    """Delete `name` when it is empty; False when messages arrived meanwhile.

    Quorum queues refuse the `if_empty` flag (NOT_IMPLEMENTED, closing the connection), so the count
    is checked first. What is published between check and delete is not lost: while the old queue is
    deleted T carries the same bindings, and while T is deleted the new queue does; the queues without
    bindings (dead-letter, retry) get messages only from the services, which are stopped."""
    state = _state(conn, name)
    if state is None:
        return True
    if state[0]:
        return False
    channel = conn.channel()
    channel.queue_delete(name)
    channel.close()
    return True


def _drain_into(conn, source, target, drop=False):
    """Empty `source` into `target` (or drop its messages) and delete it; (moved, dropped)."""
    moved = dropped = 0
    while True:
        if drop:
            channel = conn.channel()
            dropped += channel.queue_purge(source) or 0
            channel.close()
        else:
            moved += _move(conn, source, target)
        if _delete_if_empty(conn, source):
            return moved, dropped


def upgrade_queue(conn, service, queue, dry_run=False):
    """Bring one queue to `queue`'s declaration; what it found and did, as an Outcome."""
    temp = queues.quorum(temp_name(service, queue.name), queue.bindings)
    is_rpc = queue.name == queues.rpc_name(service)
    current, parked = _state(conn, queue.name), None if is_rpc else _state(conn, temp.name)
    if current is not None and current[1]:
        return Outcome(queue.name, "in use", f"{current[1]} consumer(s): stop the services first")
    difference = _difference(conn, queue) if current is not None else None
    if parked is None and difference is None:
        if current is None:
            return Outcome(queue.name, "absent", "the service declares it when it needs it")
        return Outcome(queue.name, "up to date")
    if dry_run:
        waiting = (current or (0, 0))[0] + (parked or (0, 0))[0]
        return Outcome(queue.name, "would upgrade",
                       f"{difference or 'an earlier upgrade stopped midway'}; {waiting} message(s) waiting")
    outcome = Outcome(queue.name, "upgraded", difference or "finishing an earlier upgrade")
    if is_rpc:  # no copies: see the module's docstring
        _, outcome.dropped = _drain_into(conn, queue.name, None, drop=True)
        _declare(conn, queue)
        return outcome
    _declare(conn, temp)
    if difference is not None:
        _drain_into(conn, queue.name, temp.name)
    _declare(conn, queue)
    outcome.moved, _ = _drain_into(conn, temp.name, queue.name)  # every message, now in the new queue
    return outcome


def upgrade(amqp_uri, service, declared, dry_run=False):
    """Upgrade each queue of `declared`, in that order (shared.queues.of_service gives the right one), on
    the vhost of `amqp_uri`, logged in as that URI's user."""
    with Connection(amqp_uri, connect_timeout=5) as conn:
        conn.ensure_connection(max_retries=1)
        return [upgrade_queue(conn, service, queue, dry_run) for queue in declared]
