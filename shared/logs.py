"""Structured logs: one JSON object per line on stderr (SMARTCITY_LOG_FORMAT=text for humans).

Every HTTP request logs one line (shared.web.access_log: method, path, status, duration). A
refusal (4xx) is an answer, not a fault: no traceback. An unexpected error keeps the one
traceback nameko logs with it.
"""
import json
import logging
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
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


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
    logging.basicConfig(level=env("LOG_LEVEL", "INFO").upper(), handlers=[handler], force=True)
    logging.getLogger("nameko.containers").addFilter(ExpectedErrors())
    # werkzeug's access log would repeat shared.web's own request line
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)
