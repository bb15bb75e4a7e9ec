"""One publishing connection per process, in publisher-confirm mode, shared by the outbox relay
and the consumers' retry/park path.

Messages of a batch are published back to back and their confirmations awaited once, so a
batch costs one round trip to the broker, not one per message. Every message carries the AMQP
`user_id` of the connection: RabbitMQ refuses it unless it is the user who logged in, so
consumers know who published it (shared.identities).
"""
import logging
import threading
import time

from kombu import Connection, Exchange, Producer

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 10.0


class NotConfirmed(Exception):
    """The broker refused (nack) or did not confirm a publish in time; nothing may be acked."""


def user_of_uri(amqp_uri):
    """The broker user an AMQP URI logs in as (kombu's default `guest` when it names none)."""
    return Connection(amqp_uri).userid


def event_exchange(name):
    return Exchange(name, type="topic", durable=True)


class Publisher:
    def __init__(self, amqp_uri):
        self._connection = Connection(amqp_uri, connect_timeout=5, heartbeat=0)
        self.user_id = user_of_uri(amqp_uri)
        self._lock = threading.Lock()  # green under eventlet: one batch on the channel at a time
        self._producer = None

    def _ensure(self):
        if self._producer is None:
            self._connection.ensure_connection(max_retries=3, interval_start=0.2, interval_max=2)
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
