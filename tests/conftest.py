"""Test set-up. `make test` runs pytest under `nameko test`, which monkey-patches eventlet first.

Integration and end-to-end tests use the real PostgreSQL and RabbitMQ (a database of their own,
smartcity_<service>_test, with its owner and runtime roles) and start the real nameko services in
this process, each as its own broker user (created here on the test vhost, as `make run` does).
"""
import shared.green  # noqa: F401  (green psycopg2; eventlet is already patched)

import os  # noqa: E402

from shared import identities  # noqa: E402

# SMARTCITY_TEST_SLOT=N (default 0) gives a second checkout on the same machine its own
# databases, vhost and ports, so two test runs can go on side by side.
SLOT = int(os.environ.get("SMARTCITY_TEST_SLOT", "0"))
SUFFIX = f"_{SLOT}" if SLOT else ""
SERVICES = {"ideas": 1, "voting": 2, "notifications": 3, "reporting": 4}

# Test settings: own database, a port apart from `make run`, fast timers and retries.
TEST_ENV = {
    "SMARTCITY_RETRY_DELAYS": "0.2,0.4",
    "SMARTCITY_OUTBOX_SWEEP_SECONDS": "0.3",
    "SMARTCITY_OUTBOX_MIN_AGE_SECONDS": "1",
    "SMARTCITY_IDEAS_MILESTONE_CHECK_SECONDS": "0.3",
    "SMARTCITY_IDEAS_COMPETITION_CHECK_SECONDS": "0.3",
    "SMARTCITY_IDEAS_FEEDBACK_CHECK_SECONDS": "0.3",
    "SMARTCITY_VOTING_DECISION_CHECK_SECONDS": "0.3",
    "SMARTCITY_LOG_FORMAT": "text",
    # Every test comes from 127.0.0.1: limits are on only in tests/security/test_rate_limits.py.
    "SMARTCITY_RATE_LIMITS": "off",
    "SMARTCITY_PSEUDONYM_KEY": "tests-pseudonym-key",  # not the development default: the key is read
}
# The admin that makes the test databases and roles (shared.provision reads it too).
PG_URL = os.environ.setdefault("SMARTCITY_PG_URL", "postgresql://postgres@127.0.0.1:5432")
# The README's outside subscriber (docs/examples/subscribe.py), a read-only user on the test vhost.
SUBSCRIBER = identities.subscriber_user("city-portal")
for _name, _n in SERVICES.items():
    # roles smartcity_<service>_test[_N]_app / _owner: a slot's roles are its own
    _runtime, _migration = identities.database_urls(PG_URL, f"smartcity_{_name}_test{SUFFIX}")
    TEST_ENV[f"SMARTCITY_{_name.upper()}_DATABASE_URL"] = _runtime
    TEST_ENV[f"SMARTCITY_{_name.upper()}_MIGRATION_DATABASE_URL"] = _migration
    TEST_ENV[f"SMARTCITY_{_name.upper()}_HTTP_ADDRESS"] = f"127.0.0.1:{18000 + 100 * SLOT + _n}"
for _key, _value in TEST_ENV.items():
    os.environ.setdefault(_key, _value)


def _test_vhost_uri():
    """The smartcity_test vhost (made by scripts/ensure_infra.sh) when it exists, else the default."""
    from kombu import Connection

    uri = f"amqp://guest:guest@127.0.0.1:5672/smartcity_test{SUFFIX}"
    try:
        with Connection(uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return uri
    except Exception:
        return "amqp://guest:guest@127.0.0.1:5672/"


def pytest_collection_modifyitems(config, items):
    """Ask the broker for the test vhost only when a selected test talks to it: `make unit` stays offline.

    The test vhost gets the services' users and the example subscriber's (shared.provision).
    """
    if any(item.get_closest_marker("integration") for item in items):
        from shared import provision

        os.environ.setdefault("SMARTCITY_AMQP_URI", _test_vhost_uri())
        provision.broker(os.environ["SMARTCITY_AMQP_URI"], [SUBSCRIBER])

pytest_plugins = ["tests.fixtures", "tests.reporting.fixtures"]
