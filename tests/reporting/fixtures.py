"""Fixtures of the reporting service (a pytest plugin of tests/conftest.py, so tests/e2e has them too)."""
import pytest
from nameko.containers import ServiceContainer

from services.reporting import projector
from services.reporting.service import ReportingService
from shared import config
from tests.fixtures import fresh_database, http_client, purge_dead_letters, sql_runner, started_container


class Restartable:
    """The reporting container; `stop()` and `start()` (a new container on the same queues) restart it."""

    def __init__(self, settings, amqp_uri):
        self.settings = settings
        self.container = started_container(ReportingService, settings, amqp_uri)

    def stop(self):
        self.container.stop()

    def start(self):
        self.container = ServiceContainer(ReportingService, self.settings.nameko_config())
        self.container.start()

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def reporting_settings():
    return config.load("reporting")


@pytest.fixture(scope="session")
def reporting_database(reporting_settings):
    return fresh_database(reporting_settings)


@pytest.fixture
def reporting_sql(reporting_database):
    """Run SQL on the reporting test database (autocommit); the log and projections are emptied first."""
    run, close = sql_runner(reporting_database, ["event_log", *projector.PROJECTIONS])
    yield run
    close()


@pytest.fixture(scope="session")
def reporting_container(reporting_database, reporting_settings, amqp_uri, ideas_container):
    """The real reporting service; the ideas service runs too (names on the pages, over RPC)."""
    running = Restartable(reporting_settings, amqp_uri)
    yield running
    running.stop()


@pytest.fixture
def reporting_service(reporting_sql, reporting_container, amqp):
    purge_dead_letters(amqp, "reporting")
    return reporting_container


@pytest.fixture(scope="session")
def reporting_url(reporting_settings):
    return "http://" + reporting_settings.http_address


@pytest.fixture
def reporting_api(reporting_service, reporting_url):
    call, close = http_client(reporting_url)
    yield call
    close()
