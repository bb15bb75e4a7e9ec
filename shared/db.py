"""PostgreSQL access for services: a connection pool behind a nameko DependencyProvider.

psycopg2 is made green (psycogreen) by shared.green before any service code runs, so a
query yields to the eventlet hub instead of blocking every worker of the service.
"""
import contextlib
import logging
import threading

import psycopg2
import psycopg2.extras
import psycopg2.pool
from nameko.extensions import DependencyProvider

from shared.config import settings_of

log = logging.getLogger(__name__)
psycopg2.extras.register_uuid()


class Pool:
    """A bounded pool of connections; `transaction()` is the only way to use one."""

    def __init__(self, dsn, size):
        # ThreadedConnectionPool's lock is a green lock once eventlet has patched threading.
        # minconn = maxconn: psycopg2 closes any returned connection beyond minconn, which
        # would mean a new PostgreSQL connection per request under concurrency.
        self._pool = psycopg2.pool.ThreadedConnectionPool(size, size, dsn)
        # Wait for a free connection (green semaphore) rather than fail with PoolError.
        self._slots = threading.BoundedSemaphore(size)

    @contextlib.contextmanager
    def transaction(self):
        """A cursor in one transaction: committed on success, rolled back on any error."""
        with self._slots:
            conn = self._pool.getconn()
            broken = False
            try:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    yield cur
                conn.commit()
            except BaseException as exc:
                broken = isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)) or conn.closed
                if not conn.closed:
                    conn.rollback()
                raise
            finally:
                self._pool.putconn(conn, close=broken)

    def ping(self):
        with self.transaction() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() is not None

    def close(self):
        self._pool.closeall()


class Database(DependencyProvider):
    """Injects the service's connection Pool; opened at container setup, closed at stop."""

    def setup(self):
        settings = settings_of(self.container)
        self.pool = Pool(settings.database_url, settings.db_pool_size)

    def stop(self):
        self.pool.close()

    def kill(self):
        self.pool.close()

    def get_dependency(self, worker_ctx):
        return self.pool


def pool_of(container):
    """The connection Pool of a container's Database dependency (for other dependency providers)."""
    return next(d for d in container.dependencies if isinstance(d, Database)).pool
