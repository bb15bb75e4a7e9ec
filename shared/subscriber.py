"""`@subscribe(source_service, event_type)`: the one way services consume events.

Unlike nameko's event_handler (which acks a failed message away), a failure here is
retried with backoff and then parked in the service's dead-letter queue, and a malformed
body is parked at once. The queue follows nameko's naming, so the topology stays familiar:
evt-<source>-<type>--<service>.<method>, bound to <source>.events with the type as key. It is
a quorum queue with a delivery limit (shared.queues): a message that keeps coming back unsettled
(its consumer crashes on it) goes to the dead-letter queue too.

`@subscribe_many(routes, label)` is the same with one queue, evt-<label>--<service>.<method>,
bound to several (source, type) routes: for a consumer of many event types (reporting), one
queue to watch and one retry topology instead of one per type.

Only an event's owner may publish it: an event whose broker-verified publisher (AMQP user_id)
is not the service owning its type, or whose `source` is not that service, is parked at once
("untrusted-publisher"), before any handler sees it (shared.identities).
"""
import logging
from functools import partial

from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from shared import dead_letters, identities, metrics, outages, queues
from shared.amqp import Publisher
from shared.config import settings_of
from shared.envelope import EventError, parse_event

log = logging.getLogger(__name__)


class RawQueueConsumer(QueueConsumer):
    """nameko's QueueConsumer, handing over undecoded messages.

    kombu would otherwise decode the body first and, for a body that is not valid JSON,
    raise inside the consume loop instead of letting us dead-letter the message.
    """

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], on_message=partial(self.handle_message, provider, None))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def ack_message(self, message):
        """nameko ignores amqp's ConnectionError here but not the socket's own (a broker node killed under
        us): raised in a worker, it would kill the whole container. An unacked message goes back to its
        queue with the connection; the inbox drops its redelivery."""
        try:
            super().ack_message(message)
        except OSError as exc:
            log.warning("ack lost with the broker connection (%s); the message will be redelivered", exc)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except OSError as exc:
            log.warning("requeue lost with the broker connection (%s); the broker requeues it itself", exc)


class EventSubscriber(Consumer):
    queue_consumer = RawQueueConsumer()

    def __init__(self, routes, label, **kwargs):
        self.routes = tuple(routes)  # (source service, event type) pairs
        self.event_types = frozenset(event_type for _, event_type in self.routes)
        self.label = label
        super().__init__(queue=None, **kwargs)

    def queue_name(self, service, method_name):
        return f"evt-{self.label}--{service}.{method_name}"

    def setup(self):
        settings = settings_of(self.container)
        self.service = self.container.service_name
        self.retry_delays = settings.retry_delays
        self.publisher = Publisher(settings.amqp_uri)
        self.queue = queues.subscription(self.queue_name(self.service, self.method_name), self.service, self.routes)
        super().setup()

    def stop(self):
        super().stop()
        self.publisher.close()

    def handle_message(self, body, message):
        published_by = identities.publisher_of(message.properties.get("user_id"), message.headers,
                                               self.publisher.user_id)
        try:
            event, data = parse_event(message.body)
            if event["type"] not in self.event_types:
                raise EventError(f"expected {' or '.join(sorted(self.event_types))}, got {event['type']}")
        except EventError as exc:
            log.warning("dead-lettering malformed message on %s: %s %s", self.queue.name, exc, exc.details)
            self._park(message, self._type_of(message), "dead_lettered", "malformed",
                       f"{exc} {exc.details or ''}".strip(), published_by)
            return
        refusal = identities.refusal(event, published_by)
        if refusal:
            log.warning("dead-lettering an event from a non-owner on %s: %s", self.queue.name, refusal)
            self._park(message, event["type"], "refused", "untrusted-publisher", refusal, published_by)
            return
        event = {**event, "data": data}
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data={},
                handle_result=partial(self.handle_result, message, event["type"], published_by),
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, event_type, published_by, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            outcome = "duplicate" if result is False else "applied"
            self._settle(message, event_type, outcome, None)
            return result, exc_info
        attempts = int((message.headers or {}).get(dead_letters.ATTEMPTS, 0)) + 1
        error = f"{exc_info[0].__name__}: {exc_info[1]}"
        if outages.database_unreachable(exc_info[1]) and self.retry_delays:
            # Not the handler's fault: back after the first delay, with the attempts it had (shared.outages).
            log.warning("%s: database unreachable, event deferred (no attempt counted): %s", self.queue.name, error)
            self._settle(message, event_type, "deferred", partial(
                dead_letters.schedule_retry, self.publisher, message, self.queue.name, self.retry_delays[0],
                attempts - 1, published_by=published_by))
            return result, exc_info
        if attempts <= len(self.retry_delays):
            delay = self.retry_delays[attempts - 1]
            log.warning("%s failed (attempt %d), retrying in %ss: %s", self.queue.name, attempts, delay, error)
            action = partial(dead_letters.schedule_retry, self.publisher, message, self.queue.name, delay, attempts,
                             published_by=published_by)
            self._settle(message, event_type, "retried", action)
        else:
            log.error("%s failed %d times, parking: %s", self.queue.name, attempts, error)
            self._park(message, event_type, "dead_lettered", "handler-failed", error, published_by, attempts)
        return result, exc_info

    def _park(self, message, event_type, outcome, reason, error, published_by, attempts=0):
        self._settle(message, event_type, outcome, partial(
            dead_letters.park, self.publisher, message, self.service, self.queue.name, reason, error, attempts,
            published_by=published_by))

    def _type_of(self, message):
        """The metric label of a malformed message: its routing key when it is one of ours."""
        key = message.delivery_info.get("routing_key")
        return key if key in self.event_types else "unknown"

    def _settle(self, message, event_type, outcome, forward):
        """Ack only once the forwarded copy (if any) is confirmed; else requeue it."""
        try:
            if forward is not None:
                forward()
        except Exception:
            log.exception("could not forward message from %s; requeueing it", self.queue.name)
            self.queue_consumer.requeue_message(message)
            return
        metrics.EVENTS_CONSUMED.labels(self.service, event_type, outcome).inc()
        self.queue_consumer.ack_message(message)


def subscribe(source_service, event_type, **kwargs):
    """Consume one event type of one service, on a queue of its own."""
    return EventSubscriber.decorator(((source_service, event_type),), f"{source_service}-{event_type}", **kwargs)


def subscribe_many(routes, label, **kwargs):
    """Consume several (source service, event type) routes on one queue named after `label`."""
    return EventSubscriber.decorator(tuple(routes), label, **kwargs)
