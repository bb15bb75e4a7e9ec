"""Who is who on the bus and in PostgreSQL, and what each may do: the trust model as data. Pure.

Broker users: one per service, named exactly as the service; the owner of `<service>.events` is
the user `<service>`. Outside subscribers are `sub-<name>`: they may declare, bind and read only
queues named `sub-<name>.*`, and publish nothing. PostgreSQL: per database `<db>_owner` (owns the
schema, runs migrations) and `<db>_app` (reads and writes rows, nothing else).

`scripts`, tests and `smartcity provision` create exactly this (shared.provision); consumers
check it on every message (`refusal`), the ideas service on every RPC call (`is_service`).
"""
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from shared import registry
from shared.envelope import exchange_of, source_of
from shared.events import CATALOGUE, service_of

SUBSCRIBER_PREFIX = "sub-"
RPC_EXCHANGE = "nameko-rpc"  # nameko's RPC exchange (its default AMQP_RPC_EXCHANGE)
DEFAULT_EXCHANGE = "amq.default"  # how permissions name the default exchange (retry and dead-letter copies)
# Set by a consumer on the copies it makes (retry, parked, replayed): who published the original,
# as the broker vouched for it. Trusted only on a message whose user_id is the consumer's own.
PUBLISHED_BY = "x-smartcity-published-by"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # nameko's RPC reply routing keys


def local_password(user):
    """The development password of a broker user or database role; production refuses it."""
    return f"{user}-local-password"


def subscriber_user(name):
    """The broker user of an outside subscriber called `name` (`city-portal` -> `sub-city-portal`)."""
    return name if name.startswith(SUBSCRIBER_PREFIX) else SUBSCRIBER_PREFIX + name


def nodes(url):
    """The node URIs of an AMQP URI list ("amqp://…/v;amqp://…/v", kombu's failover syntax); any other
    URL is a list of one."""
    if not url.lower().startswith("amqp"):
        return [url]
    return [part.strip() for part in url.split(";") if part.strip()]


def with_credentials(url, user, password):
    """`url` (amqp:// or postgresql://; each node of an AMQP URI list) with its user and password replaced."""
    found = nodes(url)
    if len(found) > 1:
        return ";".join(with_credentials(node, user, password) for node in found)
    parts = urlsplit(found[0])
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def user_of(url):
    """The user a URL logs in as (of an AMQP URI list: its first node's, as kombu's)."""
    user = urlsplit(nodes(url)[0]).username
    return None if user is None else unquote(user)


def password_of(url):
    password = urlsplit(nodes(url)[0]).password
    return None if password is None else unquote(password)


def database_urls(server_url, database):
    """(runtime URL, migration URL) of `database` on the server of `server_url`, as its two roles."""
    base = urlsplit(server_url)._replace(path=f"/{database}").geturl()
    app, owner = f"{database}_app", f"{database}_owner"
    return with_credentials(base, app, local_password(app)), with_credentials(base, owner, local_password(owner))


# --- the broker: owners and permissions ---------------------------------------------------

def owners():
    """{exchange: owning service} of every event exchange in the contract."""
    return {exchange_of(service): service for service in sorted({service for service, _ in CATALOGUE.values()})}


def owned_types(service):
    return [event_type for event_type, (owner, _) in CATALOGUE.items() if owner == service]


def is_service(user):
    """True for the broker user of a service of this installation."""
    return user in registry.services()


def _exactly(*patterns):
    return "^(" + "|".join(patterns) + ")$"


def _escape(name):
    """A name as a literal in a permission pattern (names are lowercase letters, digits, `-`, `_` and `.`)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise ValueError(f"{name!r} is not a valid broker name (lowercase letters, digits, -, _ and .)")
    return name.replace(".", r"\.")


def _names(names):
    return [_escape(name) for name in names]


def vhost_permissions(user):
    """(configure, write, read) regular expressions of a service user or an outside subscriber."""
    exchanges = _names(owners())
    if user.startswith(SUBSCRIBER_PREFIX):
        own = rf"{_escape(user)}\..+"
        return _exactly(own), _exactly(own), _exactly(own, *exchanges)
    service = _escape(user)
    queues = [  # subscriptions and their retry queues, dead letters, its RPC queue and reply queues
        rf"evt-[^.]+--{service}\..+", rf"{service}\.dead-letter", f"rpc-{service}", rf"rpc\.reply-{service}-.+"]
    own_exchange = _names([exchange_of(user)] if exchange_of(user) in owners() else [])
    rpc = _names([RPC_EXCHANGE])
    # The default exchange carries retry and dead-letter copies to the service's own queues; what it
    # could put elsewhere is refused by the receiving consumer (its user_id is this service's).
    return (_exactly(*queues, *own_exchange, *rpc),
            _exactly(*queues, *own_exchange, *rpc, *_names([DEFAULT_EXCHANGE])),
            _exactly(*queues, *exchanges, *rpc))


def topic_permissions(user):
    """[(exchange, write, read)]: which routing keys `user` may publish to (and bind from) each topic exchange.

    A service publishes only its own event types on its own exchange and nothing on another's; on
    the RPC exchange it calls other services and answers on reply keys. A subscriber publishes nothing.
    """
    subscriber = user.startswith(SUBSCRIBER_PREFIX)
    rules = [(exchange, _exactly(*owned_types(user)) if owner == user else "^$", ".*")
             for exchange, owner in owners().items()]
    if not subscriber:
        others = _names(name for name in registry.services() if name != user)
        calls = rf"({'|'.join(others)})\.[a-z_][a-z0-9_]*" if others else "(?!)"
        rules.append((RPC_EXCHANGE, _exactly(calls, _UUID), _exactly(rf"{_escape(user)}\.\*", _UUID)))
    return rules


def permission_table(subscribers=()):
    """Rows (user, configure, write, read, topic permissions) of every service user and the given subscribers."""
    users = [*registry.services(), *subscribers]
    return [(user, *vhost_permissions(user), topic_permissions(user)) for user in users]


# --- what a consumer checks ---------------------------------------------------------------

def publisher_of(user_id, headers, own_user):
    """Who published a message, as the broker vouches for it.

    RabbitMQ refuses a publish whose `user_id` is not the connection's user, so `user_id` is the
    publisher. A copy this consumer made itself (retry, parked, replayed: `user_id` is its own)
    carries the original's publisher in PUBLISHED_BY; nobody else can make such a copy.
    """
    if user_id == own_user and PUBLISHED_BY in (headers or {}):
        return headers[PUBLISHED_BY] or None
    return user_id


def refusal(envelope, publisher):
    """Why an event must not be applied (None when its owner published it)."""
    owner = service_of(envelope["type"])
    if publisher != owner:
        who = f"user {publisher!r}" if publisher else "a publisher that set no user_id"
        return f"{envelope['type']} belongs to {owner} ({exchange_of(owner)}), but was published by {who}"
    if envelope["source"] != source_of(owner):
        return f"{envelope['type']} must come from {source_of(owner)}, not {envelope['source']!r}"
    return None
