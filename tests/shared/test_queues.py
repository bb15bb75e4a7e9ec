"""Quorum queues (shared.queues) on the real broker: what the services declare, the delivery limit as a
backstop into the dead-letter queue, and `smartcity queues upgrade` from an older release's classic queues.

The queues' type and arguments are read back with `rabbitmqctl list_queues` (no management plugin)."""
import json
import shutil
import subprocess
import uuid

import amqp as pyamqp
import pytest
from kombu import Connection, Exchange

from shared import config, dead_letters, queue_upgrade, queues
from shared.identities import PUBLISHED_BY, publisher_of
from shared.provision import vhost_of
from tests.fixtures import broker_uri, purge_dead_letters, wait_for
from tests.ideas.test_board_events import decision

pytestmark = pytest.mark.integration


def listed(amqp_uri):
    """{queue name: (type, durable, {argument: value})} of the test vhost, as the broker reports them."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl reads queue types and arguments of the local broker")
    command = ["rabbitmqctl", "-q", "list_queues", "-p", vhost_of(amqp_uri), "name", "type", "durable", "arguments",
               "--formatter", "json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return {row["name"]: (row["type"], row["durable"], {name: value for name, _, value in row["arguments"]})
            for row in json.loads(result.stdout or "[]")}


def assert_declared_as_shared_queues_says(found, queue):
    assert queue.name in found, f"{queue.name} was not declared"
    kind, durable, arguments = found[queue.name]
    assert (kind, durable) == ("quorum", True), queue.name
    assert arguments == queue.queue_arguments, queue.name


# --- what the services declare --------------------------------------------------------------

def test_a_services_queues_are_quorum_queues_with_the_arguments_of_shared_queues(
        ideas_service, voting_service, ideas_settings, amqp_uri, publish_event):
    # a decision on an idea the ideas service does not know fails every time: retried, then parked,
    # so its retry queues exist too
    publish_event("voting", "PilotApproved", decision(uuid.uuid4()))
    wait_for(lambda: dead_letters.list_parked(amqp_uri, "ideas"), timeout=15, message="parked")
    found = listed(amqp_uri)

    expected = queues.of_service("ideas", ideas_settings.retry_delays)
    names = {queue.name for queue in expected}
    assert {"ideas.dead-letter", "rpc-ideas", "evt-voting-PilotApproved--ideas.on_pilot_approved",
            "evt-voting-PilotApproved--ideas.on_pilot_approved.retry.200ms"} <= names
    for queue in expected:
        if ".retry." not in queue.name or "PilotApproved" in queue.name:  # retry queues exist once used
            assert_declared_as_shared_queues_says(found, queue)
    for queue in queues.of_service("voting", config.load("voting").retry_delays):
        if ".retry." not in queue.name:
            assert_declared_as_shared_queues_says(found, queue)

    subscription = found["evt-voting-PilotApproved--ideas.on_pilot_approved"][2]
    assert subscription["x-delivery-limit"] == queues.DELIVERY_LIMIT
    assert subscription["x-dead-letter-routing-key"] == "ideas.dead-letter"
    assert subscription["x-dead-letter-strategy"] == "at-least-once"
    assert found["evt-voting-PilotApproved--ideas.on_pilot_approved.retry.200ms"][2]["x-message-ttl"] == 200
    assert "x-delivery-limit" not in found["ideas.dead-letter"][2]
    assert found["rpc-ideas"][2] == {"x-queue-type": "quorum"}
    # nameko's per-process reply queues stay classic (they expire); nothing else is
    assert {name for name, (kind, _, _) in found.items()
            if kind != "quorum" and name.startswith(("evt-", "rpc-"))} == set()


# --- the delivery limit ---------------------------------------------------------------------

POISON_QUEUE = "evt-poison--ideas.on_test"


def crash_on(uri, queue_name, times):
    """Take the message and go away without settling it, `times` times, as a consumer that crashes on it."""
    with Connection(uri) as conn:
        for _ in range(times):
            channel = conn.channel()
            message = channel.basic_get(queue_name, no_ack=False)
            channel.close()  # unsettled: the broker takes it back and counts a delivery
            if message is None:
                return


def test_a_message_returned_more_often_than_the_delivery_limit_is_parked_listed_and_replayable(
        amqp, amqp_uri, publish_event):
    ideas_uri = broker_uri("ideas", amqp_uri)
    purge_dead_letters(amqp, "ideas")
    with Connection(ideas_uri) as conn:
        channel = conn.channel()
        channel.queue_delete(POISON_QUEUE)
        queues.subscription(POISON_QUEUE, "ideas", []).bind(channel).declare()
        channel.close()
    try:
        event = publish_event("voting", "PilotApproved", decision(uuid.uuid4()), queue=POISON_QUEUE)
        crash_on(ideas_uri, POISON_QUEUE, queues.DELIVERY_LIMIT)
        assert dead_letters.list_parked(amqp_uri, "ideas") == []  # the limit is not reached yet
        crash_on(ideas_uri, POISON_QUEUE, 1)

        parked = wait_for(lambda: dead_letters.list_parked(amqp_uri, "ideas"), message="parked by the broker")
        assert len(parked) == 1
        assert json.loads(parked[0].body)["id"] == event["id"]
        assert (parked[0].original_queue, parked[0].reason) == (POISON_QUEUE, dead_letters.BROKER_REASON)
        assert str(queues.DELIVERY_LIMIT) in parked[0].error and parked[0].parked_at

        # listing takes every message and gives it back: the dead-letter queue has no limit to reach
        for _ in range(25):
            assert len(dead_letters.list_parked(amqp_uri, "ideas")) == 1

        replayed = dead_letters.replay(ideas_uri, "ideas")
        assert [r.original_queue for r in replayed] == [POISON_QUEUE]
        with Connection(ideas_uri) as conn:
            copy = wait_for(lambda: conn.channel().basic_get(POISON_QUEUE, no_ack=True), message="replayed copy")
        headers = copy.properties["application_headers"]
        assert json.loads(copy.body)["id"] == event["id"]
        assert "x-death" not in headers
        # a copy made by the service, naming the publisher the broker vouched for: its consumer accepts it
        assert (copy.properties["user_id"], headers[PUBLISHED_BY]) == ("ideas", "voting")
        assert publisher_of(copy.properties["user_id"], headers, "ideas") == "voting"
        assert dead_letters.list_parked(amqp_uri, "ideas") == []
    finally:
        amqp.channel().queue_delete(POISON_QUEUE)


# --- upgrading an older release's classic queues ---------------------------------------------

SUBSCRIPTION = "evt-upgradetest--ideas.on_decision"


def new_queues():
    """What the code declares now, in the order of shared.queues.of_service: a queue like a dead-letter
    queue, a retry queue, its subscription."""
    return [queues.quorum("evt-upgradetest--ideas.parked"), queues.retry(SUBSCRIPTION, 60),
            queues.subscription(SUBSCRIPTION, "ideas", [("voting", "PilotApproved"), ("voting", "PilotRejected")])]


def declare_old_release(amqp):
    """The same queues as an older release declared them: classic, with the same bindings, holding messages."""
    channel = amqp.channel()
    for queue in new_queues():
        for name in (queue.name, queue_upgrade.temp_name("ideas", queue.name)):
            channel.queue_delete(name)
    channel.queue_declare("evt-upgradetest--ideas.parked", durable=True, auto_delete=False)
    channel.queue_declare(SUBSCRIPTION, durable=True, auto_delete=False)
    for key in ("PilotApproved", "PilotRejected"):
        channel.queue_bind(SUBSCRIPTION, "voting.events", key)
    channel.queue_declare(f"{SUBSCRIPTION}.retry.60000ms", durable=True, auto_delete=False, arguments={
        "x-message-ttl": 60000, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": SUBSCRIPTION})
    channel.close()


def bodies(uri, name):
    """The bodies of every message of `name` (left in place) and the publisher each copy names."""
    with Connection(uri) as conn:
        channel = conn.channel()
        messages = dead_letters._drain(channel, name)
        found = sorted((m.body, publisher_of(m.properties.get("user_id"), m.properties.get("application_headers"),
                                             conn.userid)) for m in messages)
        channel.close()
    return found


def publish(amqp_uri, queue=None, event_type="PilotApproved"):
    """A decision published by the voting service, through its exchange or straight into `queue`."""
    with Connection(broker_uri("voting", amqp_uri)) as conn:
        channel = conn.channel()
        body = json.dumps({"id": str(uuid.uuid4()), "type": event_type}).encode()
        channel.basic_publish_confirm(pyamqp.Message(body, user_id="voting", delivery_mode=2),
                                      exchange="" if queue else "voting.events", routing_key=queue or event_type)
        channel.close()
    return body


def cleanup(amqp):
    channel = amqp.channel()
    for queue in new_queues():
        for name in (queue.name, queue_upgrade.temp_name("ideas", queue.name)):
            channel.queue_delete(name)
    channel.close()


def test_upgrade_turns_classic_queues_into_quorum_queues_with_their_messages_and_bindings(amqp, amqp_uri):
    ideas_uri = broker_uri("ideas", amqp_uri)  # as the service's own user, as the command runs
    declare_old_release(amqp)
    try:
        sent = {"evt-upgradetest--ideas.parked": [publish(amqp_uri, "evt-upgradetest--ideas.parked")],
                f"{SUBSCRIPTION}.retry.60000ms": [publish(amqp_uri, f"{SUBSCRIPTION}.retry.60000ms")],
                SUBSCRIPTION: [publish(amqp_uri), publish(amqp_uri, event_type="PilotRejected"), publish(amqp_uri)]}
        assert {name: listed(amqp_uri)[name][0] for name in sent} == dict.fromkeys(sent, "classic")

        dry = queue_upgrade.upgrade(ideas_uri, "ideas", new_queues(), dry_run=True)
        assert [o.action for o in dry] == ["would upgrade"] * 3
        assert "arguments differ" in dry[2].detail and "3 message(s) waiting" in dry[2].detail
        assert {name: listed(amqp_uri)[name][0] for name in sent} == dict.fromkeys(sent, "classic")

        done = queue_upgrade.upgrade(ideas_uri, "ideas", new_queues())
        assert [(o.queue, o.action, o.moved) for o in done] == [(name, "upgraded", len(sent[name])) for name in sent]
        found = listed(amqp_uri)
        for queue in new_queues():
            assert_declared_as_shared_queues_says(found, queue)
            assert queue_upgrade.temp_name("ideas", queue.name) not in found
            # the same messages, each still naming voting as its publisher
            assert bodies(ideas_uri, queue.name) == sorted((body, "voting") for body in sent[queue.name])

        # the bindings were made again: both event types still arrive
        publish(amqp_uri, event_type="PilotRejected")
        wait_for(lambda: len(bodies(ideas_uri, SUBSCRIPTION)) == 4, message="a new event through the bindings")

        again = queue_upgrade.upgrade(ideas_uri, "ideas", new_queues())
        assert [(o.action, o.moved) for o in again] == [("up to date", 0)] * 3
        assert "up to date" in again[0].line()
    finally:
        cleanup(amqp)


def test_upgrade_carries_on_after_a_run_that_stopped_midway(amqp, amqp_uri):
    ideas_uri = broker_uri("ideas", amqp_uri)
    declare_old_release(amqp)
    try:
        sent = sorted([publish(amqp_uri), publish(amqp_uri)])
        subscription = new_queues()[2]
        temp = queues.quorum(queue_upgrade.temp_name("ideas", SUBSCRIPTION), subscription.bindings)
        with Connection(ideas_uri) as conn:  # the first run stopped after emptying and deleting the old queue
            queue_upgrade._declare(conn, temp)
            assert queue_upgrade._drain_into(conn, SUBSCRIPTION, temp.name) == (2, 0)
        assert SUBSCRIPTION not in listed(amqp_uri)

        outcome, = queue_upgrade.upgrade(ideas_uri, "ideas", [subscription])
        assert (outcome.action, outcome.detail, outcome.moved) == ("upgraded", "finishing an earlier upgrade", 2)
        assert [body for body, _ in bodies(ideas_uri, SUBSCRIPTION)] == sent
        assert temp.name not in listed(amqp_uri)
    finally:
        cleanup(amqp)


def test_upgrade_drops_stale_rpc_requests_and_says_how_many(amqp, amqp_uri):
    """An RPC queue (here of a service `upgradetest`, as guest): its callers gave up long ago."""
    rpc = queues.rpc("upgradetest", Exchange("nameko-rpc", type="topic", passive=True))
    channel = amqp.channel()
    channel.queue_delete(rpc.name)
    channel.queue_declare(rpc.name, durable=True, auto_delete=False)
    channel.queue_bind(rpc.name, "nameko-rpc", "upgradetest.*")
    channel.basic_publish(pyamqp.Message(b"{}"), exchange="", routing_key=rpc.name)
    try:
        outcome, = queue_upgrade.upgrade(amqp_uri, "upgradetest", [rpc])
        assert (outcome.action, outcome.dropped, outcome.moved) == ("upgraded", 1, 0)
        assert "1 stale RPC request(s) dropped" in outcome.line()
        assert_declared_as_shared_queues_says(listed(amqp_uri), rpc)
    finally:
        amqp.channel().queue_delete(rpc.name)


def test_queues_upgrade_refuses_queues_a_running_service_consumes(ideas_service, capsys):
    from shared.cli import main

    assert main(["queues", "upgrade", "--dry-run", "ideas"]) == 1
    out = capsys.readouterr()
    assert "ideas: evt-voting-PilotApproved--ideas.on_pilot_approved: in use (1 consumer(s)" in out.out
    assert "ideas: ideas.dead-letter" not in out.out  # as it should be: counted, not listed
    assert "queue(s) up to date" in out.out
    assert "stop every service" in out.err
