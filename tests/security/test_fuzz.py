"""Schemathesis over the four OpenAPI documents, against the running test services.

Every operation is called with generated valid and invalid input (bounded: EXAMPLES of each per
operation and caller), anonymously and with a citizen's and an admin's token. Every answer must be
no server error and conform to the document: a documented status, content type, headers and
body schema. The counts per service are printed (`-s`), for the issue's note.

The pages are in the documents too (HTML answers, form bodies) and are fuzzed alike. A random
token names no subscriber, so an operation that takes a mail link's token is also called with
valid input by the holder of a live link (a fresh subscriber and token for each call): the pages
and their forms then do what they are for (confirm, save, unsubscribe, export, delete).
"""
import collections
import secrets
import uuid

import psycopg2
import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from services.notifications.domain import CONFIRM_LINK, MANAGE_LINK, token_hash
from shared import config
from shared.auth import mint

pytestmark = pytest.mark.integration

EXAMPLES = 8  # per operation, caller and mode: ~3,000 requests in all, about a minute
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
CALLERS = ("anonymous", "citizen", "admin")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
LINK_HOLDER = "link holder"  # a caller without a bearer token whose `token` is a live mail link's


def headers_of(caller):
    if caller in ("anonymous", LINK_HOLDER):
        return {}
    return {"Authorization": "Bearer " + mint(config.load("ideas").jwt_secret, f"fuzz-{caller}", [caller])}


def takes_link_token(operation):
    return any(param.name == "token" for param in operation.query)


def live_link(path):
    """The token of a fresh mail link: a confirmation link to a pending subscriber on confirm paths,
    else a "my data" link to a confirmed one."""
    purpose = CONFIRM_LINK if path.endswith("/confirm") else MANAGE_LINK
    token, subscriber = secrets.token_urlsafe(32), str(uuid.uuid4())
    with psycopg2.connect(config.load("notifications").database_url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO subscribers (id, email, language, digest, created_at, confirmed_at) VALUES"
                    " (%s, %s, 'de', 'immediate', now(), CASE WHEN %s THEN NULL ELSE now() END)",
                    (subscriber, f"fuzz-{subscriber}@example.org", purpose == CONFIRM_LINK))
        cur.execute("INSERT INTO link_tokens (token_hash, subscriber_id, purpose, created_at, expires_at)"
                    " VALUES (%s, %s, %s, now(), now() + interval '1 hour')",
                    (token_hash(token), subscriber, purpose))
    conn.close()
    return token


def fuzz(operation, base_url, session, caller, mode, tally):
    """Run one operation's examples; returns the first failure's text, or None."""
    headers = headers_of(caller)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def examples(case):
        if caller == LINK_HOLDER:
            case.query = {**(case.query or {}), "token": live_link(operation.path)}
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        tally[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        examples()
    except Unsatisfiable:  # no invalid input to make (an operation without parameters)
        return None
    except Exception as exc:  # a failed check: reported with the others, not one at a time
        return f"{operation.method.upper()} {operation.path} as {caller} ({mode.value}): {str(exc)[:1500]}"
    return None


@pytest.mark.parametrize("service", ["ideas", "voting", "notifications", "reporting"])
def test_no_input_makes_a_server_error_or_an_undocumented_answer(service, ideas_container, voting_container,
                                                                 notifications_container, reporting_container):
    base_url = "http://" + config.load(service).http_address
    schema = openapi.from_dict(requests.get(base_url + "/openapi.json", timeout=10).json())
    tally, failures = collections.Counter(), []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            runs = [(caller, mode) for caller in CALLERS for mode in MODES]
            if takes_link_token(operation):
                runs.append((LINK_HOLDER, GenerationMode.POSITIVE))
            for caller, mode in runs:
                failure = fuzz(operation, base_url, session, caller, mode, tally)
                if failure:
                    failures.append(failure)
    print(f"\nschemathesis {service}: {sum(tally.values())} requests, by status {dict(sorted(tally.items()))},"
          f" {len(failures)} failing operation/caller/mode combinations")
    assert sum(tally.values()) > 0
    assert not failures, "\n\n".join(failures)
