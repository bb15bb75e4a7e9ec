"""RPC between services, with the same domain errors on both ends.

The callee declares `@rpc(expected_exceptions=EXPECTED)`: a refusal is an answer, not a fault.
nameko sends an error by class name; `call` raises the same shared.errors class again on the
caller's side (a malformed argument as InvalidInput), and a callee that does not answer in time
as Unavailable, so the HTTP edge maps them like any other domain error.
"""
import eventlet
from marshmallow import ValidationError
from nameko.exceptions import RemoteError

from shared.errors import BY_NAME, DomainError, InvalidInput, Unavailable

EXPECTED = (DomainError, ValidationError)
TIMEOUT_SECONDS = 5


def _domain_error(exc):
    if exc.exc_type == "ValidationError":
        return InvalidInput(f"invalid argument: {exc.value}")
    cls = BY_NAME.get(exc.exc_type)
    if cls is None:
        return None
    error = cls.__new__(cls)
    DomainError.__init__(error, exc.value)  # the callee's message as it is
    return error


def call(method, *args, timeout=TIMEOUT_SECONDS, **kwargs):
    """`method(*args, **kwargs)` on an RpcProxy, its domain errors raised as themselves."""
    try:
        with eventlet.Timeout(timeout):
            return method(*args, **kwargs)
    except RemoteError as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from None
    except eventlet.Timeout:
        raise Unavailable(f"the {getattr(method, 'service_name', 'called')} service did not answer;"
                          " try again") from None
