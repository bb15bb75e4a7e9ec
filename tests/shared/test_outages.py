"""The edges under faults: broker node lists with failover, and outages answered clearly.

A dependency goes away through a TCP proxy the test cuts (tests/shared/tcp_proxy.py), never by
touching the machine's own PostgreSQL or RabbitMQ.
"""
import dataclasses
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import kombu.exceptions
import psycopg2
import psycopg2.errors
import pytest
import requests
from kombu import Queue
from nameko.containers import ServiceContainer

from shared import amqp, config, identities, metrics, outages
from shared.db import Pool, UnitOfWorkProvider
from shared.rpc import rpc
from shared.subscriber import subscribe
from tests.conftest import SLOT
from tests.fixtures import purge_dead_letters, wait_for
from tests.shared.tcp_proxy import TcpProxy

DEAD = "127.0.0.1:1"  # nothing listens there: connection refused at once
IDEA = {"municipality": "gera", "title": "Digitale Parkplatzsuche", "field_of_action": "mobilitaet-infrastruktur",
        "description": "Sensoren an Parkplätzen in der Innenstadt melden freie Plätze an eine App.",
        "channel": "form", "location": {"lat": 50.8806, "lon": 12.0817}}


def dead_first(uri, dead=(DEAD,)):
    """`uri` as the last node of a list whose first nodes are dead ports."""
    nodes = [uri.replace(identities.nodes(uri)[0].split("@", 1)[1].split("/", 1)[0], host) for host in dead]
    return ";".join([*nodes, uri])


# --- pure: node lists and which failures are outages -----------------------------------------------

def test_a_node_list_keeps_one_user_and_gets_credentials_on_every_node():
    uri = "amqp://guest:guest@h1:5672/v;amqp://guest:guest@h2:5673/v"
    assert identities.nodes(uri) == ["amqp://guest:guest@h1:5672/v", "amqp://guest:guest@h2:5673/v"]
    assert identities.nodes("postgresql://u:p;x@h/db") == ["postgresql://u:p;x@h/db"]  # only AMQP lists
    assert identities.with_credentials(uri, "ideas", "pw") == "amqp://ideas:pw@h1:5672/v;amqp://ideas:pw@h2:5673/v"
    assert identities.user_of("amqp://ideas:pw@h1;amqp://x:y@h2") == "ideas"
    assert amqp.user_of_uri("amqp://ideas:pw@h1:5672/v;amqp://ideas:pw@h2:5673/v") == "ideas"


def test_a_service_refuses_a_node_list_with_another_user_on_any_node(monkeypatch):
    monkeypatch.setenv("SMARTCITY_IDEAS_AMQP_URI", "amqp://ideas:pw@h1/v;amqp://voting:pw@h2/v")
    with pytest.raises(RuntimeError, match="as the user 'ideas', not 'voting'"):
        config.load("ideas")
    monkeypatch.setenv("SMARTCITY_IDEAS_AMQP_URI", "amqp://ideas:own@h1/v;amqp://ideas:ideas-local-password@h2/v")
    monkeypatch.setenv("SMARTCITY_ENV", "production")
    monkeypatch.setenv("SMARTCITY_JWT_SECRET", "s" * 32)
    monkeypatch.setenv("SMARTCITY_JWT_ISSUER", "i")
    monkeypatch.setenv("SMARTCITY_JWT_AUDIENCE", "a")
    with pytest.raises(RuntimeError, match="SMARTCITY_IDEAS_AMQP_URI"):  # a development password on node 2
        config.load("ideas")


def test_the_default_uri_list_names_the_service_on_every_node(monkeypatch):
    monkeypatch.setenv("SMARTCITY_AMQP_URI", "amqp://guest:guest@h1:5672/v;amqp://guest:guest@h2:5673/v")
    monkeypatch.delenv("SMARTCITY_VOTING_AMQP_URI", raising=False)
    assert config.amqp_uri_for("voting") == ("amqp://voting:voting-local-password@h1:5672/v;"
                                             "amqp://voting:voting-local-password@h2:5673/v")


def test_outages_are_told_from_faults():
    assert outages.dependency_of(psycopg2.OperationalError("server closed the connection")) == "database"
    assert outages.dependency_of(psycopg2.InterfaceError("connection already closed")) == "database"
    assert outages.dependency_of(psycopg2.pool.PoolError("connection pool is closed")) == "database"
    assert outages.dependency_of(kombu.exceptions.OperationalError("[Errno 111] refused")) == "broker"
    try:
        try:
            raise psycopg2.OperationalError("could not connect")
        except psycopg2.OperationalError as exc:
            raise RuntimeError("while applying") from exc
    except RuntimeError as wrapped:
        assert outages.dependency_of(wrapped) == "database" and outages.database_unreachable(wrapped)
    assert outages.dependency_of(ValueError("a bug")) is None
    assert outages.dependency_of(ConnectionRefusedError()) is None  # a webhook's, not the broker's
    assert not outages.database_unreachable(ValueError("a bug"))
    assert outages.database_unreachable(outages.PoolExhausted("no free connection"))


# --- the real broker: a dead first node ------------------------------------------------------------

@pytest.mark.integration
def test_a_list_whose_first_node_is_dead_connects_publishes_and_consumes(amqp_uri):
    uri = dead_first(amqp_uri, (DEAD, "127.0.0.1:2"))
    queue = Queue(f"failover-probe-{uuid.uuid4().hex[:8]}", durable=False, auto_delete=False)
    publisher = amqp.Publisher(uri)
    try:
        publisher.publish(b'{"n": 1}', routing_key=queue.name, content_type="application/json", declare=[queue])
        with amqp.connect(uri) as conn:  # each node once: the third answers
            channel = conn.channel()
            message = wait_for(lambda: channel.basic_get(queue.name, no_ack=True), message="the message")
            assert json.loads(message.body) == {"n": 1}
            assert message.properties["user_id"] == "guest"  # the user of the list (its first node)
            channel.queue_delete(queue.name)
    finally:
        publisher.close()
    with pytest.raises(kombu.exceptions.OperationalError):
        amqp.connect(dead_first(f"amqp://guest:guest@{DEAD}/", ()), connect_timeout=1)


class FailoverProbe:
    name = "failover_probe"  # its rpc-failover_probe queue is a quorum queue like every service's (shared.rpc)

    @rpc
    def echo(self, value):
        return value


@pytest.mark.integration
def test_a_nameko_service_on_a_node_list_consumes_and_answers_and_the_cluster_proxy_reaches_it(amqp_uri):
    """nameko hands AMQP_URI to kombu as it is: the RPC consumer, its reply publisher and our standalone
    proxy all fail over to the live node."""
    from shared.rpc import ServiceClusterRpc

    uri = dead_first(amqp_uri, (DEAD, "127.0.0.1:2"))
    container = ServiceContainer(FailoverProbe, {"AMQP_URI": uri})
    container.start()
    try:
        with ServiceClusterRpc({"AMQP_URI": uri}, "failover_probe", timeout=10) as proxy:
            assert proxy.failover_probe.echo("hallo") == "hallo"
    finally:
        container.stop()
        with amqp.connect(amqp_uri) as conn:
            conn.default_channel.queue_delete("rpc-failover_probe")


# --- outages at the HTTP edge -----------------------------------------------------------------------

def _port(n):
    return 18000 + 100 * SLOT + n


@pytest.fixture
def proxied_ideas(ideas_database, ideas_settings, amqp_uri):
    """An ideas service whose database and broker are each behind a proxy the test can cut."""
    from services.ideas.service import IdeasService

    database = TcpProxy(5432)
    broker = TcpProxy(5672)
    settings = dataclasses.replace(
        ideas_settings, database_url=ideas_settings.database_url.replace("127.0.0.1:5432", database.url_netloc),
        amqp_uri=ideas_settings.amqp_uri.replace("127.0.0.1:5672", broker.url_netloc),
        http_address=f"127.0.0.1:{_port(41)}")
    container = ServiceContainer(IdeasService, settings.nameko_config())
    container.start()
    try:
        yield f"http://{settings.http_address}", database, broker
    finally:
        database.restore()
        broker.restore()
        container.stop()
        database.close()
        broker.close()


def _timed(method, url, **kwargs):
    started = time.monotonic()
    response = requests.request(method, url, timeout=10, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.integration
def test_a_write_while_the_database_is_away_gets_503_with_retry_after_and_2xx_once_it_is_back(proxied_ideas, auth):
    base, database, _ = proxied_ideas
    headers = auth("citizen", subject="outage-1")
    assert requests.get(base + "/health/ready", timeout=10).status_code == 200
    assert requests.post(base + "/api/v1/ideas", json=IDEA, headers=headers, timeout=10).status_code == 201

    database.cut()
    for method, path, body in (("POST", "/api/v1/ideas", IDEA), ("GET", "/api/v1/ideas?municipality=gera", None)):
        response, seconds = _timed(method, base + path, json=body, headers=headers)
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) == 5
        assert response.json()["error"]["dependency"] == "database"
        assert seconds < 8, f"{method} {path} took {seconds:.1f}s"
    ready, seconds = _timed("GET", base + "/health/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("failed") and seconds < 8

    database.restore()
    wait_for(lambda: requests.get(base + "/health/ready", timeout=10).status_code == 200, timeout=10,
             message="ready again")
    response = requests.post(base + "/api/v1/ideas", json=IDEA, headers=headers, timeout=10)
    assert response.status_code == 201, response.text


@pytest.mark.integration
def test_readiness_says_503_while_the_broker_is_away_and_writes_still_go_to_the_outbox(proxied_ideas, auth):
    base, _, broker = proxied_ideas
    assert requests.get(base + "/health/ready", timeout=10).status_code == 200
    broker.cut()
    ready, seconds = _timed("GET", base + "/health/ready")
    assert ready.status_code == 503 and ready.json()["checks"] == {"database": "ok", "broker": ready.json()[
        "checks"]["broker"]} and ready.json()["checks"]["broker"].startswith("failed") and seconds < 8
    response = requests.post(base + "/api/v1/ideas", json=IDEA, headers=auth("citizen", subject="outage-2"),
                             timeout=10)
    assert response.status_code == 201, response.text  # the outbox holds the event until the broker is back
    broker.restore()
    wait_for(lambda: requests.get(base + "/health/ready", timeout=10).status_code == 200, timeout=10,
             message="ready again")


@pytest.mark.integration
def test_a_statement_over_its_timeout_is_an_outage_at_the_edge_but_not_an_unreachable_database(ideas_database):
    pool = Pool(ideas_database, 1, timeouts=(3, 0.05, 1))
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled) as cancelled:
            with pool.transaction() as cur:
                cur.execute("SELECT pg_sleep(1)")
        assert outages.dependency_of(cancelled.value) == "database"  # 503 to a client
        assert not outages.database_unreachable(cancelled.value)  # a consumer counts the attempt
        assert pool.ping()
    finally:
        pool.close()
    with pytest.raises(psycopg2.OperationalError) as refused:
        Pool(ideas_database.replace("127.0.0.1:5432", DEAD), 1, timeouts=(3, 1, 1)).ping()
    assert outages.database_unreachable(refused.value)


# --- a consumer does not spend its attempts on an outage --------------------------------------------

class DeferProbe:
    name = "voting"  # its broker user may consume evt-…--voting.* queues
    uow = UnitOfWorkProvider(lambda cur: cur, emits=False)

    @subscribe("ideas", "IdeaPublished")
    def outage_probe(self, event):
        with self.uow:
            return self.uow.claim("voting.outage_probe", event["id"], event["type"])


@pytest.mark.integration
def test_an_event_whose_handler_meets_a_database_outage_waits_without_counting_attempts(
        voting_database, voting_settings, publish_event, amqp):
    database = TcpProxy(5432)
    settings = dataclasses.replace(
        voting_settings, database_url=voting_settings.database_url.replace("127.0.0.1:5432", database.url_netloc),
        http_address=f"127.0.0.1:{_port(42)}")
    purge_dead_letters(amqp, "voting")
    deferred = metrics.EVENTS_CONSUMED.labels("voting", "IdeaPublished", "deferred")
    before = deferred._value.get()
    container = ServiceContainer(DeferProbe, settings.nameko_config())
    container.start()
    queue = "evt-ideas-IdeaPublished--voting.outage_probe"
    check = psycopg2.connect(voting_database)
    check.autocommit = True
    try:
        database.cut()
        envelope = publish_event("ideas", "IdeaPublished", {
            "idea_id": uuid.uuid4(), "municipality": "gera", "field_of_action": "energie", "title": "Solardächer",
            "channel": "form", "author_id": "x", "published_at": datetime.now(timezone.utc) - timedelta(seconds=1)})
        # The retry budget (0.2 s, 0.4 s: parked after 3 failures) would be spent several times over.
        wait_for(lambda: deferred._value.get() >= before + 4, timeout=10, message="the event deferred again and again")
        database.restore()

        def applied():
            with check.cursor() as cur:
                cur.execute("SELECT 1 FROM inbox WHERE consumer = 'voting.outage_probe' AND event_id = %s",
                            (envelope["id"],))
                return cur.fetchone() is not None

        wait_for(applied, timeout=10, message="the event applied once the database was back")
        channel = amqp.channel()
        parked = []
        while (message := channel.basic_get("voting.dead-letter", no_ack=False)) is not None:
            parked.append(json.loads(message.body)["id"])
        channel.close()  # un-acked: back where they were
        assert envelope["id"] not in parked
    finally:
        database.restore()
        container.stop()
        database.close()
        check.close()
        channel = amqp.channel()
        for name in [queue] + [f"{queue}.retry.{int(d * 1000)}ms" for d in settings.retry_delays]:
            channel.queue_delete(name)
        channel.close()
