"""Webhooks: the signed HTTP POST to another city system.

Headers: X-SmartCity-Timestamp (Unix seconds), X-SmartCity-Signature ("sha256=" + hex HMAC-SHA256
with the webhook's secret over "<timestamp>.<body>"), X-SmartCity-Delivery (the delivery id,
stable across retries: deduplicate on it) and X-SmartCity-Event-Type.

A destination is checked after DNS resolution, at registration and again before every POST
(the name may resolve elsewhere by then): every address it resolves to must be public
(domain.address_problem) unless SMARTCITY_NOTIFICATIONS_WEBHOOK_ALLOW names it, and the POST goes
to the address just checked, not to a second lookup. Redirects are not followed. Whatever goes
wrong with one POST (refused, timed out, TLS, a malformed answer, any exception) is that
delivery's failure, reported only by its class: the error must not tell what listens where.
"""
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from urllib.parse import urlsplit

import eventlet
from eventlet.greenpool import GreenPool

from . import domain
from .domain import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

log = logging.getLogger(__name__)

PARALLEL = 20  # webhooks POSTed to at once
MAX_ANSWER_BYTES = 64 * 1024  # read of a receiver's answer body (then ignored)


class Refused(Exception):
    """The destination may not be reached; the message says why."""


def body_of(delivery):
    """What a receiver gets: the delivery id, the trigger and what it says (no personal data)."""
    return json.dumps({
        "id": str(delivery["id"]), "type": delivery["trigger_type"], "event_id": delivery["trigger_event_id"],
        "occurred_at": delivery["occurred_at"].isoformat(), "data": delivery["content"],
    }, separators=(",", ":"), ensure_ascii=False).encode()


def resolve(host, port):
    """The IP addresses a host name resolves to (an IP literal: itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def destination(url, allowed):
    """(URL parts, port, address to connect to) of a URL that may be reached; raises Refused."""
    problem = domain.webhook_url_problem(url)
    if problem:
        raise Refused(problem)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError, ValueError):
        raise Refused("the host name does not resolve") from None
    for address in addresses:
        problem = domain.address_problem(address, allowed)
        if problem:
            raise Refused(problem)
    return parts, port, addresses[0]


def destination_problem(url, allowed):
    """Why a webhook URL may not be registered, or None (the check `register_webhook` is given)."""
    try:
        destination(url, allowed)
    except Refused as exc:
        return str(exc)
    return None


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to an address already checked, whatever the name resolves to now."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address already checked; the certificate is verified for the host name."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _send(delivery, body, headers, timeout, allowed):
    """The receiver's HTTP status; raises whatever went wrong on the way."""
    parts, port, address = destination(delivery["url"], allowed)
    connection_class = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = connection_class(parts.hostname, port, address, timeout)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        return response.status
    finally:
        connection.close()


def post(delivery, timeout, allowed=()):
    """POST one delivery, signed now; None on a 2xx answer, else the class of the failure."""
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "smartcity-notifications/1",
        "X-SmartCity-Delivery": str(delivery["id"]),
        "X-SmartCity-Event-Type": delivery["trigger_type"],
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(delivery["secret"], timestamp, body),
    }
    try:
        with eventlet.Timeout(2 * timeout):  # name, connection and answer together: a slow drip ends too
            status = _send(delivery, body, headers, timeout, allowed)
    except Refused:
        return "destination refused"
    except (eventlet.Timeout, TimeoutError):
        return "timeout"
    except (ssl.SSLError, ssl.CertificateError):
        return "TLS failed"
    except http.client.HTTPException:  # a malformed status line or headers: not an HTTP server
        return "invalid response"
    except OSError:
        return "connection failed"
    except Exception:  # anything else is still this delivery's failure, never the batch's
        log.exception("webhook delivery %s failed", delivery["id"])
        return "failed"
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status} (redirects are not followed)"
    return f"HTTP {status}"


def post_in_order(deliveries, timeout, allowed=()):
    """POST one webhook's deliveries in order, stopping at the first failure (the rest would fail too).

    Returns the result of each POST tried: None for delivered, else the error.
    """
    results = []
    for delivery in deliveries:
        results.append(post(delivery, timeout, allowed))
        if results[-1] is not None:
            break
    return results


def post_all(groups, timeout, allowed=()):
    """`post_in_order` for each group (one webhook's deliveries), webhooks in parallel; results in order."""
    if not groups:
        return []
    return list(GreenPool(min(len(groups), PARALLEL)).imap(lambda group: post_in_order(group, timeout, allowed),
                                                           groups))
