"""The role matrix: every operation of every service's OpenAPI document, called by every kind of
caller, answers the status its row in tests/security/role_matrix.py says.

A new endpoint without a row fails `test_every_operation_has_a_row`, whose message is the row to
paste, with the statuses observed (check each before pasting: that is the review).
"""
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
import requests

from shared import config
from shared.auth import mint
from tests.security.role_matrix import CALLERS, OTHER_SUBJECT, OWNER, REQUESTS, ROWS

pytestmark = pytest.mark.integration

SERVICES = ("ideas", "voting", "notifications", "reporting")
PATH_DEFAULTS = {"slug": "gera", "dataset": "ideas"}  # any other path parameter is a UUID that names nothing


@pytest.fixture(scope="module")
def running(ideas_container, voting_container, notifications_container, reporting_container):
    """{service: base URL} of the four services, all running on their test databases."""
    return {name: "http://" + config.load(name).http_address for name in SERVICES}


def headers_of(caller):
    if caller == "none":
        return {}
    settings = config.load("ideas")
    subject, roles = (OTHER_SUBJECT, ["citizen", "moderator", "staff", "board_member"]) if caller == "other" \
        else (OWNER, [caller])
    return {"Authorization": "Bearer " + mint(settings.jwt_secret, subject, roles)}


def operations(base_url):
    """["METHOD /path"] of a service's live OpenAPI document."""
    document = requests.get(base_url + "/openapi.json", timeout=10).json()
    return sorted(f"{method.upper()} {path}" for path, methods in document["paths"].items() for method in methods)


# --- resources owned by OWNER, made afresh before each call that needs one --------------------

def _sql(service, query, params):
    with psycopg2.connect(config.load(service).database_url) as conn, conn.cursor() as cur:
        cur.execute(query, params)


def _subscriber():
    _sql("notifications", "DELETE FROM subscribers WHERE subject = %s", (OWNER,))
    _sql("notifications", "INSERT INTO subscribers (id, email, language, digest, subject, created_at, confirmed_at)"
         " VALUES (%s, %s, 'de', 'immediate', %s, now(), now())",
         (uuid.uuid4(), f"{uuid.uuid4().hex}@example.org", OWNER))
    return {}


def _feed_item():
    trigger, item = str(uuid.uuid4()), uuid.uuid4()
    _sql("notifications", "INSERT INTO triggers (event_id, type, occurred_at, content) VALUES (%s, 'Announcement',"
         " now(), '{}')", (trigger,))
    _sql("notifications", "INSERT INTO feed_items (id, subject, trigger_event_id, created_at) VALUES (%s, %s, %s,"
         " now())", (item, OWNER, trigger))
    return {"item_id": str(item)}


def _decision():
    idea, decision = uuid.uuid4(), uuid.uuid4()
    _sql("voting", "INSERT INTO ideas (id, municipality, field_of_action, title, status, status_at, ledger_head)"
         " VALUES (%s, 'gera', 'energie', 'Matrix', 'shortlisted', now(), 'genesis')", (idea,))
    _sql("voting", "INSERT INTO decisions (id, idea_id, board, quorum, majority_rule, deadline, opened_by, opened_at)"
         " VALUES (%s, %s, %s, 2, 'simple', %s, 'staff', now())",
         (decision, idea, [OWNER, "member-2", "member-3"], datetime.now(timezone.utc) + timedelta(days=7)))
    return {"decision_id": str(decision)}


def _meeting(registered=()):
    meeting = uuid.uuid4()
    _sql("ideas", "INSERT INTO meetings (id, municipality, kind, title, starts_at, ends_at, place, created_at,"
         " updated_at) VALUES (%s, 'gera', 'plenary', 'Matrix', now() + interval '7 days',"
         " now() + interval '7 days 2 hours', 'Rathaus', now(), now())", (meeting,))
    for attendee in registered:
        _sql("ideas", "INSERT INTO meeting_registrations (meeting_id, attendee_id, registered_at)"
             " VALUES (%s, %s, now())", (meeting, attendee))
        _sql("ideas", "UPDATE meetings SET registered = registered + 1 WHERE id = %s", (meeting,))
    return {"meeting_id": str(meeting)}


FIXTURES = {"subscriber": _subscriber, "feed_item": _feed_item, "decision": _decision, "meeting": _meeting,
            "registered_meeting": lambda: _meeting(registered=[OWNER])}


def call(base_url, service, operation, caller):
    """The status of one operation called by one caller, with the request its REQUESTS entry describes."""
    method, path = operation.split(" ", 1)
    request = REQUESTS.get((service, operation), {})
    values = FIXTURES[request["fixture"]]() if "fixture" in request else {}
    for name in _path_parameters(path):
        value = values.get(name) or PATH_DEFAULTS.get(name) or "00000000-0000-4000-8000-000000000000"
        path = path.replace("{" + name + "}", value)
    body = request.get("body", {}) if method in ("POST", "PUT", "PATCH") and "form" not in request else None
    response = requests.request(method, base_url + path, params=request.get("query"), json=body,
                                data=request.get("form"), headers=headers_of(caller), timeout=10)
    return response.status_code


def _path_parameters(path):
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def observed_row(base_url, service, operation):
    return tuple(call(base_url, service, operation, caller) for caller in CALLERS)


def test_every_operation_has_a_row_and_every_row_an_operation(running):
    missing, stale = [], []
    for service, base_url in running.items():
        live = operations(base_url)
        rows = ROWS.get(service, {})
        missing += [(service, op, observed_row(base_url, service, op)) for op in live if op not in rows]
        stale += [(service, op) for op in rows if op not in live]
    message = []
    if missing:
        message.append("Operations without a row in tests/security/role_matrix.py. Check each observed status\n"
                       f"(callers: {', '.join(CALLERS)}) and add the line to ROWS[service]:")
        message += [f'  ROWS["{service}"]:  "{op}": {statuses},' for service, op, statuses in missing]
    if stale:
        message.append("Rows for operations that no longer exist (remove them):")
        message += [f'  ROWS["{service}"]:  "{op}"' for service, op in stale]
    assert not message, "\n".join(message)


@pytest.mark.parametrize("service", SERVICES)
def test_each_caller_gets_the_status_of_its_row(running, service):
    wrong = []
    for operation, expected in ROWS[service].items():
        observed = observed_row(running[service], service, operation)
        if observed != expected:
            wrong.append(f'  "{operation}": expected {expected}, observed {observed}')
    assert not wrong, (f"{service}: callers {', '.join(CALLERS)}\n" + "\n".join(wrong))


def test_the_matrix_covers_every_kind_of_caller():
    assert CALLERS == ("none", "citizen", "moderator", "staff", "board_member", "admin", "other")
    assert all(len(statuses) == len(CALLERS) for rows in ROWS.values() for statuses in rows.values())
