"""Fixtures of the notifications tests: the real service, a real SMTP server (aiosmtpd, in its own
process) whose mails land in a folder, and a real webhook receiver (http.server in a green thread)."""
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts import smtp_sink
from shared import config
from tests.conftest import SLOT
from tests.fixtures import fresh_database, http_client, purge_dead_letters, sql_runner, started_container, wait_for

SMTP_PORT = 18000 + 100 * SLOT + 50
# Fast timers and retries; links in mails point at the test service.
NOTIFICATIONS_TEST_ENV = {
    "SMARTCITY_NOTIFICATIONS_SMTP_PORT": str(SMTP_PORT),
    "SMARTCITY_NOTIFICATIONS_SMTP_TIMEOUT_SECONDS": "2",
    "SMARTCITY_NOTIFICATIONS_DISPATCH_SECONDS": "0.1",
    "SMARTCITY_NOTIFICATIONS_RETRY_BASE_SECONDS": "0.2",
    "SMARTCITY_NOTIFICATIONS_RETRY_MAX_SECONDS": "0.5",
    "SMARTCITY_NOTIFICATIONS_WEBHOOK_MAX_FAILURES": "3",
    "SMARTCITY_NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS": "2",
    "SMARTCITY_NOTIFICATIONS_WEBHOOK_ALLOW": "127.0.0.1/32",
    "SMARTCITY_NOTIFICATIONS_MEETING_REMINDER_CHECK_SECONDS": "0.3",
    "SMARTCITY_NOTIFICATIONS_MEETING_REMINDER_HOURS": "0.002",  # 7.2 s before a meeting  # the test receivers; every other address is refused
    "SMARTCITY_NOTIFICATIONS_PUBLIC_URL": "http://" + os.environ["SMARTCITY_NOTIFICATIONS_HTTP_ADDRESS"],
    "SMARTCITY_NOTIFICATIONS_IDEA_PAGES_URL": "http://" + os.environ["SMARTCITY_REPORTING_HTTP_ADDRESS"],
}
for _key, _value in NOTIFICATIONS_TEST_ENV.items():
    os.environ.setdefault(_key, _value)

TABLES = ["link_tokens", "feed_items", "deliveries", "triggers", "subscriptions", "subscribers", "webhooks", "announcements",
          "ideas", "idea_sponsors", "comments", "meetings", "meeting_registrations", "known_names", "outbox", "inbox"]


# --- the SMTP server ----------------------------------------------------------------------------

def listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class SmtpSink:
    """scripts/smtp_sink.py as a subprocess on SMTP_PORT; stop() and start() simulate an outage."""

    def __init__(self, maildir):
        self.maildir = Path(maildir)
        self.process = None

    def start(self):
        self.process = smtp_sink.start(self.maildir, SMTP_PORT)
        wait_for(lambda: listening(SMTP_PORT), timeout=15, message="the SMTP sink to listen")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        wait_for(lambda: not listening(SMTP_PORT), message="the SMTP sink to stop listening")

    def clear(self):
        for path in smtp_sink.mails(self.maildir):
            path.unlink()

    def messages(self, to=None):
        found = []
        for path in smtp_sink.mails(self.maildir):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            if to is None or message["To"] == to:
                found.append(message)
        return found

    def wait(self, count=1, to=None, timeout=10):
        """At least `count` mails (to `to`), then a short pause to see that no more arrive."""
        wait_for(lambda: len(self.messages(to)) >= count, timeout=timeout, message=f"{count} mail(s) to {to}")
        time.sleep(0.3)
        return self.messages(to)


def text_of(message):
    return message.get_body(("plain",)).get_content()


def html_of(message):
    return message.get_body(("html",)).get_content()


@pytest.fixture(scope="session")
def smtp_server():
    maildir = tempfile.mkdtemp(prefix="smartcity-mail-")
    sink = SmtpSink(maildir)
    sink.start()
    yield sink
    if sink.process.poll() is None:
        sink.stop()
    shutil.rmtree(maildir, ignore_errors=True)


@pytest.fixture
def mailbox(smtp_server):
    """The running SMTP server, emptied; restarted if a test left it stopped."""
    if smtp_server.process.poll() is not None:
        smtp_server.start()
    smtp_server.clear()
    return smtp_server


# --- the webhook receiver -----------------------------------------------------------------------

class WebhookReceiver:
    """Records every POST; answers with the next status of `statuses` (then 200)."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body, "at": time.time()})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/smartcity"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self):
        return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


# --- the service --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def notifications_settings():
    return config.load("notifications")


@pytest.fixture(scope="session")
def notifications_database(notifications_settings):
    return fresh_database(notifications_settings)


@pytest.fixture
def notifications_sql(notifications_database):
    """Run SQL on the notifications test database (autocommit); tables are emptied before each test."""
    run, close = sql_runner(notifications_database, TABLES)
    yield run
    close()


@pytest.fixture(scope="package")  # stopped after tests/notifications: it would answer other tests' events
def notifications_container(notifications_database, notifications_settings, amqp_uri, smtp_server, ideas_container):
    """The real notifications service; the ideas service runs too (names in mails and pages, over RPC)."""
    from services.notifications.service import NotificationsService

    container = started_container(NotificationsService, notifications_settings, amqp_uri)
    yield container
    container.stop()


@pytest.fixture
def notifications_service(notifications_sql, notifications_container, amqp, mailbox):
    purge_dead_letters(amqp, "notifications")
    return notifications_container


@pytest.fixture
def notifications_api(notifications_service, notifications_settings):
    call, close = http_client("http://" + notifications_settings.http_address)
    yield call
    close()
