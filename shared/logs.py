"""Structured logs: one JSON object per line on stderr (SMARTCITY_LOG_FORMAT=text for humans).

Every HTTP request logs one line (shared.web.access_log: method, path, status, duration). A
refusal (4xx) is an answer, not a fault: no traceback. An unexpected error keeps the one
traceback nameko logs with it. No record shows a password: `MaskPasswords` rewrites every
`amqp://user:PASSWORD@` and `postgresql://user:PASSWORD@` (kombu names its URIs when it reconnects).
"""
import json
import logging
import re
import sys
import time

from nameko.web.handlers import HttpRequestHandler

from shared.config import env


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info or record.exc_text:
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# scheme://user:password@ (the user may be empty; a password never holds a raw @, URLs escape it)
_SECRET_IN_URL = re.compile(r"\b((?:amqps?|pyamqp|postgres(?:ql)?)://[^:/@\s;]*):[^@\s;]*@", re.IGNORECASE)
MASK = "****"


def mask_passwords(text):
    """`text` with the password of every AMQP or PostgreSQL URL in it replaced by ****."""
    return _SECRET_IN_URL.sub(rf"\1:{MASK}@", text)


class MaskPasswords(logging.Filter):
    """On the handler: every record's message, traceback and fields leave with passwords masked."""

    def filter(self, record):
        message = record.getMessage()
        masked = mask_passwords(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_passwords(record.exc_text)
        fields = getattr(record, "fields", None)
        if fields:
            record.fields = {key: mask_passwords(value) if isinstance(value, str) else value
                             for key, value in fields.items()}
        return True


class ExpectedErrors(logging.Filter):
    """nameko logs an expected error (a refusal) with its traceback: drop it for HTTP workers, whose
    access line says the status, and keep only the message for the others (events, RPC)."""

    def filter(self, record):
        if not record.getMessage().startswith("(expected)"):
            return True
        worker_ctx = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if isinstance(getattr(worker_ctx, "entrypoint", None), HttpRequestHandler):
            return False
        record.exc_info = record.exc_text = None
        return True


def configure():
    handler = logging.StreamHandler(sys.stderr)
    if env("LOG_FORMAT", "json") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPasswords())  # on the handler: it sees every logger's records
    logging.basicConfig(level=env("LOG_LEVEL", "INFO").upper(), handlers=[handler], force=True)
    logging.getLogger("nameko.containers").addFilter(ExpectedErrors())
    # werkzeug's access log would repeat shared.web's own request line
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)
