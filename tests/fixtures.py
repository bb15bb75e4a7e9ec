"""Fixtures on the real broker and database."""
import dataclasses
import json
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import psycopg2
import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer

from shared import config, identities, provision, queues
from shared.auth import mint
from shared.envelope import CONTENT_TYPE, exchange_of, make_event
from shared.migrate import migrate
from shared.runner import STOP_TIMEOUT


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def sigterm_when(service, env, ready, timeout=30):
    """Run `python -m shared.runner <service>`, SIGTERM it once `ready()`: (exit code, seconds to stop, stderr)."""
    # stderr to a file, not a pipe: a full pipe nobody reads while waiting would stall the service
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen([sys.executable, "-m", "shared.runner", service], env=env,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_for(ready, timeout=timeout, interval=0.2, message=f"{service} ready")
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                code = None
            elapsed = time.monotonic() - started
            stderr.seek(0)
            return code, elapsed, stderr.read().decode(errors="replace")
        finally:
            if process.poll() is None:
                process.kill()


def assert_stopped_gracefully(code, elapsed, stderr):
    """Stopped by its own stop within the runner's budget (STOP_TIMEOUT), not killed at its end; the
    process's own exit after that may take a moment on a loaded machine."""
    assert code == 0, stderr[-2000:]
    assert "did not stop within" not in stderr, stderr[-2000:]
    assert elapsed < STOP_TIMEOUT + 2, f"took {elapsed:.1f}s to stop"


def fresh_database(settings):
    """Drop the service's test database, provision a new one with its two roles and migrate it as the
    owner; returns the owner's URL, for the tests' own SQL (which also empties tables)."""
    name = settings.database_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(config.env("PG_URL").rstrip("/") + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
    provision.service_database(settings.service, settings)
    migrate(settings.service, settings.migration_database_url, identities.user_of(settings.database_url))
    return settings.migration_database_url


def other_database(settings, suffix):
    """The service's settings on a database of its own, `<test database><suffix>`, with the same roles."""
    def moved(url):
        return f"{url}{suffix}"
    return dataclasses.replace(settings, database_url=moved(settings.database_url),
                               migration_database_url=moved(settings.migration_database_url))


def sql_runner(database_url, tables):
    """(run, close): run SQL on a test database (autocommit) after emptying `tables`."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    for attempt in range(5):
        try:
            with conn.cursor() as cur:
                cur.execute(f"TRUNCATE {', '.join(tables)}")
            break
        except psycopg2.errors.DeadlockDetected:
            # a running service still applying the previous test's last event (inbox row, then the
            # row lock) takes the tables in the other order; PostgreSQL broke the tie against us
            if attempt == 4:
                raise
            time.sleep(0.2)

    def run(query, params=()):
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else None

    return run, conn.close


@pytest.fixture(scope="session")
def ideas_settings():
    return config.load("ideas")


@pytest.fixture(scope="session")
def ideas_database(ideas_settings):
    return fresh_database(ideas_settings)


@pytest.fixture
def ideas_sql(ideas_database):
    """Run SQL on the ideas test database (autocommit); tables are emptied before each test."""
    run, close = sql_runner(ideas_database, ["milestones", "competition_shortlist", "sponsorships", "ideas",
                                             "competitions", "meeting_registrations", "meetings", "survey_results",
                                             "surveys", "working_group_members", "working_groups", "outbox", "inbox",
                                             "comment_reports", "comments", "comment_moderation", "strategy_versions",
                                             "strategies", "sub_concepts"])
    yield run
    close()


@pytest.fixture(scope="session")
def amqp_uri():
    return config.env("AMQP_URI")  # set by conftest


@pytest.fixture
def amqp(amqp_uri):
    with Connection(amqp_uri) as conn:
        yield conn


def _reset_subscriptions(conn, service_cls, service_name):
    """Delete the service's subscription, retry and dead-letter queues left by earlier runs."""
    from shared.subscriber import EventSubscriber

    channel = conn.channel()
    names = [f"{service_name}.dead-letter"]
    for attr in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, attr), "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventSubscriber):
                queue = entrypoint.queue_name(service_name, attr)
                names += [queue] + [f"{queue}.retry.{int(d * 1000)}ms" for d in config.load(service_name).retry_delays]
    for name in names:
        channel.queue_delete(name)
    channel.close()


def started_container(service_cls, settings, amqp_uri):
    """Start the real service in this process, on its test database and the real broker.

    Started once per session (stopping a container takes ~2 s); tests get clean tables
    through the `<service>_sql` fixtures and a clean dead-letter queue through `purge_dead_letters`.
    """
    with Connection(amqp_uri) as conn:
        _reset_subscriptions(conn, service_cls, settings.service)
    container = ServiceContainer(service_cls, settings.nameko_config())
    container.start()
    return container


def purge_dead_letters(conn, service_name):
    channel = conn.channel()
    queues.dead_letter(service_name)(channel).declare()
    channel.queue_purge(f"{service_name}.dead-letter")
    channel.close()


@pytest.fixture(scope="session")
def ideas_container(ideas_database, ideas_settings, amqp_uri):
    from services.ideas.service import IdeasService

    container = started_container(IdeasService, ideas_settings, amqp_uri)
    yield container
    container.stop()


@pytest.fixture
def ideas_service(ideas_sql, ideas_container, amqp):
    purge_dead_letters(amqp, "ideas")
    return ideas_container


@pytest.fixture(scope="session")
def ideas_url(ideas_settings):
    return "http://" + ideas_settings.http_address


@pytest.fixture(scope="session")
def token(ideas_settings):
    def make(subject="alice", *roles):
        return mint(ideas_settings.jwt_secret, subject, roles or ("citizen",))
    return make


@pytest.fixture(scope="session")
def auth(token):
    """auth("moderator") -> headers with a bearer token of that role."""
    def make(*roles, subject=None):
        return {"Authorization": "Bearer " + token(subject or "-".join(roles or ("citizen",)), *roles)}
    return make


def http_client(base_url):
    """(call, close): call(method, path, **requests kwargs) -> response."""
    session = requests.Session()

    def call(method, path, **kwargs):
        return session.request(method, base_url + path, timeout=10, **kwargs)

    return call, session.close


@pytest.fixture
def ideas_api(ideas_service, ideas_url):
    call, close = http_client(ideas_url)
    yield call
    close()


# --- voting ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def voting_settings():
    return config.load("voting")


@pytest.fixture(scope="session")
def voting_database(voting_settings):
    return fresh_database(voting_settings)


@pytest.fixture
def voting_sql(voting_database):
    """Run SQL on the voting test database (autocommit); tables are emptied before each test."""
    run, close = sql_runner(voting_database, ["board_votes", "decisions", "ledger", "ballots", "votes", "rounds",
                                              "thresholds", "ideas", "outbox", "inbox"])
    yield run
    close()


@pytest.fixture(scope="session")
def voting_container(voting_database, voting_settings, amqp_uri, ideas_container):
    """The real voting service; the ideas service runs too (rounds check fields of action over RPC)."""
    from services.voting.service import VotingService

    container = started_container(VotingService, voting_settings, amqp_uri)
    yield container
    container.stop()


@pytest.fixture
def voting_service(voting_sql, ideas_sql, voting_container, amqp):
    purge_dead_letters(amqp, "voting")
    return voting_container


@pytest.fixture
def voting_api(voting_service, voting_settings):
    call, close = http_client("http://" + voting_settings.http_address)
    yield call
    close()


class Tap:
    """A plain kombu consumer on an exchange: what an outside subscriber sees."""

    def __init__(self, conn, exchange, routing_key="#"):
        self.conn = conn
        self.messages = []
        self.queue = Queue("", Exchange(exchange, "topic", durable=True), routing_key=routing_key,
                           exclusive=True, auto_delete=True)
        self.consumer = conn.Consumer(self.queue, on_message=self._on_message)
        self.consumer.consume()

    def _on_message(self, message):
        self.messages.append(message)
        message.ack()

    def events(self, event_type=None, where=None):
        found = [json.loads(m.body) for m in self.messages]
        return [e for e in found if (event_type is None or e["type"] == event_type) and (where is None or where(e))]

    def wait(self, event_type, count=1, timeout=10.0, where=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.events(event_type, where)) < count:
            try:
                self.conn.drain_events(timeout=0.1)
            except TimeoutError:
                pass
            except OSError:  # socket.timeout
                pass
        found = self.events(event_type, where)
        assert len(found) >= count, f"expected {count} {event_type}, got {len(found)}: {self.events()}"
        return found

    def settle(self, seconds=0.5):
        """Collect whatever else arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.conn.drain_events(timeout=0.05)
            except (TimeoutError, OSError):
                pass


@pytest.fixture
def tap(amqp_uri):
    """tap("ideas.events") -> a Tap bound with '#' to that exchange."""
    connections = []

    def make(exchange, routing_key="#"):
        conn = Connection(amqp_uri)
        connections.append(conn)
        return Tap(conn, exchange, routing_key)

    yield make
    for conn in connections:
        conn.release()


def broker_uri(user, amqp_uri=None):
    """The test vhost as `user` (a service or an outside subscriber) with its development password."""
    return identities.with_credentials(amqp_uri or config.env("AMQP_URI"), user, identities.local_password(user))


class RpcFailed(Exception):
    """The callee answered with an error: `exc_type` names it, as nameko's RemoteError does."""

    def __init__(self, error):
        super().__init__(error.get("value"))
        self.exc_type = error.get("exc_type")


def rpc_call(amqp_uri, service, method, *args, user_id=..., headers=None, timeout=10):
    """`service.method(*args)` over nameko's RPC as a plain AMQP client logged in with `amqp_uri`,
    sending that user as the request's user_id (or `user_id`; None: none). Raises RpcFailed."""
    replies = []
    with Connection(amqp_uri) as conn:
        key = str(uuid.uuid4())
        queue = Queue(f"rpc.reply-{conn.userid}-{key}", Exchange("nameko-rpc", "topic", passive=True),
                      routing_key=key, exclusive=True, auto_delete=True)
        with conn.Consumer(queue, callbacks=[lambda body, message: (replies.append(body), message.ack())]):
            properties = {} if user_id is None else {"user_id": conn.userid if user_id is ... else user_id}
            conn.Producer().publish({"args": list(args), "kwargs": {}}, exchange="nameko-rpc",
                                    routing_key=f"{service}.{method}", reply_to=key, correlation_id=key,
                                    serializer="json", headers=headers or {}, retry=False, **properties)
            deadline = time.monotonic() + timeout
            while not replies and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=0.2)
                except (TimeoutError, OSError):
                    pass
    assert replies, f"no answer from {service}.{method} within {timeout}s"
    if replies[0].get("error"):
        raise RpcFailed(replies[0]["error"])
    return replies[0]["result"]


@pytest.fixture
def publish_event():
    """Publish an event (or raw bytes) to a service's exchange as the outbox would: as that service's
    user, with its user_id. `as_user` (a URI) and `user_id` publish as someone else, `queue` straight
    into one queue through the default exchange."""
    connections = {}

    def publish(service, event_type, data=None, *, envelope=None, raw=None, content_type=CONTENT_TYPE,
                as_user=None, user_id=..., queue=None):
        uri = as_user or config.amqp_uri_for(service)
        if uri not in connections:
            connections[uri] = Connection(uri, transport_options={"confirm_publish": True})
        conn = connections[uri]
        if raw is None:
            envelope = envelope or make_event(service, event_type, data)
            raw = json.dumps(envelope)
        properties = {} if user_id is None else {"user_id": conn.userid if user_id is ... else user_id}
        conn.Producer().publish(raw, exchange="" if queue else exchange_of(service), routing_key=queue or event_type,
                                content_type=content_type, content_encoding="utf-8", delivery_mode=2,
                                retry=False, **properties)
        return envelope

    yield publish
    for conn in connections.values():
        conn.release()
