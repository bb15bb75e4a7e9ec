"""Configuration from environment variables, with defaults that work on a developer machine.

Every setting has one name, `SMARTCITY_<NAME>`; per-service settings are
`SMARTCITY_<SERVICE>_<NAME>` (for example `SMARTCITY_IDEAS_DATABASE_URL`).
Each service has identities of its own (shared.identities): its broker user and, in
PostgreSQL, a runtime role and an owner role for migrations. With `SMARTCITY_ENV=production`
a service refuses every local default that would let anyone in: development secrets and the
development passwords of those identities.
"""
import os
from dataclasses import dataclass, field

from nameko.extensions import DependencyProvider

from shared import identities, registry

DEV_JWT_SECRET = "dev-secret-change-me"
ENVIRONMENTS = ("development", "production")
DEV_PSEUDONYM_KEY = "dev-pseudonym-key-change-me"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"


def env(name, default=None):
    return os.environ.get(f"SMARTCITY_{name}", default)


def service_env(service, name, default=None):
    return os.environ.get(f"SMARTCITY_{service.upper()}_{name}", env(name, default))


def _floats(text):
    return tuple(float(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    service: str
    amqp_uri: str  # as the service's own broker user
    database_url: str  # as its runtime role
    migration_database_url: str | None  # as its owner role; None: migrations are not this process's job
    http_address: str
    jwt_secret: str
    jwt_jwks_url: str | None
    jwt_issuer: str | None
    jwt_audience: str | None
    db_pool_size: int
    max_workers: int
    retry_delays: tuple = field(default=(1.0, 5.0, 30.0))
    outbox_sweep_seconds: float = 2.0
    outbox_min_age_seconds: float = 5.0
    max_body_bytes: int = 64 * 1024
    environment: str = "development"
    jwt_max_ttl_seconds: int = 24 * 3600
    rate_limits: bool = True  # False only for benchmarks and tests that measure something else
    trusted_proxies: tuple = ()  # networks whose X-Forwarded-For names the client (the ingress)
    http_header_timeout: float = 10.0  # request line and headers must arrive within this
    http_read_timeout: float = 30.0  # a silent socket (and a request body) is given up after this
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    # Outages (shared.outages): a request gives up within seconds and says when to come back.
    db_connect_timeout: float = 3.0  # a new database connection must be made within this
    db_statement_timeout: float = 5.0  # a statement (lock waits included) is cancelled after this
    db_pool_wait: float = 5.0  # a request waits at most this long for a free pooled connection
    retry_after_seconds: int = 5  # the Retry-After of a 503 (a dependency out, the service stopping)

    def nameko_config(self):
        return {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": self.http_address,
            "max_workers": self.max_workers,
            "SMARTCITY": self,
        }


def _own(service, name):
    return os.environ.get(f"SMARTCITY_{service.upper()}_{name}")


def amqp_uri_for(service):
    """SMARTCITY_<SERVICE>_AMQP_URI; else the broker and vhost of SMARTCITY_AMQP_URI as the user
    named after the service, with its development password.

    Either may be a list of node URIs separated by `;` (kombu's failover syntax), every node as the
    same user: connections try them in turn (shared.amqp).
    """
    return _own(service, "AMQP_URI") or identities.with_credentials(
        env("AMQP_URI", DEFAULT_AMQP_URI), service, identities.local_password(service))


def database_urls_for(service):
    """(runtime, migration) URLs: SMARTCITY_<SERVICE>_DATABASE_URL and _MIGRATION_DATABASE_URL.

    By default database smartcity_<service> on SMARTCITY_PG_URL's server as the roles
    smartcity_<service>_app and smartcity_<service>_owner with their development passwords. With
    only DATABASE_URL set, migrations use it too (one role for both, outside production).
    In production the migration URL is only ever the one configured: None without it.
    """
    runtime, migration = _own(service, "DATABASE_URL"), _own(service, "MIGRATION_DATABASE_URL")
    defaults = identities.database_urls(env("PG_URL", DEFAULT_PG_URL), f"smartcity_{service}")
    if migration is None and env("ENV", "development") != "production":
        migration = runtime or defaults[1]
    return runtime or defaults[0], migration


def migration_target(service):
    """(owner's URL, runtime role or None for the database's name + `_app`) for `smartcity migrate`,
    from nothing but SMARTCITY_<SERVICE>_MIGRATION_DATABASE_URL (and _DATABASE_URL when set): all a
    migration job has. In production the URL must be set and must not hold a development password."""
    url = database_urls_for(service)[1]
    if url is None:
        raise RuntimeError(f"set SMARTCITY_{service.upper()}_MIGRATION_DATABASE_URL (the owner role's URL)")
    if env("ENV", "development") == "production" and _uses_local_password(url):
        raise RuntimeError(f"SMARTCITY_ENV=production refuses development defaults; set your own "
                           f"SMARTCITY_{service.upper()}_MIGRATION_DATABASE_URL")
    runtime = _own(service, "DATABASE_URL")
    return url, identities.user_of(runtime) if runtime else None


def _uses_local_password(url):
    """True when the URL (any node of an AMQP URI list) logs in with a development password."""
    for node in identities.nodes(url):
        user, password = identities.user_of(node), identities.password_of(node)
        if node.startswith("amqp") and user in (None, "guest"):
            return True  # RabbitMQ's guest (kombu's default without a user)
        if user is not None and password == identities.local_password(user):
            return True
    return False


def _local_defaults(settings):
    """The settings of a production service that still hold a development default."""
    found = []
    if settings.jwt_secret == DEV_JWT_SECRET and not settings.jwt_jwks_url:
        found.append("SMARTCITY_JWT_JWKS_URL or SMARTCITY_JWT_SECRET")
    if registry.spec(settings.service).pseudonyms and settings.pseudonym_key == DEV_PSEUDONYM_KEY:
        found.append(f"SMARTCITY_[{settings.service.upper()}_]PSEUDONYM_KEY")
    prefix = f"SMARTCITY_{settings.service.upper()}_"
    for name, url in (("AMQP_URI", settings.amqp_uri), ("DATABASE_URL", settings.database_url),
                      ("MIGRATION_DATABASE_URL", settings.migration_database_url)):
        if url is not None and _uses_local_password(url):
            found.append(prefix + name)
    return found


def load(service):
    """Settings of one service, read from the environment now."""
    spec = registry.spec(service)
    database_url, migration_database_url = database_urls_for(service)
    settings = Settings(
        service=service,
        amqp_uri=amqp_uri_for(service),
        database_url=database_url,
        migration_database_url=migration_database_url,
        http_address=service_env(service, "HTTP_ADDRESS", f"0.0.0.0:{spec.port}"),
        jwt_secret=env("JWT_SECRET", DEV_JWT_SECRET),
        jwt_jwks_url=env("JWT_JWKS_URL"),
        jwt_issuer=env("JWT_ISSUER"),
        jwt_audience=env("JWT_AUDIENCE"),
        db_pool_size=int(service_env(service, "DB_POOL_SIZE", "10")),
        max_workers=int(service_env(service, "MAX_WORKERS", str(spec.max_workers))),
        retry_delays=_floats(service_env(service, "RETRY_DELAYS", "1,5,30")),
        outbox_sweep_seconds=float(env("OUTBOX_SWEEP_SECONDS", "2")),
        outbox_min_age_seconds=float(env("OUTBOX_MIN_AGE_SECONDS", "5")),
        max_body_bytes=int(env("MAX_BODY_BYTES", str(64 * 1024))),
        environment=env("ENV", "development"),
        jwt_max_ttl_seconds=int(env("JWT_MAX_TTL_SECONDS", str(24 * 3600))),
        rate_limits=_switch("RATE_LIMITS", env("RATE_LIMITS", "on")),
        trusted_proxies=tuple(part.strip() for part in env("TRUSTED_PROXIES", "").split(",") if part.strip()),
        http_header_timeout=float(env("HTTP_HEADER_TIMEOUT_SECONDS", "10")),
        http_read_timeout=float(env("HTTP_READ_TIMEOUT_SECONDS", "30")),
        pseudonym_key=service_env(service, "PSEUDONYM_KEY", DEV_PSEUDONYM_KEY),
        db_connect_timeout=float(service_env(service, "DB_CONNECT_TIMEOUT_SECONDS", "3")),
        db_statement_timeout=float(service_env(service, "DB_STATEMENT_TIMEOUT_SECONDS", "5")),
        db_pool_wait=float(service_env(service, "DB_POOL_WAIT_SECONDS", "5")),
        retry_after_seconds=int(service_env(service, "RETRY_AFTER_SECONDS", "5")),
    )
    for node in identities.nodes(settings.amqp_uri):
        if identities.user_of(node) != service:
            # The broker stamps every message with its publisher; consumers accept events only from
            # their owner, so under any other user (on any node) this service's events would be refused.
            raise RuntimeError(f"{service} must connect to RabbitMQ as the user {service!r}, not "
                               f"{identities.user_of(node)!r} (SMARTCITY_{service.upper()}_AMQP_URI)")
    _check_environment(settings)
    return settings


def _switch(name, value):
    if value not in ("on", "off"):
        raise RuntimeError(f"SMARTCITY_{name} must be on or off, not {value!r}")
    return value == "on"


def _check_environment(settings):
    """Refuse to start on settings that are only safe on a developer's machine.

    SMARTCITY_ENV names the environment exactly: a typo ("prod", "Production") must not fall back
    to the development defaults without anyone noticing.
    """
    if settings.environment not in ENVIRONMENTS:
        raise RuntimeError(f"SMARTCITY_ENV must be one of {', '.join(ENVIRONMENTS)}, not {settings.environment!r}")
    if settings.environment != "production":
        return
    missing = []
    if settings.jwt_secret == DEV_JWT_SECRET and not settings.jwt_jwks_url:
        missing.append("SMARTCITY_JWT_JWKS_URL (or a SMARTCITY_JWT_SECRET of its own)")
    missing += [f"SMARTCITY_JWT_{name.upper()}" for name in ("issuer", "audience")
                if not getattr(settings, f"jwt_{name}")]
    if missing:
        raise RuntimeError(f"SMARTCITY_ENV=production needs {', '.join(missing)}")
    defaults = _local_defaults(settings)
    if defaults:
        raise RuntimeError(f"SMARTCITY_ENV=production refuses development defaults; set your own {', '.join(defaults)}")


def settings_of(container):
    """The Settings object a container was started with."""
    return container.config["SMARTCITY"]


class Setting(DependencyProvider):
    """Injects one service setting (SMARTCITY_<SERVICE>_<NAME>), read when the container starts."""

    def __init__(self, name, default, cast=str):
        self.name, self.default, self.cast = name, default, cast

    def setup(self):
        self.value = self.cast(service_env(self.container.service_name, self.name, str(self.default)))

    def get_dependency(self, worker_ctx):
        return self.value
