"""End to end: ideas posted over HTTP to the ideas service, counted by the reporting service."""
import random
from collections import Counter

import pytest

from shared.events import STATUSES
from tests.fixtures import wait_for
from tests.ideas.test_api import moderate, set_status, submit
from tests.reporting.helpers import domain_metrics, metric, wait_applied

pytestmark = pytest.mark.integration

# fate -> the staff steps after publishing
FATES = {"submitted": None, "rejected": None, "published": [], "shortlisted": ["shortlisted"],
         "pilot": ["shortlisted", "pilot"], "in_implementation": ["shortlisted", "pilot", "in_implementation"],
         "completed": ["shortlisted", "pilot", "in_implementation", "completed"]}


def idea_with_fate(ideas_api, auth, fate, **changes):
    """An idea taken to `fate` through the ideas API; returns how many events that emitted."""
    idea = submit(ideas_api, auth, **changes)
    if fate == "submitted":
        return 1
    moderate(ideas_api, auth, idea["id"], *(("reject", "Nicht umsetzbar") if fate == "rejected" else ()))
    for status in FATES[fate] or ():
        set_status(ideas_api, auth, idea["id"], status)
    return 2 + len(FATES[fate] or ())


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
    emitted = 0
    for i in range(60):
        fate = rng.choice(list(FATES))
        place = rng.choice([{"municipality": "gera", "field_of_action": "energie"},
                            {"municipality": "grossenhain", "field_of_action": "bildung"}])
        emitted += idea_with_fate(ideas_api, auth, fate, **place, channel=rng.choice(["form", "workshop"]),
                                  subject=f"citizen-{rng.randint(1, 25)}")
    events = stream.wait(None, emitted)
    assert len(events) == emitted
    wait_applied(reporting_sql, emitted)  # the live stream, in order
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
