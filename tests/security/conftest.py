"""Fixtures of the security tests: all four services at once, and extra replicas with limits on.

The notifications container of tests/notifications lives only for that package (it would answer
other tests' events); this package starts its own on the same test database.
"""
import dataclasses

import pytest
from nameko.containers import ServiceContainer

from shared import config
from shared.web import ApiEndpoint
from tests.fixtures import fresh_database, http_client, started_container
from tests.notifications.conftest import NOTIFICATIONS_TEST_ENV  # noqa: F401  (its environment, set on import)


@pytest.fixture(scope="package")
def notifications_settings():
    return config.load("notifications")


@pytest.fixture(scope="package")
def notifications_container(notifications_settings, amqp_uri):
    from services.notifications.service import NotificationsService

    fresh_database(notifications_settings)
    container = started_container(NotificationsService, notifications_settings, amqp_uri)
    yield container
    container.stop()


@pytest.fixture
def notifications_api(notifications_container, notifications_settings):
    call, close = http_client("http://" + notifications_settings.http_address)
    yield call
    close()


def port_of(container):
    """The HTTP port a container listens on (it was given port 0: any free one)."""
    endpoint = next(e for e in container.entrypoints if isinstance(e, ApiEndpoint))
    return endpoint.server._sock.getsockname()[1]


@pytest.fixture
def replica(monkeypatch):
    """replica(ServiceClass, **env) -> the base URL of one more running instance of the service.

    It shares the service's test database, with rate limits on and the environment given (e.g.
    SMARTCITY_TRUSTED_PROXIES), on a free port; stopped after the test. Its queues are the
    service's own: it consumes events as one more replica would.
    """
    containers = []

    def start(service_cls, **env):
        monkeypatch.setenv("SMARTCITY_RATE_LIMITS", "on")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = dataclasses.replace(config.load(service_cls.name), http_address="127.0.0.1:0")
        container = ServiceContainer(service_cls, settings.nameko_config())
        container.start()
        containers.append(container)
        return f"http://127.0.0.1:{port_of(container)}"

    yield start
    for container in containers:
        container.stop()
