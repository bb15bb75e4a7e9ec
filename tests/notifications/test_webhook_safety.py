"""Webhooks cannot poison a batch or reach inside the network (issue 11), on the real service.

A receiver that is no HTTP server fails alone while a healthy one gets each delivery once;
destinations that are not public are refused at registration and again before each POST;
redirects are not followed; the delivery log names only the class of a failure.
"""
import socket
import threading
import time

import pytest

from tests.fixtures import wait_for
from tests.notifications.steps import announce

pytestmark = pytest.mark.integration


class NotHttp:
    """A TCP server that answers every connection with a line that is no HTTP status line (like AMQP's port)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.recv(65536)
            conn.sendall(b"AMQP\x00\x00\x09\x01garbage\r\n\r\n")
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def not_http():
    server = NotHttp()
    yield server
    server.close()


def register(api, auth, url):
    return api("POST", "/api/v1/webhooks", json={"url": url, "event_types": ["Announcement"]}, headers=auth("staff"))


def test_a_receiver_that_is_no_http_server_fails_alone_while_a_healthy_one_gets_each_delivery_once(
        notifications_api, notifications_sql, auth, webhook_receiver, not_http):
    assert register(notifications_api, auth, webhook_receiver.url).status_code == 201
    broken = register(notifications_api, auth, not_http.url).json()
    for n in range(3):
        announce(notifications_api, auth, title=f"Themenabend {n}")
    wait_for(lambda: notifications_sql("SELECT disabled_at IS NOT NULL FROM webhooks WHERE id = %s",
                                       (broken["id"],)) == [(True,)], timeout=15, message="the broken hook disabled")
    time.sleep(1)  # more rounds of dispatch: a rolled-back batch would POST to the healthy receiver again
    delivered = [request["headers"]["X-SmartCity-Delivery"] for request in webhook_receiver.requests]
    assert len(delivered) == 3 and len(set(delivered)) == 3  # each delivery once, none repeated
    rows = notifications_sql("SELECT status, attempts, last_error FROM deliveries WHERE webhook_id = %s",
                             (broken["id"],))
    assert {status for status, _, _ in rows} == {"failed"}
    assert all(attempts >= 1 for _, attempts, _ in rows)
    assert all(error.endswith("invalid response") for _, _, error in rows), rows  # the class, nothing of the answer


BLOCKED = [
    "http://127.0.0.2:8080/hook", "http://[::1]/hook", "http://0.0.0.0/hook", "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/", "http://10.0.0.5/hook", "http://192.168.1.1/hook",
    "http://100.100.100.200/hook", "http://[::ffff:10.0.0.1]/hook", "http://[fd00:ec2::254]/hook",
    "http://2130706433/hook", "https://user:secret@hooks.example.org/hook", "http://224.0.0.1/hook",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_a_destination_inside_the_network_is_refused_at_registration(notifications_api, notifications_sql, auth,
                                                                     url):
    response = register(notifications_api, auth, url)
    assert response.status_code == 422, response.text
    assert "url" in response.json()["error"]["fields"]
    assert notifications_sql("SELECT count(*) FROM webhooks") == [(0,)]


def test_a_redirect_is_not_followed(notifications_api, notifications_sql, auth, webhook_receiver):
    from tests.notifications.conftest import WebhookReceiver

    target = WebhookReceiver()
    try:
        webhook_receiver.statuses = [302] * 10  # Location is not even sent: nothing may follow anything
        assert register(notifications_api, auth, webhook_receiver.url).status_code == 201
        announce(notifications_api, auth)
        wait_for(lambda: notifications_sql("SELECT last_error FROM deliveries WHERE channel = 'webhook'")
                 == [("HTTP 302 (redirects are not followed)",)], message="the redirect recorded as a failure")
        assert target.requests == []
    finally:
        target.close()


def test_the_delivery_log_says_only_the_class_of_a_failure(notifications_api, notifications_sql, auth):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once the socket is closed
    assert register(notifications_api, auth, f"http://127.0.0.1:{port}/hook").status_code == 201
    announce(notifications_api, auth)
    wait_for(lambda: notifications_sql("SELECT last_error FROM deliveries WHERE channel = 'webhook'")
             == [("connection failed",)], message="a connection failure recorded by its class")
