"""RPC between services, with the same domain errors on both ends.

The callee declares `@rpc(expected_exceptions=EXPECTED)`: a refusal is an answer, not a fault.
nameko sends an error by class name; `call` raises the same shared.errors class again on the
caller's side (a malformed argument as InvalidInput), and a callee that does not answer in time
as Unavailable, so the HTTP edge maps them like any other domain error.

Every call names its caller: `ServiceRpc` (an RpcProxy) sends the calling service's broker user as
the request's AMQP user_id, which RabbitMQ refuses unless it is the user who logged in; `@rpc`
puts it where the `Caller` dependency finds it, never taken from a header the caller could set.
A request without user_id comes from an unknown caller.

The request queue `rpc-<service>` is a quorum queue (shared.queues), like every durable queue here.
"""
import eventlet
import nameko.rpc
from marshmallow import ValidationError
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import RemoteError
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterProxy, ClusterRpcProxy, PollingQueueConsumer, SingleThreadedReplyListener

from shared import queues
from shared.amqp import user_of_uri
from shared.config import settings_of
from shared.errors import BY_NAME, DomainError, InvalidInput, Unavailable

EXPECTED = (DomainError, ValidationError)
TIMEOUT_SECONDS = 5
_CALLER = "smartcity_rpc_caller"  # worker context key; not one nameko propagates to onward calls


class RpcConsumer(nameko.rpc.RpcConsumer):
    """nameko's RpcConsumer on a quorum queue: nameko would declare `rpc-<service>` as a classic one."""

    def setup(self):
        if self.queue is None:
            self.queue = queues.rpc(self.container.service_name, nameko.rpc.get_rpc_exchange(self.container.config))
            self.queue_consumer.register_provider(self)
            self._registered = True


class Rpc(nameko.rpc.Rpc):
    """nameko's RPC entrypoint, keeping the request's verified user_id as the caller."""

    rpc_consumer = RpcConsumer()

    def unpack_message_headers(self, message):
        data = super().unpack_message_headers(message)
        data[_CALLER] = message.properties.get("user_id")  # overrides a header of the same name
        return data


rpc = Rpc.decorator


class Caller(DependencyProvider):
    """Injects the broker user that made the current RPC call (None: it set no user_id)."""

    def get_dependency(self, worker_ctx):
        return worker_ctx.data.get(_CALLER)


class _TransientReplyQueue:
    """nameko's reply queue (rpc.reply-<service>-<uuid>, one per process), but not durable. A durable classic
    queue lives on one node: while that node is down, declaring it again fails (404, home node down) and
    stops every consumer of the process's connection. A transient one goes with its node and is declared
    anew on another; a reply then in flight is lost and its call answers Unavailable."""

    def setup(self):
        super().setup()
        self.queue.durable = False


class TransientReplyListener(_TransientReplyQueue, nameko.rpc.ReplyListener):
    """The reply listener of a service's RPC proxies."""


class ServiceRpc(nameko.rpc.RpcProxy):
    """nameko's RpcProxy, sending the calling service's broker user as each request's user_id."""

    rpc_reply_listener = TransientReplyListener()

    def setup(self):
        self.options = {**self.options, "user_id": user_of_uri(settings_of(self.container).amqp_uri)}
        super().setup()


class _Proxies(ClusterProxy):
    def __init__(self, worker_ctx, reply_listener, **options):
        self._options = options
        super().__init__(worker_ctx, reply_listener)

    def __getattr__(self, name):
        if name not in self._proxies:
            self._proxies[name] = nameko.rpc.ServiceProxy(self._worker_ctx, name, self._reply_listener, **self._options)
        return self._proxies[name]


class _FailoverQueueConsumer(PollingQueueConsumer):
    """nameko's standalone reply consumer, trying every node of an AMQP URI list twice before it gives up
    (kombu's `connection.channel()` alone makes two attempts: not enough with two nodes of three down)."""

    def _setup_consumer(self):
        self.connection.ensure_connection(max_retries=2 * max(len(self.connection.alt), 1) - 1,
                                          interval_start=0.2, interval_max=1)
        super()._setup_consumer()


class _ReplyListener(_TransientReplyQueue, SingleThreadedReplyListener):
    def __init__(self, timeout=None):
        super().__init__(timeout)
        self.queue_consumer = _FailoverQueueConsumer(timeout=timeout)


class ServiceClusterRpc(ClusterRpcProxy):
    """nameko's standalone ClusterRpcProxy as `service`, for a call outside any worker (a dependency's own
    thread): its reply queue is the service's (rpc.reply-<service>-…, which its broker user may declare)
    and each request carries the service's user_id, as ServiceRpc's do."""

    def __init__(self, config, service, **kwargs):
        self.ServiceContainer = type("ServiceContainer", (ClusterRpcProxy.ServiceContainer,), {"service_name": service})
        kwargs.setdefault("reply_listener_cls", _ReplyListener)
        super().__init__(config, **kwargs)
        self._proxy = _Proxies(self._worker_ctx, self._reply_listener, user_id=user_of_uri(config[AMQP_URI_CONFIG_KEY]))


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
