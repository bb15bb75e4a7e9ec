"""Rate limits on the real services: 429 with Retry-After once a route's budget is used up, per
token subject and per client address, counted once across replicas (state in PostgreSQL).

The rest of the suite runs with SMARTCITY_RATE_LIMITS=off (every test comes from 127.0.0.1);
here each test starts replicas of a service with limits on.
"""
import time
import uuid

import pytest
import requests

from services.ideas.service import IdeasService
from services.notifications.service import NotificationsService
from services.voting.service import VotingService

pytestmark = pytest.mark.integration

IDEA = {"municipality": "gera", "title": "Solardächer auf Schulen", "field_of_action": "energie",
        "description": "Alle Schuldächer mit Photovoltaik ausstatten.", "channel": "form"}


def statuses(responses):
    return [response.status_code for response in responses]


def test_one_token_cannot_submit_a_thousand_ideas(ideas_service, replica, auth):
    base = replica(IdeasService)
    headers = auth("citizen", subject="spammer")
    answers = [requests.post(f"{base}/api/v1/ideas", json=IDEA, headers=headers, timeout=10) for _ in range(32)]
    assert statuses(answers) == [201] * 30 + [429] * 2  # the default: 30 an hour per subject
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert 100 <= int(refused.headers["Retry-After"]) <= 120  # one idea's share of the hour
    # another subject from the same address still gets through
    other = requests.post(f"{base}/api/v1/ideas", json=IDEA, headers=auth("citizen", subject="someone"), timeout=10)
    assert other.status_code == 201


def test_votes_are_limited_per_subject_across_replicas(voting_service, replica, auth):
    env = {"SMARTCITY_VOTING_RATE_LIMIT_CAST_VOTE": "subject=10/minute,address=1000/minute"}
    first, second = replica(VotingService, **env), replica(VotingService, **env)
    headers = auth("citizen", subject="eager-voter")
    answers = [requests.post(f"{base}/api/v1/ideas/{uuid.uuid4()}/votes", headers=headers, timeout=10)
               for _ in range(6) for base in (first, second)]
    # 404: no such idea, but every attempt counts, on whichever replica it lands
    assert statuses(answers) == [404] * 10 + [429] * 2
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 6


def test_anonymous_subscriptions_are_limited_per_client_address_behind_the_ingress(notifications_container,
                                                                                   replica):
    base = replica(NotificationsService, SMARTCITY_TRUSTED_PROXIES="127.0.0.0/8")

    def subscribe(n, client):
        return requests.post(f"{base}/api/v1/subscribers", json={"email": f"person-{n}@example.org"},
                             headers={"X-Forwarded-For": client}, timeout=10)

    answers = [subscribe(n, "198.51.100.7") for n in range(31)]
    assert statuses(answers) == [202] * 30 + [429]  # the default: 30 an hour per address
    assert subscribe(99, "198.51.100.8").status_code == 202  # the next client has a budget of its own
    # what the client itself claims in front of the address the ingress saw is not believed
    assert subscribe(100, "203.0.113.1, 198.51.100.7").status_code == 429


ANONYMOUS_WRITES = [  # (path, form) of writes anyone may make without a token
    ("/api/v1/unsubscribe", None),
    # the pages' buttons (issue 15) are anonymous writes like any other
    ("/unsubscribe", {"List-Unsubscribe": "One-Click"}),  # also a mail client's one-click unsubscribe
    ("/confirm", {}),
    ("/my-data", {"language": "en", "digest": "daily"}),
    ("/my-data/delete", {}),
]


def test_every_anonymous_write_is_limited_by_default(notifications_container, replica):
    base = replica(NotificationsService)
    document = requests.get(f"{base}/openapi.json", timeout=10).json()
    for path, form in ANONYMOUS_WRITES:  # each route has a budget of its own
        started = time.monotonic()
        with requests.Session() as session:
            answers = [session.post(f"{base}{path}?token={'x' * 43}", data=form, timeout=10) for _ in range(70)]
        elapsed = time.monotonic() - started
        # 60 a minute per address: a burst of 60, then one more each second that has passed
        passed = statuses(answers).index(429)
        assert 60 <= passed <= 60 + int(elapsed) + 1, path
        assert statuses(answers)[:60] == [404] * 60, path  # the token names nothing
        refused = answers[passed]
        assert int(refused.headers["Retry-After"]) >= 1
        if not path.startswith("/api/"):  # a page answers as a page
            assert refused.headers["Content-Type"].startswith("text/html") and "zu viele Anfragen" in refused.text
        assert "address=60/minute" in document["paths"][path]["post"]["responses"]["429"]["description"]


def test_the_openapi_document_says_which_routes_may_answer_429(ideas_service, replica):
    document = requests.get(replica(IdeasService) + "/openapi.json", timeout=10).json()
    submit = document["paths"]["/api/v1/ideas"]["post"]["responses"]["429"]
    assert "subject=30/hour,address=300/hour" in submit["description"]
    assert "429" not in document["paths"]["/api/v1/ideas"]["get"]["responses"]
