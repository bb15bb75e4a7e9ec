"""Every durable queue the project declares, and its arguments: decided here and nowhere else.

All of them are quorum queues (`x-queue-type: quorum`): RabbitMQ replicates a quorum queue to
the nodes of its cluster (Raft) and confirms a message once a majority has written it, so losing
one node of a three-node cluster loses neither the queue nor a confirmed message. A classic queue
lives on one node and goes down with it.

  subscription  evt-…--<service>.<method>  delivery limit, then dead-lettered (at-least-once)
                                            into <service>.dead-letter
  retry         <subscription>.retry.<ms>ms  TTL <ms>, then dead-lettered (at-least-once) back
  dead letter   <service>.dead-letter       no delivery limit: listing it (basic_get, requeue)
                                            counts as a delivery, and must never drop a message
  rpc           rpc-<service>               nameko's RPC request queue (reply queues stay classic:
                                            they are per process and expire, which quorum queues are not for)

The delivery limit is a backstop, not the normal route: a handler that fails is retried and
parked by shared.dead_letters, which acks the message. Only a message that comes back unsettled
time after time (a poison message that crashes or hangs its consumer before it can settle it) is
counted by the broker; after DELIVERY_LIMIT returns it moves to the dead-letter queue instead of
looping, carrying `x-death` (shared.dead_letters lists and replays it like its own).

Dead-lettering `at-least-once` keeps a message in its queue until the dead-letter queue has
confirmed it (the default `at-most-once` would drop it when the target is unavailable); RabbitMQ
requires `x-overflow: reject-publish` with it.

Changing an argument of an existing queue is refused by the broker (PRECONDITION_FAILED):
`smartcity queues upgrade` (shared.queue_upgrade) moves existing queues to what this module says.
"""
from kombu import Exchange, Queue, binding

from shared.envelope import exchange_of

DELIVERY_LIMIT = 20  # returns of one message before the broker dead-letters it (x-delivery-limit)
QUORUM = {"x-queue-type": "quorum"}
_AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def dead_letter_name(service):
    return f"{service}.dead-letter"


def retry_name(queue_name, delay_seconds):
    return f"{queue_name}.retry.{int(delay_seconds * 1000)}ms"


def rpc_name(service):
    return f"rpc-{service}"  # nameko's RPC_QUEUE_TEMPLATE


def _dead_letter_into(queue_name):
    return {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue_name, **_AT_LEAST_ONCE}


def quorum(name, bindings=(), **arguments):
    """A durable quorum queue with `bindings` and extra queue `arguments`."""
    return Queue(name, bindings=list(bindings), durable=True, queue_arguments={**QUORUM, **arguments})


class _WithDeadLetterQueue(Queue):
    """A queue that declares its dead-letter queue first, wherever it is declared (nameko's consumer,
    on every reconnect): at-least-once dead-lettering holds a message back until its target exists."""

    dead_letter_queue = None

    def declare(self, nowait=False, channel=None):
        if self.dead_letter_queue is not None and not self.no_declare:
            self.dead_letter_queue.bind(channel or self.channel).declare(nowait=nowait)
        return super().declare(nowait=nowait, channel=channel)


def dead_letter(service):
    """Where a service's failed and malformed events wait for an operator (shared.dead_letters)."""
    return quorum(dead_letter_name(service))


def event_bindings(routes):
    """Bindings to (source service, event type) routes. Passive: a service may bind to another's
    exchange, not declare it (shared.provision declares them)."""
    return [binding(Exchange(exchange_of(source), type="topic", passive=True), routing_key=event_type)
            for source, event_type in routes]


def subscription(name, service, routes):
    """A service's event queue: bound to `routes`, poison messages dead-lettered after DELIVERY_LIMIT."""
    queue = _WithDeadLetterQueue(name, bindings=event_bindings(routes), durable=True, queue_arguments={
        **QUORUM, "x-delivery-limit": DELIVERY_LIMIT, **_dead_letter_into(dead_letter_name(service))})
    queue.dead_letter_queue = dead_letter(service)
    return queue


def retry(queue_name, delay_seconds):
    """Holds a failed message `delay_seconds`, then hands it back to `queue_name`."""
    ms = int(delay_seconds * 1000)
    return quorum(retry_name(queue_name, delay_seconds), **{"x-message-ttl": ms, **_dead_letter_into(queue_name)})


def rpc(service, exchange):
    """nameko's RPC request queue of `service` on the RPC `exchange`, as nameko binds it."""
    return quorum(rpc_name(service), [binding(exchange, routing_key=f"{service}.*")])


def of_service(service, retry_delays):
    """Every durable queue `service` declares, as it declares them: its dead-letter queue, its
    subscriptions and their retry queues (one per delay of `retry_delays`), its RPC queue when it has one.
    Imports the service's class (for its entrypoints)."""
    from shared import registry
    from shared.identities import RPC_EXCHANGE
    from shared.rpc import Rpc
    from shared.subscriber import EventSubscriber

    service_class = registry.spec(service).load_class()
    entrypoints = [(attribute, entrypoint) for attribute in sorted(dir(service_class))
                   for entrypoint in getattr(getattr(service_class, attribute), "nameko_entrypoints", ())]
    # In the order an upgrade (shared.queue_upgrade) rebuilds them: the dead-letter queue before the
    # subscriptions that declare and dead-letter into it, the retry queues before the subscription
    # they hand messages back to (a quorum retry queue holds a message back while its target is
    # rebuilt; a classic one would drop it).
    found = [dead_letter(service)]
    for attribute, entrypoint in entrypoints:
        if isinstance(entrypoint, EventSubscriber):
            name = entrypoint.queue_name(service, attribute)
            found += [retry(name, delay) for delay in retry_delays]
            found.append(subscription(name, service, entrypoint.routes))
    if any(isinstance(entrypoint, Rpc) for _, entrypoint in entrypoints):
        found.append(rpc(service, Exchange(RPC_EXCHANGE, type="topic", passive=True)))
    return found
