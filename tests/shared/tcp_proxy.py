"""A TCP proxy a test can cut: the dependency behind it "goes away" without touching the machine's own
PostgreSQL or RabbitMQ (which other checkouts use). Green (the tests run monkey-patched)."""
import socket

import eventlet


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`. `cut()` closes every connection and refuses new ones
    (connection refused, as a stopped server); `restore()` accepts again on the same port."""

    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self._pipes = set()
        self._pumps = set()
        self._listener = self._server = None
        self.open = False
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.restore()

    def restore(self):
        if self.open:
            return
        self.open = True
        self._listener = eventlet.listen(("127.0.0.1", self.port))
        self._server = eventlet.spawn(self._accept, self._listener)

    def cut(self):
        if not self.open:
            return
        self.open = False
        self._server.kill()
        self._listener.close()
        # Kill the pumps before closing their sockets: a green thread left waiting on a closed socket's
        # file descriptor would clash with the next socket given the same number (psycopg2's, say).
        for pump in list(self._pumps):
            pump.kill()
        self._pumps.clear()
        for conn in list(self._pipes):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self._pipes.clear()

    def close(self):
        self.cut()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except (OSError, EOFError):
                return
            try:
                upstream = eventlet.connect(self.target)
            except OSError:
                client.close()
                continue
            self._pipes.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                pump = eventlet.spawn(self._pump, source, sink)
                self._pumps.add(pump)
                pump.link(self._pumps.discard)

    def _pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except (OSError, EOFError):  # cut: eventlet says EOFError to a reader whose socket was closed
            pass
        finally:
            for conn in (source, sink):
                self._pipes.discard(conn)
                try:
                    conn.close()
                except OSError:
                    pass

    @property
    def url_netloc(self):
        return f"127.0.0.1:{self.port}"
