"""One confirmed-publish connection per process, shared by the outbox relay and the consumers."""
import logging
import threading

from kombu import Connection, Exchange, Producer

log = logging.getLogger(__name__)

RETRY_POLICY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2}


def event_exchange(name):
    return Exchange(name, type="topic", durable=True)


class Publisher:
    """Publishes with publisher confirms: `publish` returns only once the broker has the message."""

    def __init__(self, amqp_uri):
        self._connection = Connection(
            amqp_uri, transport_options={"confirm_publish": True}, connect_timeout=5, heartbeat=0
        )
        self._lock = threading.Lock()  # green under eventlet: one publish on the channel at a time
        self._producer = None
        self._declared = set()

    def _ensure(self):
        if self._producer is None or not self._connection.connected:
            self._connection.ensure_connection(max_retries=3, interval_start=0.2, interval_max=2)
            self._producer = Producer(self._connection.default_channel)
            self._declared.clear()
        return self._producer

    def publish(self, body, *, exchange="", routing_key, content_type, headers=None, message_id=None, declare=()):
        with self._lock:
            try:
                producer = self._ensure()
                for entity in declare:
                    if entity.name not in self._declared:
                        entity(producer.channel).declare()
                        self._declared.add(entity.name)
                producer.publish(
                    body,
                    exchange=exchange,
                    routing_key=routing_key,
                    content_type=content_type,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    headers=headers or {},
                    message_id=message_id,
                    retry=False,
                )
            except Exception:
                self._reset()
                raise

    def _reset(self):
        self._producer = None
        try:
            self._connection.close()
        except Exception:  # the connection is already broken; nothing more to release
            pass

    def close(self):
        with self._lock:
            self._reset()
