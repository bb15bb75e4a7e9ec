"""The HTTP server's defence against slow and broken clients.

nameko's WebServer waits forever for a request's headers: a client that opens connections and
sends a header line now and then ("slowloris") holds a green thread and a socket per connection
for as long as it likes. Here:

- the request line and headers must arrive within SMARTCITY_HTTP_HEADER_TIMEOUT_SECONDS of the
  connection's first byte (of the request's first byte on a kept-alive connection); else 408 and
  the connection is closed;
- a socket silent for SMARTCITY_HTTP_READ_TIMEOUT_SECONDS is given up, and a request body must
  arrive within that time as a whole (`read_within`);
- an idle kept-alive connection waits at most KEEPALIVE_IDLE_SECONDS for its next request, longer
  than a proxy's usual upstream keep-alive (nginx: 60 s), so the proxy closes first;
- a connection that fails in any of these ways ends quietly: in nameko an error escaping a
  connection's thread would stop the whole service.
"""
import logging

import eventlet
from eventlet import wsgi
from nameko.web.server import HttpOnlyProtocol, WebServer
from werkzeug.exceptions import ClientDisconnected

from shared.config import settings_of

log = logging.getLogger(__name__)

KEEPALIVE_IDLE_SECONDS = 75
RESPONSE_408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class SlowClient(Exception):
    """The request line and headers did not arrive in time."""


class GuardedProtocol(HttpOnlyProtocol):
    _deadline = None
    _served = False

    def _read_request_line(self):
        if self._served and not self._next_request_arrives():
            self.close_connection = 1
            return ""
        self._served = True
        self._deadline = eventlet.Timeout(self.server.header_timeout, SlowClient())
        return super()._read_request_line()

    def _next_request_arrives(self):
        """Wait, as long as an idle kept-alive connection may, for the next request's first byte."""
        self.connection.settimeout(KEEPALIVE_IDLE_SECONDS)
        try:
            return bool(self.rfile.peek(1))
        except OSError:  # timed out, or the client went away
            return False
        finally:
            self.connection.settimeout(self.server.socket_timeout)

    def parse_request(self):
        try:
            return super().parse_request()
        finally:
            self._deadline.cancel()  # the headers are in; the body has its own limit

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except SlowClient:
            self.close_connection = 1
            try:
                self.wfile.write(RESPONSE_408)
            except OSError:
                pass
        finally:
            if self._deadline is not None:
                self._deadline.cancel()


class GuardedWebServer(WebServer):
    """nameko's WebServer with header and read timeouts; see the module docstring."""

    def get_wsgi_server(self, sock, wsgi_app, protocol=GuardedProtocol, debug=False):
        settings = settings_of(self.container)
        server = wsgi.Server(sock, sock.getsockname(), wsgi_app, protocol=protocol, debug=debug,
                             log=logging.getLogger("nameko.web.server"),
                             socket_timeout=settings.http_read_timeout)
        server.header_timeout = settings.http_header_timeout
        return server

    def process_request(self, sock, address):
        try:
            super().process_request(sock, address)
        except (OSError, SlowClient) as exc:  # timed out or went away: this connection's end, not the service's
            log.debug("connection from %s ended: %s", address, type(exc).__name__)
            sock.close()


def read_within(request, seconds):
    """The request body, or None when it did not arrive as a whole within `seconds`."""
    return _within(seconds, lambda: request.get_data(cache=False))


def form_within(request, seconds):
    """The request's form fields (werkzeug parses the body), or None when the body did not arrive
    as a whole within `seconds`."""
    return _within(seconds, lambda: request.form)


def _within(seconds, read):
    try:
        with eventlet.Timeout(seconds, False):
            return read()
    except (OSError, ClientDisconnected):  # the socket fell silent, or the client left mid-body
        pass
    return None
