"""SIGTERM in the middle of sending: the service stops by itself within its 5 s budget and every mail
sent is recorded."""
import json
import os

import psycopg2
import pytest

from tests.conftest import SLOT
from tests.fixtures import assert_stopped_gracefully, fresh_database, other_database, sigterm_when

pytestmark = pytest.mark.integration

PORT = 18000 + 100 * SLOT + 60
MAILS = 3000


def backlog(dsn):
    """MAILS confirmed subscribers, each with one due mail about one announcement."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO triggers (event_id, type, occurred_at, content) VALUES ('stop-test', 'Announcement',"
                    " now(), %s)", (json.dumps({"municipality": "gera", "title": "Plenum", "place": "Rathaus",
                                                "starts_at": "2030-01-01T18:00:00+00:00"}),))
        cur.execute("INSERT INTO subscribers (id, email, language, digest, created_at, confirmed_at)"
                    " SELECT gen_random_uuid(), 'stop-' || n || '@example.org', 'de', 'immediate',"
                    " now(), now() FROM generate_series(1, %s) AS n", (MAILS,))
        cur.execute("INSERT INTO deliveries (id, trigger_event_id, channel, subscriber_id, due_at, next_attempt_at,"
                    " created_at) SELECT gen_random_uuid(), 'stop-test', 'email', id, now(), now(), now()"
                    " FROM subscribers")
    conn.close()


def counts(dsn):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'pending')"
                    " FROM deliveries")
        result = cur.fetchone()
    conn.close()
    return result


def test_sigterm_while_sending_stops_within_five_seconds_and_loses_nothing(notifications_settings, mailbox):
    settings = other_database(notifications_settings, "_stop")
    owner_url = fresh_database(settings)
    backlog(owner_url)
    env = {**os.environ, "SMARTCITY_NOTIFICATIONS_DATABASE_URL": settings.database_url,
           "SMARTCITY_NOTIFICATIONS_MIGRATION_DATABASE_URL": settings.migration_database_url,
           "SMARTCITY_NOTIFICATIONS_HTTP_ADDRESS": f"127.0.0.1:{PORT}",
           "SMARTCITY_NOTIFICATIONS_DISPATCH_SLICE_SECONDS": "1"}  # a stop waits for the round's slice
    code, elapsed, stderr = sigterm_when("notifications", env, lambda: len(mailbox.messages()) >= 100)
    assert_stopped_gracefully(code, elapsed, stderr)
    sent, pending = counts(owner_url)
    assert sent + pending == MAILS and pending > 0  # stopped midway
    assert len(mailbox.messages()) == sent  # every mail that left is recorded, none twice
