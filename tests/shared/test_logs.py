"""Logs as the README says: JSON lines, one per request with status and duration; a refusal (4xx) without
a traceback, an unexpected error (5xx) with exactly one."""
import json
import logging
import os

import pytest
import requests

from shared.logs import ExpectedErrors, JsonFormatter
from tests.conftest import SLOT
from tests.fixtures import sigterm_when

PORT = 18000 + 100 * SLOT + 21


@pytest.mark.integration
def test_a_running_service_logs_one_json_line_per_request_and_no_traceback_for_refusals(ideas_database):
    env = {**os.environ, "SMARTCITY_IDEAS_HTTP_ADDRESS": f"127.0.0.1:{PORT}", "SMARTCITY_LOG_FORMAT": "json"}
    base = f"http://127.0.0.1:{PORT}"
    answers = []

    def ready():
        try:
            if requests.get(base + "/health/ready", timeout=1).status_code != 200:
                return False
        except requests.ConnectionError:
            return False
        answers.append(requests.get(base + "/api/v1/municipalities/atlantis/fields", timeout=5).status_code)
        answers.append(requests.post(base + "/api/v1/ideas", json={}, timeout=5).status_code)
        answers.append(requests.get(base + "/api/v1/ideas?municipality=gera", timeout=5).status_code)
        return True

    code, _, stderr = sigterm_when("ideas", env, ready)
    assert code == 0 and answers == [404, 401, 200]
    tail = stderr.splitlines()[1:]  # (the first of the last 2,000 characters may be cut)
    lines = [json.loads(line) for line in tail]  # every line is JSON
    assert "Traceback" not in stderr
    requests_logged = [line for line in lines if line["logger"] == "smartcity.http"]
    by_path = {line["path"]: line for line in requests_logged}
    assert by_path["/api/v1/municipalities/atlantis/fields"]["status"] == 404
    assert by_path["/api/v1/ideas"]["status"] in (401, 200)
    assert all(isinstance(line["duration_ms"], float) and line["method"] in ("GET", "POST")
               for line in requests_logged)
    assert not any("exc" in line for line in lines), "a refusal is logged without a traceback"
    assert not any(line["msg"].startswith("(expected)") for line in lines)


class _Http:  # what nameko's worker context carries: the entrypoint that ran
    def __init__(self, entrypoint):
        self.entrypoint = entrypoint


def _record(message, args, exc_info=None, logger="nameko.containers", level=logging.WARNING):
    return logging.LogRecord(logger, level, __file__, 1, message, args, exc_info)


def test_an_unexpected_error_keeps_its_one_traceback_and_an_events_refusal_keeps_its_message():
    from nameko.web.handlers import HttpRequestHandler

    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        exc_info = (type(exc), exc, exc.__traceback__)
    http = _Http(HttpRequestHandler.__new__(HttpRequestHandler))
    expected = _record("(expected) error handling worker %s: %s", (http, "not found"), exc_info)
    assert ExpectedErrors().filter(expected) is False  # the request's own line says 404
    event = _record("(expected) error handling worker %s: %s", (_Http(object()), "not found"), exc_info)
    assert ExpectedErrors().filter(event) is True and event.exc_info is None  # message, no traceback
    crash = _record("error handling worker %s: %s", (http, "boom"), exc_info, level=logging.ERROR)
    assert ExpectedErrors().filter(crash) is True
    line = json.loads(JsonFormatter().format(crash))
    assert line["level"] == "error" and "RuntimeError: boom" in line["exc"]


def test_a_request_line_carries_its_fields():
    record = _record("%s %s %s", ("GET", "/dashboard", 200), logger="smartcity.http", level=logging.INFO)
    record.fields = {"method": "GET", "path": "/dashboard", "status": 200, "duration_ms": 3.2}
    line = json.loads(JsonFormatter().format(record))
    assert (line["msg"], line["status"], line["duration_ms"]) == ("GET /dashboard 200", 200, 3.2)


def test_no_log_line_shows_a_broker_or_database_password():
    """kombu names its URIs when it reconnects; psycopg2 and tracebacks may carry a DSN."""
    from shared.logs import MaskPasswords

    uri = "amqp://ideas:s3cr%40t@127.0.0.1:1/v;amqp://ideas:s3cr%40t@h2:5673/v"
    record = _record("Error connecting to broker at %s: refused", (uri,), logger="kombu")
    try:
        raise RuntimeError("could not connect to postgresql://smartcity_app:hunter2@db:5432/smartcity")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    record.fields = {"dsn": "postgres://owner:hunter2@db/x", "status": 503}
    assert MaskPasswords().filter(record) is True
    line = json.loads(JsonFormatter().format(record))
    text = json.dumps(line)
    assert "s3cr" not in text and "hunter2" not in text
    assert "amqp://ideas:****@127.0.0.1:1/v;amqp://ideas:****@h2:5673/v" in line["msg"]
    assert "postgresql://smartcity_app:****@db:5432/smartcity" in line["exc"]
    assert line["dsn"] == "postgres://owner:****@db/x" and line["status"] == 503
    plain = _record("connected to amqp://guest@h (no password)", ())
    MaskPasswords().filter(plain)
    assert plain.getMessage() == "connected to amqp://guest@h (no password)"


def test_the_configured_handler_masks_every_loggers_records(capsys):
    from shared import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure()
        logging.getLogger("kombu.connection").warning("retrying %s", "amqp://voting:topsecret@h:5672/")
        err = capsys.readouterr().err
        assert "retrying amqp://voting:****@h:5672/" in err and "topsecret" not in err
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
