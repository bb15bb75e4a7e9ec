"""Structured logs: one JSON object per line on stderr (SMARTCITY_LOG_FORMAT=text for humans)."""
import json
import logging
import sys
import time

from shared.config import env


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure():
    handler = logging.StreamHandler(sys.stderr)
    if env("LOG_FORMAT", "json") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=env("LOG_LEVEL", "INFO").upper(), handlers=[handler], force=True)
    # werkzeug's per-request access log would double our metrics' job at INFO level
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)
