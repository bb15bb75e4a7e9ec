"""Input that used to answer 500 with a traceback: each now gets a 4xx naming what was wrong.

Found by hand and by schemathesis (issue 11): NUL characters and lone surrogates anywhere a
string enters, JSON nested 1,000 deep, a UTC offset no time zone has, a path slug in capitals.
The pages (issue 15) refuse the same input in their query, form, path and headers with a page.
"""
import json
import socket

import pytest

from services.notifications.service import NotificationsService
from shared.auth import mint

pytestmark = pytest.mark.integration

IDEA = {"municipality": "gera", "title": "Digitale Parkplatzsuche", "field_of_action": "energie",
        "description": "Sensoren an Parkplätzen melden freie Plätze.", "channel": "form"}


def test_a_nul_character_in_a_body_string_is_422_naming_the_field(ideas_api, auth, ideas_sql):
    response = ideas_api("POST", "/api/v1/ideas", json={**IDEA, "title": "Solar\u0000dach"}, headers=auth("citizen"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == {"title": ["must not contain NUL characters"]}
    assert ideas_sql("SELECT count(*) FROM ideas") == [(0,)]


def test_a_lone_surrogate_in_a_body_string_is_422_naming_the_field(ideas_api, auth):
    body = json.dumps({**IDEA, "description": "Sensoren SURROGATE an Parkplätzen melden freie Plätze."})
    body = body.replace("SURROGATE", "\\ud800")  # JSON's escape of a lone surrogate, as a client may send it
    response = ideas_api("POST", "/api/v1/ideas", data=body,
                         headers={**auth("citizen"), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == {"description": ["must be valid Unicode text"]}


def test_a_nul_in_a_list_item_or_a_key_names_its_place(voting_api, auth):
    body = {"idea_id": "6f1c1d6e-8d4c-4c55-9a57-4b8f3b0c2a11", "board": ["a", "b\u0000"], "quorum": 1,
            "deadline": "2031-01-01T00:00:00+01:00"}
    response = voting_api("POST", "/api/v1/decisions", json=body, headers=auth("staff"))
    assert response.status_code == 422 and response.json()["error"]["fields"] == {
        "board.1": ["must not contain NUL characters"]}
    response = voting_api("POST", "/api/v1/decisions", json={**body, "board": ["a"], "x\u0000": 1},
                          headers=auth("staff"))
    assert response.status_code == 422 and "_schema" in response.json()["error"]["fields"]


@pytest.mark.parametrize("query, field", [("q=%00", "q"), ("working_group=AG%00Energie", "working_group"),
                                          ("municipality=gera&q=Solar%00", "q")])
def test_a_nul_character_in_a_query_argument_is_422_naming_it(ideas_api, query, field):
    response = ideas_api("GET", f"/api/v1/ideas?{query}")
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


def test_a_nul_character_in_a_path_segment_is_422(ideas_api):
    response = ideas_api("GET", "/api/v1/municipalities/%00/fields")
    assert response.status_code == 422, response.text
    assert "slug" in response.json()["error"]["fields"]


def test_a_nul_character_in_a_header_is_400(ideas_api):
    response = ideas_api("GET", "/api/v1/ideas", headers={"X-Trace": "a\x00b"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_header"


@pytest.mark.parametrize("subject", ["alice\x00", "\ud800", "x" * 256])
def test_a_token_whose_subject_is_not_storable_text_is_401(ideas_api, ideas_settings, subject):
    token = mint(ideas_settings.jwt_secret, subject, ["citizen"])
    response = ideas_api("POST", "/api/v1/ideas", json=IDEA, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text


def test_json_nested_a_thousand_deep_is_400_before_it_is_parsed(ideas_api, auth):
    body = '{"title": ' + "[" * 1000 + "]" * 1000 + "}"
    response = ideas_api("POST", "/api/v1/ideas", data=body,
                         headers={**auth("citizen"), "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_json"


def test_brackets_inside_strings_do_not_count_as_nesting(ideas_api, auth):
    response = ideas_api("POST", "/api/v1/ideas", json={**IDEA, "description": "[{" * 100 + " Beschreibung"},
                         headers=auth("citizen"))
    assert response.status_code == 201, response.text


def test_a_utc_offset_no_time_zone_has_is_422_naming_the_field(voting_api, auth):
    body = {"municipality": "gera", "title": "Runde 1", "budget": 3,
            "opens_at": "2021-01-01T00:00:00+17:10", "closes_at": "2021-02-01T00:00:00+01:00"}
    response = voting_api("POST", "/api/v1/rounds", json=body, headers=auth("staff"))
    assert response.status_code == 422, response.text
    assert "opens_at" in response.json()["error"]["fields"]


def test_a_municipality_slug_in_capitals_is_a_4xx_not_an_rpc_fault(voting_api, auth):
    response = voting_api("PUT", "/api/v1/municipalities/GERA/support-threshold", json={"threshold": 10},
                          headers=auth("staff"))
    assert 400 <= response.status_code < 500, response.text


# --- the pages (issue 15): the same refusals, each answered as a page in the reader's language -----

UNKNOWN = "x" * 43  # a mail link's token that names nothing


def is_page(response):
    return response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("query, field", [(f"token={UNKNOWN}%00", "token"), (f"token={UNKNOWN}&lang=en%00", "lang"),
                                          (f"token={UNKNOWN}&x%00=1", "_name")])
def test_a_nul_character_in_a_pages_query_is_a_422_page_naming_it(notifications_api, query, field):
    response = notifications_api("GET", f"/confirm?{query}", headers={"Accept-Language": "en"})
    assert response.status_code == 422 and is_page(response), response.text
    assert f"Please check your input: {field}" in response.text


@pytest.mark.parametrize("body, field", [
    ("language=en%00&digest=daily", "language"), ("language=en&digest=daily&x%00=1", "_name"),
    ("language=en&digest=daily&subscriptions=announcements%3Agera%00", "subscriptions"),
    ("language=%ED%A0%80&digest=daily", "language"),  # werkzeug decodes the surrogate's bytes to U+FFFD
])
def test_a_nul_character_or_a_surrogate_in_a_pages_form_is_a_422_page_naming_it(notifications_api, body, field):
    response = notifications_api("POST", f"/my-data?token={UNKNOWN}&lang=en", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422 and is_page(response), response.text
    assert f"Please check your input: {field}" in response.text


@pytest.mark.parametrize("path", ["/ideas/%00", "/ideas/%ED%A0%80", "/ideas/not-an-id"])
def test_a_bad_path_value_of_a_page_is_a_422_page_naming_it(reporting_api, path):
    response = reporting_api("GET", f"{path}?lang=en")
    assert response.status_code == 422 and is_page(response), response.text
    assert "Please check your input: idea_id" in response.text


def test_a_lone_surrogate_in_a_pages_query_is_a_4xx_page(notifications_api):
    response = notifications_api("GET", f"/my-data?token={UNKNOWN}%ED%A0%80")
    assert 400 <= response.status_code < 500 and is_page(response), response.text


def test_a_nul_character_in_a_header_to_a_page_is_a_400_page(notifications_api):
    response = notifications_api("GET", f"/unsubscribe?token={UNKNOWN}", headers={"X-Trace": "a\x00b"})
    assert response.status_code == 400 and is_page(response), response.text



def test_a_pages_form_that_arrives_too_slowly_is_a_408_page(notifications_container, replica):
    host, port = replica(NotificationsService, SMARTCITY_HTTP_READ_TIMEOUT_SECONDS="1")[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /my-data?token={UNKNOWN} HTTP/1.1\r\nHost: test\r\nContent-Length: 40\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n\r\nlanguage=en".encode())
        answer = b""  # 11 of the 40 bytes came, then silence
        while b"\r\n\r\n" not in answer and (chunk := conn.recv(65536)):
            answer += chunk
    head = answer.split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 408") and "content-type: text/html" in head, head
