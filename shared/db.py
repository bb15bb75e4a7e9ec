"""PostgreSQL for services: a connection pool, the SQL unit of work, and the nameko provider
that gives each worker a unit of work and relays what it emitted.

psycopg2 is made green (psycogreen) by shared.green before any service code runs, so a
query yields to the eventlet hub instead of blocking every worker of the service.
"""
import contextlib
import logging
import sys
import threading

import eventlet
import psycopg2
import psycopg2.extras
import psycopg2.pool
from nameko.extensions import DependencyProvider

from shared import inbox, outages, outbox
from shared.amqp import Publisher
from shared.config import settings_of
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
psycopg2.extras.register_uuid()


class Pool:
    """A bounded pool of connections; `transaction()` is the only way to use one.

    Every connection is opened at once when the database answers, else when first needed: a service
    starts (and answers 503, shared.outages) while its database is down. With `timeouts` (a service's
    pool) nothing waits long: a connection is made within `connect` seconds, a statement is cancelled
    after `statement` seconds, a request waits at most `wait` seconds for a free connection, and the
    kernel gives up on a peer that stopped answering (TCP keepalives, tcp_user_timeout). The CLI's
    pools (replay, rebuild) set none.
    """

    def __init__(self, dsn, size, timeouts=None):
        options = {}
        self._connect_timeout = self._wait = None
        if timeouts is not None:
            self._connect_timeout, statement, self._wait = timeouts
            ms = int(statement * 1000)
            # libpq's own connect_timeout does not apply to green (asynchronous) connections: see getconn.
            options = dict(options=f"-c statement_timeout={ms} -c lock_timeout={ms}", keepalives=1,
                           keepalives_idle=5, keepalives_interval=2, keepalives_count=2, tcp_user_timeout=ms)
        # ThreadedConnectionPool's lock is a green lock once eventlet has patched threading.
        # minconn = maxconn, set after construction (which would connect that many at once):
        # psycopg2 closes any returned connection beyond minconn, which would mean a new
        # PostgreSQL connection per request under concurrency.
        self._pool = psycopg2.pool.ThreadedConnectionPool(0, size, dsn, **options)
        self._pool.minconn = size
        # Wait for a free connection (green semaphore) rather than fail with PoolError at once.
        self._slots = threading.BoundedSemaphore(size)
        self._fill(size)

    def _fill(self, size):
        """Open every connection now, as far as the database answers: a pod holds its whole connection
        budget from the start (deploy/k8s sizes the poolers by it); a database that is down is retried
        on demand instead of failing the start."""
        made = []
        try:
            for _ in range(size):
                made.append(self._getconn())
        except psycopg2.OperationalError as exc:
            log.warning("PostgreSQL not reachable yet (%s); connecting when needed", str(exc).strip())
        for conn in made:
            self._pool.putconn(conn)

    def _getconn(self):
        if self._connect_timeout is None:
            return self._pool.getconn()
        with eventlet.Timeout(self._connect_timeout, False):
            return self._pool.getconn()
        raise psycopg2.OperationalError(f"no connection to PostgreSQL within {self._connect_timeout:g} s")

    @contextlib.contextmanager
    def transaction(self):
        """A cursor in one transaction: committed on success, rolled back on any error."""
        if not self._slots.acquire(timeout=self._wait):
            raise outages.PoolExhausted(f"no free database connection within {self._wait:g} s")
        try:
            conn = self._getconn()
            broken = False
            try:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    yield cur
                conn.commit()
            except BaseException as exc:
                broken = isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)) or conn.closed
                if not conn.closed:
                    try:
                        conn.rollback()
                    except psycopg2.Error:  # the connection is gone: the original error says why
                        broken = True
                raise
            finally:
                self._putconn(conn, broken)
        finally:
            self._slots.release()

    def _putconn(self, conn, broken):
        try:
            self._pool.putconn(conn, close=broken)
        except psycopg2.pool.PoolError:  # closed meanwhile (the service stops): nothing to give back to
            conn.close()
            return
        if broken:
            self._discard_idle()

    def _discard_idle(self):
        """Close the idle connections too: one broken by an outage means the others are most likely
        broken as well, and the next requests should get new ones, not fail one by one."""
        with self._pool._lock:
            idle, self._pool._pool = self._pool._pool, []
        for conn in idle:
            conn.close()

    def ping(self):
        with self.transaction() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() is not None

    def close(self):
        self._pool.closeall()


class SqlUnitOfWork(UnitOfWork):
    """A unit of work on a pooled connection; `repository(cursor)` builds the service's repository.

    Emitted events are inserted into the outbox just before the commit; `written` collects the
    ids of every event committed, for the relay to publish.
    """

    def __init__(self, service, pool, repository, **kwargs):
        super().__init__(service, **kwargs)
        self.pool = pool
        self.repository = repository
        self.written = []
        self._transaction = self._cursor = None

    def claim(self, consumer, event_id, event_type):
        return inbox.claim(self._cursor, consumer, event_id, event_type)

    def _begin(self):
        self._transaction = self.pool.transaction()
        self._cursor = self._transaction.__enter__()
        return self.repository(self._cursor)

    def _commit(self, events):
        try:
            if events:
                outbox.insert(self._cursor, self.service, events)
        except BaseException:
            self._end(*sys.exc_info())
            raise
        self._end(None, None, None)
        self.written.extend(event["id"] for event in events)

    def _rollback(self, exc_type, exc, traceback):
        self._end(exc_type, exc, traceback)

    def _end(self, exc_type, exc, traceback):
        transaction, self._transaction, self._cursor = self._transaction, None, None
        transaction.__exit__(exc_type, exc, traceback)


class UnitOfWorkProvider(DependencyProvider):
    """Injects a fresh SqlUnitOfWork per worker and, for a service that emits events, runs the
    outbox relay that publishes them once the worker is done.

        uow = UnitOfWorkProvider(VotingRepository)
    """

    def __init__(self, repository, emits=True):
        self.repository = repository
        self.emits = emits

    def setup(self):
        settings = settings_of(self.container)
        timeouts = (settings.db_connect_timeout, settings.db_statement_timeout, settings.db_pool_wait)
        self.pool = Pool(settings.database_url, settings.db_pool_size, timeouts)
        self.relay = None
        if self.emits:
            self.relay = outbox.Relay(
                self.container.service_name, Pool(settings.database_url, 2, timeouts), Publisher(settings.amqp_uri),
                settings.outbox_sweep_seconds, settings.outbox_min_age_seconds)
        self._relay_thread = None
        self._units = {}

    def start(self):
        if self.relay is not None:
            self._relay_thread = self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")

    def stop(self):
        # Workers are done by now: flush what they wrote, then release the connections.
        if self.relay is not None:
            self.relay.stop()
            if self._relay_thread is not None:
                self._relay_thread.wait()
            self.relay.close()
        self.pool.close()

    def kill(self):
        if self.relay is not None:
            self.relay.stop()
            self.relay.close()
        self.pool.close()

    def new(self):
        """A unit of work outside any worker (group commit, a sending loop); `publish` it when done."""
        return SqlUnitOfWork(self.container.service_name, self.pool, self.repository)

    def publish(self, unit):
        """Hand the events a unit committed to the relay (a worker's own unit is handed over at its end)."""
        if unit.written and self.relay is not None:
            self.relay.notify(unit.written)
            unit.written = []

    def get_dependency(self, worker_ctx):
        unit = self._units[worker_ctx] = self.new()
        return unit

    def worker_teardown(self, worker_ctx):
        # The worker's transactions are over; ids of rolled-back events were never collected.
        unit = self._units.pop(worker_ctx, None)
        if unit is not None:
            self.publish(unit)

    def ping(self):
        return self.pool.ping()


def unit_of_work_provider(container):
    """The container's UnitOfWorkProvider (for other dependency providers: readiness, group commit)."""
    return next(d for d in container.dependencies if isinstance(d, UnitOfWorkProvider))
