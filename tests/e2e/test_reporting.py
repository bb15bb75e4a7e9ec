"""End to end: ideas posted over HTTP to the ideas service, counted by the reporting service."""
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from shared.events import STATUSES
from tests.fixtures import wait_for
from tests.ideas.test_api import board_approves, moderate, set_status, submit
from tests.reporting.helpers import domain_metrics, metric, wait_applied

pytestmark = pytest.mark.integration

# fate -> the steps after publishing (staff's, and the board's "pilot")
FATES = {"submitted": None, "rejected": None, "published": [], "shortlisted": ["shortlisted"],
         "pilot": ["shortlisted", "pilot"], "in_implementation": ["shortlisted", "pilot", "in_implementation"],
         "completed": ["shortlisted", "pilot", "in_implementation", "completed"]}


def idea_with_fate(ideas_api, auth, publish_event, fate, **changes):
    """An idea taken to `fate` through the ideas API (a pilot by the board's PilotApproved, as only the board
    makes one); returns how many events the ideas service emitted and whether the board decided."""
    idea = submit(ideas_api, auth, **changes)
    if fate == "submitted":
        return 1, False
    moderate(ideas_api, auth, idea["id"], *(("reject", "Nicht umsetzbar") if fate == "rejected" else ()))
    for status in FATES[fate] or ():
        if status == "pilot":
            board_approves(ideas_api, publish_event, idea)
        else:
            assert set_status(ideas_api, auth, idea["id"], status).status_code == 200
    return 2 + len(FATES[fate] or ()), "pilot" in (FATES[fate] or ())


def ideas_service_counts(ideas_api, auth):
    """{(municipality, status): ideas} as the ideas service itself reports them (staff see everything)."""
    return {(municipality, status): ideas_api("GET", f"/api/v1/ideas?municipality={municipality}&status={status}"
                                              "&page_size=1", headers=auth("staff")).json()["total"]
            for municipality in ("gera", "grossenhain") for status in STATUSES}


def reporting_counts(reporting_api):
    """The same from the reporting API and from /metrics."""
    api, metrics = {}, Counter()
    for municipality in ("gera", "grossenhain"):
        by_status = reporting_api("GET", f"/api/v1/summary?municipality={municipality}").json()["ideas"]["by_status"]
        api.update({(municipality, status): by_status.get(status, 0) for status in STATUSES})
    for (name, labels), value in domain_metrics(reporting_api).items():
        if name == "smartcity_reporting_ideas":
            labels = dict(labels)
            metrics[labels["municipality"], labels["status"]] += int(value)
    return api, {key: metrics.get(key, 0) for key in api}


def test_an_idea_posted_over_http_is_counted_in_the_api_and_in_the_metrics(ideas_api, auth, reporting_api,
                                                                           reporting_sql):
    submit(ideas_api, auth, field_of_action="umwelt", channel="workshop")
    wait_applied(reporting_sql, 1)
    summary = reporting_api("GET", "/api/v1/summary?municipality=gera").json()
    assert summary["ideas"]["by_status"] == {"submitted": 1}
    assert summary["participants"] == 1
    samples = domain_metrics(reporting_api)
    assert metric(samples, "smartcity_reporting_ideas", municipality="gera", field="umwelt", status="submitted",
                  channel="workshop") == 1
    assert metric(samples, "smartcity_reporting_events_applied_total", type="IdeaSubmitted") == 1
    assert metric(samples, "smartcity_reporting_event_lag_seconds_count", type="IdeaSubmitted") == 1


def test_a_burst_of_1000_events_shuffled_and_duplicated_agrees_with_the_ideas_service(
        ideas_api, auth, reporting_api, reporting_sql, publish_event, tap):
    rng = random.Random(2026)
    stream = tap("ideas.events")
    emitted = board_decisions = 0
    for i in range(60):
        fate = rng.choice(list(FATES))
        place = rng.choice([{"municipality": "gera", "field_of_action": "energie"},
                            {"municipality": "grossenhain", "field_of_action": "bildung"}])
        ideas_events, board = idea_with_fate(ideas_api, auth, publish_event, fate, **place,
                                             channel=rng.choice(["form", "workshop"]),
                                             subject=f"citizen-{rng.randint(1, 25)}")
        emitted, board_decisions = emitted + ideas_events, board_decisions + board
    events = stream.wait(None, emitted)
    assert len(events) == emitted
    wait_applied(reporting_sql, emitted + board_decisions)  # the live stream (the board's too), in order
    expected = ideas_service_counts(ideas_api, auth)
    assert reporting_counts(reporting_api) == (expected, expected)

    reporting_sql("TRUNCATE event_log, ideas, participants, event_counts, activity, event_lag")
    burst = events + [rng.choice(events) for _ in range(1000 - len(events))]
    rng.shuffle(burst)
    for event in burst:
        publish_event("ideas", event["type"], envelope=event)
    wait_applied(reporting_sql, emitted)
    wait_for(lambda: reporting_sql("SELECT sum(events) FROM event_counts")[0][0] == emitted)
    api, metrics = reporting_counts(reporting_api)
    assert api == expected
    assert metrics == expected
    assert sum(expected.values()) == 60


def test_reporting_ranks_as_voting_does(ideas_api, auth, voting_api, reporting_api, reporting_sql):
    """One ranking rule (shared.domain.RANKING): the same order in both services, ties by publication."""
    ideas = []
    for title in ("Erste", "Zweite", "Dritte", "Ohne Stimmen"):  # published in this order
        idea = submit(ideas_api, auth, title=title, field_of_action="energie")
        assert moderate(ideas_api, auth, idea["id"]).status_code == 200
        ideas.append(idea["id"])
    wait_for(lambda: all(voting_api("GET", f"/api/v1/ideas/{idea}").status_code == 200 for idea in ideas),
             message="voting knows the ideas")
    now = datetime.now(timezone.utc)
    response = voting_api("POST", "/api/v1/rounds", headers=auth("staff"), json={
        "municipality": "gera", "title": "Runde", "budget": 3, "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=1)).isoformat()})
    assert response.status_code == 201, response.text
    first, second, third, _ = ideas
    for idea, citizen in ((third, "c"), (second, "b"), (first, "a"), (first, "b")):  # third reaches 1 first
        assert voting_api("POST", f"/api/v1/ideas/{idea}/votes", headers=auth("citizen", subject=citizen)).ok
    in_voting = [(r["idea_id"], r["total"]) for r in voting_api("GET", "/api/v1/rankings?municipality=gera").json()]
    assert in_voting == [(first, 2), (second, 1), (third, 1), (ideas[3], 0)]

    def in_reporting():
        ranking = reporting_api("GET", "/api/v1/rankings?municipality=gera").json()
        return [(r["idea_id"], r["support"]) for r in ranking]
    wait_for(lambda: in_reporting() == in_voting, message="reporting ranks as voting does")
