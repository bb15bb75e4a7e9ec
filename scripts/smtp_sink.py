"""A local SMTP sink: accepts every mail and writes it as an .eml file a person can open.

    python -m scripts.smtp_sink --port 1025 --maildir var/mail --http-port 8025

`make run` starts it (mails in var/mail/, listed at http://127.0.0.1:8025/); the notifications
tests and the fan-out benchmark start their own. Nothing is ever relayed onwards.
"""
import argparse
import html
import itertools
import os
import signal
import ssl
import subprocess
import sys
import time
from email import policy
from email.parser import BytesHeaderParser, BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class EmlWriter:
    """aiosmtpd handler: one file per accepted mail, written atomically (tmp name, then rename)."""

    def __init__(self, maildir):
        self.maildir = Path(maildir)
        self.maildir.mkdir(parents=True, exist_ok=True)
        self.counter = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{os.getpid()}-{next(self.counter)}"
        temporary = self.maildir / f".{name}.tmp"
        temporary.write_bytes(envelope.original_content or envelope.content)
        temporary.rename(self.maildir / f"{name}.eml")
        return "250 Message accepted"


def mails(maildir):
    """The .eml files of a sink folder, oldest first."""
    return sorted(Path(maildir).glob("*.eml"))


def _index_page(maildir):
    rows = []
    for path in reversed(mails(maildir)):
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=policy.default).parse(handle)
        date, to, subject = (html.escape(str(headers[name] or "")) for name in ("Date", "To", "Subject"))
        link = f"<a href='/{path.name}'>{subject or '(no subject)'}</a>"
        rows.append(f"<tr><td>{date}</td><td>{to}</td><td>{link}</td></tr>")
    return ("<!doctype html><meta charset=utf-8><title>SmartCity mail sink</title>"
            f"<h1>Mails received ({len(rows)})</h1><p>Folder: {html.escape(str(maildir))}</p>"
            "<table border=1 cellpadding=4><tr><th>Date</th><th>To</th><th>Subject</th></tr>"
            + "".join(rows) + "</table>")


def _readable(path):
    """A mail's headers decoded and its plain-text part (the raw file is in the folder)."""
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    head = "\n".join(f"{name}: {message[name]}" for name in ("Date", "From", "To", "Subject") if message[name])
    body = message.get_body(("plain",))
    return f"{head}\n\n{body.get_content() if body is not None else '(no text part)'}"


def serve_http(maildir, port):
    """A read-only page listing the mails; each links to its decoded text."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.lstrip("/")
            if not name:
                self._send(200, "text/html; charset=utf-8", _index_page(maildir).encode())
            elif name.endswith(".eml") and "/" not in name and (Path(maildir) / name).is_file():
                self._send(200, "text/plain; charset=utf-8", _readable(Path(maildir) / name).encode())
            else:
                self._send(404, "text/plain", b"not found")

        def _send(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


def start(maildir, port, http_port=None, host="127.0.0.1", tls=None, login=None):
    """The sink as a subprocess (a plain Python process: aiosmtpd needs asyncio, not eventlet).

    tls: (certificate file, key file) to require STARTTLS; login: (user, password) to require AUTH.
    """
    command = [sys.executable, "-m", "scripts.smtp_sink", "--host", host, "--port", str(port),
               "--maildir", str(maildir)]
    if http_port:
        command += ["--http-port", str(http_port)]
    if tls:
        command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    if login:
        command += ["--user", login[0], "--password", login[1]]
    return subprocess.Popen(command, cwd=ROOT)


def _security(args):
    """aiosmtpd options for STARTTLS and AUTH, as a real submission server would demand them."""
    from aiosmtpd.smtp import AuthResult

    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            valid = auth_data.login == args.user.encode() and auth_data.password == args.password.encode()
            return AuthResult(success=valid, handled=False)  # aiosmtpd answers 235 or 535

        options.update(auth_required=True, authenticator=authenticator, auth_require_tls=bool(args.tls_cert))
    return options


def main(argv=None):
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", default=str(ROOT / "var" / "mail"))
    parser.add_argument("--http-port", type=int, help="also serve a page listing the mails")
    parser.add_argument("--tls-cert", help="require STARTTLS with this certificate (PEM) ...")
    parser.add_argument("--tls-key", help="... and its key")
    parser.add_argument("--user", help="require AUTH LOGIN/PLAIN with this user ...")
    parser.add_argument("--password", help="... and password")
    args = parser.parse_args(argv)
    controller = Controller(EmlWriter(args.maildir), hostname=args.host, port=args.port,
                            data_size_limit=10 * 1024 * 1024, **_security(args))
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"SMTP sink on {args.host}:{args.port}, mails in {args.maildir}", file=sys.stderr, flush=True)
    try:
        if args.http_port:
            serve_http(args.maildir, args.http_port)
        else:
            signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
