"""One publishing connection per process, in publisher-confirm mode, shared by the outbox relay
and the consumers' retry/park path.

Messages of a batch are published back to back and their confirmations awaited once, so a
batch costs one round trip to the broker, not one per message. Every message carries the AMQP
`user_id` of the connection: RabbitMQ refuses it unless it is the user who logged in, so
consumers know who published it (shared.identities).

Every AMQP URI may be a list of cluster nodes, "amqp://u:p@h1:5672/v;amqp://u:p@h2:5672/v" (kombu's
failover syntax; nameko hands its AMQP_URI to kombu as it is). A connection tries the nodes in
turn, round-robin, from the one that worked last. Not kombu's "shuffle": it draws a node at random
*with replacement* on every attempt, so a bounded number of attempts may never reach the one node
that is up; round-robin tries each node once per cycle, so failover takes at most one cycle of
connect timeouts. (To spread services over the nodes, list them in a different order per service.)
"""
import logging
import threading
import time

from kombu import Connection, Exchange, Producer

from shared import identities

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 10.0
FAILOVER = "round-robin"


def connection(amqp_uri, **options):
    """A kombu Connection (not yet connected) over every node of `amqp_uri`."""
    return Connection(amqp_uri, failover_strategy=FAILOVER, **options)


def connect(amqp_uri, cycles=1, connect_timeout=5, **options):
    """A connected kombu Connection: each node is tried in turn, `cycles` times round, else raise.

    (kombu's own `connection.channel()` gives up after two attempts: with two nodes down of three it
    would never reach the third.)"""
    conn = connection(amqp_uri, connect_timeout=connect_timeout, **options)
    try:
        conn.ensure_connection(max_retries=cycles * len(identities.nodes(amqp_uri)) - 1, interval_start=0.2,
                               interval_step=0.5, interval_max=2)
    except Exception:
        conn.release()
        raise
    return conn


class NotConfirmed(Exception):
    """The broker refused (nack) or did not confirm a publish in time; nothing may be acked."""


def user_of_uri(amqp_uri):
    """The broker user an AMQP URI (its first node) logs in as (kombu's default `guest` when it names none)."""
    return Connection(identities.nodes(amqp_uri)[0]).userid


def event_exchange(name):
    return Exchange(name, type="topic", durable=True)


class Publisher:
    def __init__(self, amqp_uri):
        self._connection = connection(amqp_uri, connect_timeout=5, heartbeat=0)
        self._retries = max(3, 2 * len(identities.nodes(amqp_uri)) - 1)  # every node at least twice before giving up
        self.user_id = user_of_uri(amqp_uri)
        self._lock = threading.Lock()  # green under eventlet: one batch on the channel at a time
        self._producer = None

    def _ensure(self):
        if self._producer is None:
            self._connection.ensure_connection(max_retries=self._retries, interval_start=0.2, interval_max=2)
            channel = self._connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._producer = Producer(channel)
            self._next_tag = 0
            self._unconfirmed = set()
            self._refused = False
            self._declared = set()
        return self._producer

    def _on_ack(self, delivery_tag, multiple):
        if multiple:
            self._unconfirmed = {tag for tag in self._unconfirmed if tag > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_nack(self, delivery_tag, multiple):
        self._refused = True
        self._on_ack(delivery_tag, multiple)

    def declare(self, *entities):
        """Declare exchanges or queues now, on the publishing channel (each once per connection)."""
        with self._lock:
            try:
                producer = self._ensure()
                self._declare(producer, entities)
            except Exception:
                self._reset()
                raise

    def _declare(self, producer, entities):
        for entity in entities:
            if entity.name not in self._declared:
                entity(producer.channel).declare()
                self._declared.add(entity.name)

    def publish(self, body, *, exchange="", routing_key, content_type, headers=None, message_id=None, declare=()):
        self.publish_many([dict(body=body, exchange=exchange, routing_key=routing_key, content_type=content_type,
                                headers=headers, message_id=message_id, declare=declare)])

    def publish_many(self, messages):
        """Publish persistent messages; return once the broker confirmed every one, else raise."""
        with self._lock:
            try:
                producer = self._ensure()
                for message in messages:
                    self._declare(producer, message.get("declare", ()))
                    producer.publish(
                        message["body"], exchange=message.get("exchange", ""), routing_key=message["routing_key"],
                        content_type=message["content_type"], content_encoding="utf-8", delivery_mode=2,
                        headers=message.get("headers") or {}, message_id=message.get("message_id"), retry=False,
                        user_id=self.user_id,
                    )
                    self._next_tag += 1
                    self._unconfirmed.add(self._next_tag)
                self._await_confirms()
            except Exception:
                self._reset()
                raise

    def _await_confirms(self):
        deadline = time.monotonic() + CONFIRM_TIMEOUT
        while self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotConfirmed(f"{len(self._unconfirmed)} message(s) not confirmed in {CONFIRM_TIMEOUT}s")
            self._connection.drain_events(timeout=remaining)
        if self._refused:
            raise NotConfirmed("the broker refused a message (nack)")

    def _reset(self):
        self._producer = None
        try:
            self._connection.close()
        except Exception:  # the connection is already broken; nothing more to release
            pass

    def close(self):
        with self._lock:
            self._reset()
