"""Subscribe to SmartCity events with plain kombu: no nameko, no project code needed."""
import json

from kombu import Connection, Exchange, Queue, binding


def subscribe(amqp_uri, queue_name, routes, handle, max_messages=None, idle_timeout=None):
    """Call `handle(event)` for each event of `routes`, a list of (exchange, routing key) pairs.

    Log in as your own read-only user `sub-<name>`; your queue must be named `sub-<name>.<anything>`.
    It is a quorum queue: durable and replicated across the broker's nodes, so events published while
    this subscriber is down wait for it, even through the loss of a broker node. A message is
    acknowledged only after `handle` returns; if it raises, the broker delivers it again. Delivery is
    at-least-once: deduplicate on event["id"]. Only the owner of `<service>.events`, the broker user
    `<service>`, may publish there, and the broker vouches for the publisher's `user_id`: anything
    else is skipped.
    """
    # passive: the exchanges exist already, and a subscriber may bind to them, not declare them
    bindings = [binding(Exchange(exchange, type="topic", passive=True), routing_key=key) for exchange, key in routes]
    queue = Queue(queue_name, bindings=bindings, durable=True, queue_arguments={"x-queue-type": "quorum"})
    received = 0

    def on_message(message):
        nonlocal received
        event = json.loads(message.body)  # a CloudEvents 1.0 envelope; the payload is event["data"]
        owner = message.delivery_info["exchange"].removesuffix(".events")
        if message.properties.get("user_id") == owner and event["source"] == f"/smartcity/{owner}":
            handle(event)
            received += 1
        message.ack()

    with Connection(amqp_uri) as connection:
        with connection.Consumer(queue, on_message=on_message, prefetch_count=50):
            while max_messages is None or received < max_messages:
                connection.drain_events(timeout=idle_timeout)


if __name__ == "__main__":
    subscribe(
        "amqp://sub-city-portal:sub-city-portal-local-password@127.0.0.1:5672/",
        "sub-city-portal.ideas",
        [("ideas.events", "IdeaPublished"), ("ideas.events", "MilestoneReached"), ("voting.events", "PilotApproved")],
        lambda event: print(event["type"], event["subject"], event["data"]),
    )
