"""The bus trusts only an event's owner, on the real RabbitMQ and PostgreSQL.

Every service runs under its own broker user and database roles (made by shared.provision, as
`make run` does). Forged events are refused by the broker where it can tell, and by every
consumer where it cannot; outside subscribers read and nothing more; RPC names its caller.
"""
import json
import uuid

import eventlet
import psycopg2
import pytest
from amqp.exceptions import AccessRefused, NotFound, PreconditionFailed
from kombu import Connection, Exchange, Queue, binding

from bench.event_stream import envelope
from shared import config, dead_letters, identities, outbox, provision
from shared.amqp import Publisher
from shared.db import Pool
from shared.envelope import exchange_of, make_event
from shared.migrate import migrate
from tests.conftest import SUBSCRIBER
from tests.fixtures import RpcFailed, broker_uri, other_database, rpc_call, wait_for
from tests.ideas.test_api import submit
from tests.ideas.test_board_events import decision, shortlisted_idea, status_of

pytestmark = pytest.mark.integration

# The consumers of each forged event type (notifications: tests/notifications/test_trust.py).
CONSUMERS = {
    "PilotApproved": {"ideas": "evt-voting-PilotApproved--ideas.on_pilot_approved",
                      "reporting": "evt-all--reporting.on_event"},
    "VoteCast": {"reporting": "evt-all--reporting.on_event"},
    "IdeaPublished": {"voting": "evt-ideas-IdeaPublished--voting.on_idea_published",
                      "reporting": "evt-all--reporting.on_event"},
}
# Who forges, and how far the broker lets them: (publisher's user, user_id sent, straight into the queues).
FORGERS = {
    "broker-admin": ("guest", "guest", False),  # any user allowed to write to the exchange, not its owner
    "owner-without-user-id": (None, None, False),  # the owner's own connection, but no user_id: unprovable
    "another-service": ("notifications", "notifications", True),  # a service user, through the default exchange
    "owner-with-another-source": (None, ..., False),  # the owner's user, but the envelope names another source
}


@pytest.fixture
def everything(ideas_service, voting_service, reporting_service):
    """ideas, voting and reporting running, their tables and dead-letter queues empty."""


def forged(event_type, idea_id):
    if event_type == "PilotApproved":
        return make_event("voting", event_type, decision(idea_id, tally={"yes": 42, "no": 0, "abstain": 0}))
    if event_type == "VoteCast":
        return envelope("VoteCast", idea_id, total=99999)
    return envelope("IdeaPublished", idea_id)


def parked(amqp_uri, service):
    return dead_letters.list_parked(amqp_uri, service)


@pytest.mark.parametrize("forger", sorted(FORGERS))
@pytest.mark.parametrize("event_type", sorted(CONSUMERS))
def test_a_forged_event_changes_nothing_anywhere_and_is_parked_with_the_reason(
        everything, forger, event_type, ideas_api, auth, ideas_sql, voting_api, reporting_sql, reporting_api,
        amqp_uri, publish_event):
    idea_id = shortlisted_idea(ideas_api, auth)["id"] if event_type == "PilotApproved" else str(uuid.uuid4())
    event = forged(event_type, idea_id)
    owner = event["source"].rsplit("/", 1)[1]
    user, user_id, into_queues = FORGERS[forger]
    as_user = amqp_uri if user == "guest" else broker_uri(user or owner, amqp_uri)
    if forger == "owner-with-another-source":
        event = {**event, "source": "/smartcity/notifications"}
    if into_queues:
        for queue in CONSUMERS[event_type].values():
            publish_event(owner, event_type, envelope=event, as_user=as_user, user_id=user_id, queue=queue)
    else:
        publish_event(owner, event_type, envelope=event, as_user=as_user, user_id=user_id)

    for consumer, queue in CONSUMERS[event_type].items():
        [message] = wait_for(lambda: parked(amqp_uri, consumer), message=f"{consumer} to park the forgery")
        assert (message.reason, message.original_queue, message.message_id) == ("untrusted-publisher", queue, "")
        assert json.loads(message.body)["id"] == event["id"]
        expected = {"broker-admin": "published by user 'guest'", "owner-without-user-id": "set no user_id",
                    "another-service": "published by user 'notifications'",
                    "owner-with-another-source": "must come from"}[forger]
        assert expected in message.error
    # nothing applied, counted or shown anywhere
    assert reporting_sql("SELECT count(*) FROM event_log WHERE event_type = %s", (event_type,)) == [(0,)]
    summary = reporting_api("GET", "/api/v1/summary").json()
    assert summary["votes"]["cast"] == 0 and summary["pilots"]["approved"] == 0
    if event_type == "PilotApproved":
        assert status_of(ideas_sql, idea_id) == "shortlisted"
        assert ideas_sql("SELECT count(*) FROM inbox") == [(0,)]
    if event_type == "IdeaPublished":
        assert voting_api("GET", f"/api/v1/ideas/{idea_id}").status_code == 404


def test_a_replayed_forgery_is_refused_again(everything, ideas_api, auth, ideas_sql, ideas_settings, amqp_uri,
                                             publish_event):
    idea_id = shortlisted_idea(ideas_api, auth)["id"]
    publish_event("voting", "PilotApproved", decision(idea_id), as_user=amqp_uri)  # guest, not voting
    wait_for(lambda: parked(amqp_uri, "ideas"), message="parked")
    assert [r.event_type for r in dead_letters.replay(ideas_settings.amqp_uri, "ideas")] == ["PilotApproved"]
    [again] = wait_for(lambda: parked(amqp_uri, "ideas"), message="parked again")
    assert again.reason == "untrusted-publisher" and "'guest'" in again.error
    assert status_of(ideas_sql, idea_id) == "shortlisted"


# --- what the broker itself refuses -------------------------------------------------------------

def publishing(uri, exchange, routing_key, user_id=...):
    """Publish one message with publisher confirms; the broker's refusal is raised."""
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        properties = {} if user_id is None else {"user_id": conn.userid if user_id is ... else user_id}
        conn.Producer().publish(b"{}", exchange=exchange, routing_key=routing_key, retry=False, **properties)


@pytest.mark.parametrize("user, exchange, routing_key, user_id, refusal", [
    ("ideas", "voting.events", "PilotApproved", ..., AccessRefused),  # another service's exchange
    ("notifications", "voting.events", "VoteCast", ..., AccessRefused),
    ("ideas", "ideas.events", "PilotApproved", ..., AccessRefused),  # its own exchange, not its event type
    ("ideas", "ideas.events", "IdeaPublished", "voting", PreconditionFailed),  # claims another user
    ("guest", "voting.events", "PilotApproved", "voting", PreconditionFailed),  # even the broker's admin
    (SUBSCRIBER, "voting.events", "PilotApproved", ..., AccessRefused),  # a subscriber publishes nothing
    (SUBSCRIBER, "", "evt-all--reporting.on_event", ..., AccessRefused),  # not even into a queue
    (SUBSCRIBER, "nameko-rpc", "ideas.get_idea", ..., AccessRefused),  # nor an RPC request
], ids=["to-another-exchange", "to-another-exchange-2", "not-its-type", "claims-another-user",
        "admin-claims-voting", "subscriber-to-exchange", "subscriber-to-queue", "subscriber-rpc"])
def test_the_broker_refuses_a_publish_by_anyone_but_the_owner(amqp_uri, user, exchange, routing_key, user_id,
                                                              refusal):
    uri = amqp_uri if user == "guest" else broker_uri(user, amqp_uri)
    with pytest.raises(refusal):
        publishing(uri, exchange, routing_key, user_id)


def test_the_owner_may_publish_its_own_types(amqp_uri):
    publishing(broker_uri("voting", amqp_uri), "voting.events", "PilotApproved")  # confirmed, no refusal


# --- outside subscribers ------------------------------------------------------------------------

def test_an_outside_subscriber_binds_its_own_queue_to_every_exchange_and_reads_the_owners_events(
        everything, amqp, amqp_uri, ideas_api, auth, publish_event):
    queue_name = f"{SUBSCRIBER}.everything"
    amqp.channel().queue_delete(queue_name)
    bindings = [binding(Exchange(exchange, type="topic", passive=True), routing_key="#")
                for exchange in ("ideas.events", "voting.events", "notifications.events")]
    received = []
    with Connection(broker_uri(SUBSCRIBER, amqp_uri)) as conn:
        queue = Queue(queue_name, bindings=bindings, durable=True)
        with conn.Consumer(queue, callbacks=[lambda body, message: (received.append(message), message.ack())]):
            idea = submit(ideas_api, auth)
            publish_event("voting", "VoteCast", envelope=envelope("VoteCast", uuid.uuid4()))
            publish_event("notifications", "NotificationSent", envelope=envelope("NotificationSent", uuid.uuid4()))

            def three():
                try:
                    conn.drain_events(timeout=0.2)
                except (TimeoutError, OSError):
                    pass
                return len(received) >= 3
            wait_for(three, message="three events")
    amqp.channel().queue_delete(queue_name)
    by_type = {json.loads(m.body)["type"]: m for m in received}
    assert json.loads(by_type["IdeaSubmitted"].body)["subject"] == idea["id"]
    assert {t: m.properties["user_id"] for t, m in by_type.items()} == {
        "IdeaSubmitted": "ideas", "VoteCast": "voting", "NotificationSent": "notifications"}


@pytest.mark.parametrize("attempt", ["consume-a-service-queue", "consume-another-subscribers-queue",
                                     "read-a-dead-letter-queue", "declare-outside-its-prefix",
                                     "declare-an-exchange", "bind-anothers-queue"])
def test_an_outside_subscriber_cannot_read_or_declare_what_is_not_its_own(everything, amqp, amqp_uri, attempt):
    channel = amqp.channel()
    channel.queue_declare("sub-other-portal.ideas", durable=True, auto_delete=False)  # another subscriber's
    with Connection(broker_uri(SUBSCRIBER, amqp_uri)) as conn:
        mine = conn.channel()
        with pytest.raises(AccessRefused):
            if attempt == "consume-a-service-queue":
                mine.basic_consume("evt-all--reporting.on_event", callback=lambda message: None)
            elif attempt == "consume-another-subscribers-queue":
                mine.basic_consume("sub-other-portal.ideas", callback=lambda message: None)
            elif attempt == "read-a-dead-letter-queue":
                mine.basic_get("reporting.dead-letter")
            elif attempt == "declare-outside-its-prefix":
                mine.queue_declare("city-portal.ideas", durable=True, auto_delete=False)
            elif attempt == "declare-an-exchange":
                mine.exchange_declare("ideas.events", "topic", durable=True, auto_delete=False)
            else:
                mine.queue_bind("sub-other-portal.ideas", "ideas.events", "#")
    channel.queue_delete("sub-other-portal.ideas")


def test_an_outside_subscriber_cannot_call_rpc(everything, amqp_uri, ideas_api, auth):
    idea = submit(ideas_api, auth)
    with pytest.raises(AccessRefused):
        rpc_call(broker_uri(SUBSCRIBER, amqp_uri), "ideas", "get_idea", idea["id"])


# --- RPC ----------------------------------------------------------------------------------------

def test_rpc_queues_are_readable_only_by_their_service(everything, amqp_uri):
    for user in ("voting", "reporting", SUBSCRIBER):
        with Connection(broker_uri(user, amqp_uri)) as conn:
            with pytest.raises(AccessRefused):
                conn.channel().basic_consume("rpc-ideas", callback=lambda message: None)


def test_another_service_cannot_listen_in_on_rpc_requests(everything, amqp_uri):
    """Its own reply queue bound to `ideas.*` would receive the calls to ideas: the topic permission refuses."""
    with Connection(broker_uri("voting", amqp_uri)) as conn:
        queue = Queue(f"rpc.reply-voting-{uuid.uuid4()}", Exchange("nameko-rpc", "topic", passive=True),
                      routing_key="ideas.*", exclusive=True)
        with pytest.raises(AccessRefused):
            queue(conn.channel()).declare()


def test_an_unknown_caller_gets_no_hidden_idea_but_the_voting_service_does(everything, ideas_api, auth, amqp_uri):
    hidden = submit(ideas_api, auth)
    with pytest.raises(RpcFailed) as refused:
        rpc_call(amqp_uri, "ideas", "get_idea", hidden["id"])
    assert refused.value.exc_type == "NotFound"
    assert rpc_call(broker_uri("voting", amqp_uri), "ideas", "get_idea", hidden["id"])["status"] == "submitted"


# --- PostgreSQL -------------------------------------------------------------------------------

def sql_as(url, statement):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


@pytest.mark.parametrize("statement", [
    "CREATE TABLE intruder (id int)",
    "DROP TABLE ideas",
    "ALTER TABLE ideas ADD COLUMN intruder int",
    "TRUNCATE ideas",
    "CREATE TEMPORARY TABLE intruder (id int)",
    "CREATE SCHEMA intruder",
])
def test_the_runtime_role_reads_and_writes_rows_and_nothing_more(ideas_service, ideas_settings, statement):
    url = ideas_settings.database_url
    assert sql_as(url, "SELECT count(*) FROM ideas") == [(0,)]
    assert sql_as(url, "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user") == [
        (False, False, False)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        sql_as(url, statement)


def test_the_runtime_role_cannot_even_connect_to_another_services_database(ideas_settings, voting_database,
                                                                           voting_settings):
    other = ideas_settings.database_url.rsplit("/", 1)[0] + "/" + voting_settings.database_url.rsplit("/", 1)[1]
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        sql_as(other, "SELECT 1")


def test_the_owner_role_owns_every_table_and_the_service_runs_as_the_runtime_role(ideas_service, ideas_database,
                                                                                   ideas_settings, ideas_api):
    assert ideas_api("GET", "/api/v1/municipalities").status_code == 200
    owner = ideas_settings.migration_database_url.split("://", 1)[1].split(":", 1)[0]
    runtime = ideas_settings.database_url.split("://", 1)[1].split(":", 1)[0]
    owners = sql_as(ideas_database, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners == [(owner,)]
    # the service's pool (all of its connections are open from the start) logs in as the runtime role
    [(sessions,)] = sql_as(ideas_database, "SELECT count(*) FROM pg_stat_activity"
                                           f" WHERE datname = current_database() AND usename = '{runtime}'")
    assert sessions >= ideas_settings.db_pool_size


def test_provisioning_hands_a_database_made_before_the_roles_to_its_owner(ideas_settings):
    """An installation from before the two roles: every table the admin's. Provisioning hands them over."""
    settings = other_database(ideas_settings, "_upgrade")
    name = settings.database_url.rsplit("/", 1)[1]
    admin = config.env("PG_URL").rstrip("/")
    sql_as(f"{admin}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        migrate("ideas", f"{admin}/{name}")  # as before: created and migrated by the admin
        provision.service_database("ideas", settings)
        owner = settings.migration_database_url.split("://", 1)[1].split(":", 1)[0]
        assert sql_as(settings.migration_database_url,
                      "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'") == [(owner,)]
        # the owner carries on from there, and grants the runtime role its rights
        assert migrate("ideas", settings.migration_database_url, identities.user_of(settings.database_url)) == []
        assert sql_as(settings.database_url, "SELECT count(*) FROM municipalities") == [(2,)]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            sql_as(settings.database_url, "DROP TABLE ideas")
    finally:
        sql_as(f"{admin}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_service_declares_its_own_exchange_as_it_starts_not_at_its_first_event(ideas_service, ideas_database,
                                                                                 amqp, amqp_uri):
    """Consumers may only bind to another service's exchange and wait until it is there: without this,
    two services consuming each other's events would wait for each other forever on a fresh broker."""
    exchange = exchange_of("trust-probe")
    relay = outbox.Relay("trust-probe", Pool(ideas_database, 1), Publisher(amqp_uri), 0.1, 60)
    running = eventlet.spawn(relay.run)
    try:
        wait_for(lambda: exists(amqp, exchange), message=f"{exchange} declared")
    finally:
        relay.stop()
        running.wait()
        relay.close()
        amqp.channel().exchange_delete(exchange)


def exists(amqp, exchange):
    try:
        amqp.channel().exchange_declare(exchange, "topic", passive=True)
        return True
    except NotFound:
        return False
