"""Subscribe to SmartCity events with plain kombu: no nameko, no project code needed."""
import json

from kombu import Connection, Exchange, Queue, binding


def subscribe(amqp_uri, queue_name, routes, handle, max_messages=None, idle_timeout=None):
    """Call `handle(event)` for each event of `routes`, a list of (exchange, routing key) pairs.

    The queue is durable and named, so events published while this subscriber is down wait for
    it. A message is acknowledged only after `handle` returns; if it raises, the broker delivers
    the message again. Delivery is at-least-once: deduplicate on event["id"].
    """
    bindings = [binding(Exchange(exchange, type="topic", durable=True), routing_key=key) for exchange, key in routes]
    queue = Queue(queue_name, bindings=bindings, durable=True)
    received = 0

    def on_message(message):
        nonlocal received
        event = json.loads(message.body)  # a CloudEvents 1.0 envelope; the payload is event["data"]
        handle(event)
        message.ack()
        received += 1

    with Connection(amqp_uri) as connection:
        with connection.Consumer(queue, on_message=on_message, prefetch_count=50):
            while max_messages is None or received < max_messages:
                connection.drain_events(timeout=idle_timeout)


if __name__ == "__main__":
    subscribe(
        "amqp://guest:guest@127.0.0.1:5672/",
        "city-portal.ideas",
        [("ideas.events", "IdeaPublished"), ("ideas.events", "MilestoneReached"), ("voting.events", "PilotApproved")],
        lambda event: print(event["type"], event["subject"], event["data"]),
    )
