"""Which failures are outages of a dependency, and how an edge answers them.

An outage is not a bug in the request: PostgreSQL unreachable (psycopg2 OperationalError or
InterfaceError: connection refused or lost, a statement cancelled by its timeout; a pool closed or
out of connections) or the broker unreachable (an RPC call that cannot be sent). The HTTP edge
answers it 503 with Retry-After and a JSON body naming the dependency (shared.web), never 500; an
event consumer puts the event back without counting an attempt (shared.subscriber): the handler is
fine, the database is not, and a long outage must not park every event in the dead-letter queue.

At the HTTP edge every OperationalError is a 503 (a statement cancelled by its timeout, a deadlock:
the client may well try again). A consumer defers only when the database is unreachable
(`database_unreachable`): a statement that always times out must end in the dead-letter queue, not
go round for ever.
"""
import amqp.exceptions
import kombu.exceptions
import psycopg2
import psycopg2.pool

from shared.amqp import NotConfirmed

DATABASE, BROKER = "database", "broker"

_DATABASE_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError, psycopg2.pool.PoolError)
# SQLSTATE classes of a lost or refused connection: 08 connection exception, 57P admin/crash shutdown,
# cannot connect now (starting up). Errors raised by libpq itself (refused, reset) have no SQLSTATE.
_UNREACHABLE_STATES = ("08", "57P")
# kombu raises its OperationalError when no node answers. Not the built-in ConnectionError or
# TimeoutError: those come from anything on a network (a webhook, SMTP), not only the broker.
_BROKER_ERRORS = (kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError, NotConfirmed)


ERRORS = (*_DATABASE_ERRORS, *_BROKER_ERRORS)  # every class an outage may be raised as


class PoolExhausted(psycopg2.pool.PoolError):
    """No pooled connection came free in time (every one is busy, or stuck on a database that is gone)."""


def dependency_of(exc):
    """"database", "broker" or None: the dependency whose outage `exc` (or an exception it came from) is."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, _DATABASE_ERRORS):
            return DATABASE
        if isinstance(exc, _BROKER_ERRORS):
            return BROKER
        exc = exc.__cause__ or exc.__context__
    return None


def database_unreachable(exc):
    """True when `exc` (or one it came from) says PostgreSQL cannot be reached at all: no connection, a
    connection lost, the server shutting down or starting. Not a statement's own failure."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (psycopg2.InterfaceError, psycopg2.pool.PoolError)):
            return True
        if isinstance(exc, psycopg2.OperationalError):
            return exc.pgcode is None or exc.pgcode.startswith(_UNREACHABLE_STATES)
        exc = exc.__cause__ or exc.__context__
    return False


def message(dependency):
    return f"the {dependency} is unreachable right now; try again later"


def body(dependency, retry_after):
    """The JSON body of a 503 for an outage of `dependency`."""
    return {"error": {"code": "unavailable", "message": message(dependency), "dependency": dependency,
                      "retry_after": retry_after}}


def stopping_body(service, retry_after):
    """The JSON body of a 503 while the service stops (another replica, or this one restarted, takes it)."""
    return {"error": {"code": "unavailable", "message": f"the {service} service is stopping; try again",
                      "dependency": service, "retry_after": retry_after}}
