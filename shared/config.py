"""Configuration from environment variables, with defaults that work on a developer machine.

Every setting has one name, `SMARTCITY_<NAME>`; per-service settings are
`SMARTCITY_<SERVICE>_<NAME>` (for example `SMARTCITY_IDEAS_DATABASE_URL`).
"""
import os
from dataclasses import dataclass, field

from nameko.extensions import DependencyProvider

from shared import registry

DEV_JWT_SECRET = "dev-secret-change-me"


def env(name, default=None):
    return os.environ.get(f"SMARTCITY_{name}", default)


def service_env(service, name, default=None):
    return os.environ.get(f"SMARTCITY_{service.upper()}_{name}", env(name, default))


def _floats(text):
    return tuple(float(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    service: str
    amqp_uri: str
    database_url: str
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

    def nameko_config(self):
        return {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": self.http_address,
            "max_workers": self.max_workers,
            "SMARTCITY": self,
        }


def database_url_for(service):
    base = env("PG_URL", "postgresql://postgres@127.0.0.1:5432")
    return service_env(service, "DATABASE_URL", f"{base.rstrip('/')}/smartcity_{service}")


def load(service):
    """Settings of one service, read from the environment now."""
    spec = registry.spec(service)
    settings = Settings(
        service=service,
        amqp_uri=env("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
        database_url=database_url_for(service),
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
    )
    if settings.environment == "production" and settings.jwt_secret == DEV_JWT_SECRET and not settings.jwt_jwks_url:
        raise RuntimeError(
            "SMARTCITY_ENV=production needs SMARTCITY_JWT_JWKS_URL or a SMARTCITY_JWT_SECRET of its own"
        )
    return settings


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
